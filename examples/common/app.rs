//! The application both firmware examples run: HAL-independent, included by each example's
//! `main.rs` with `#[path = "../../common/app.rs"] mod app;`, which then calls [`start`].
//!
//! The including crate defines the logging macros `info!`, `warn!` and `debug!` before the
//! `mod app;` line (`log` on the ESP32-C3, `defmt` on the nRF52840); the format strings here
//! use only `{}` and `{:?}` so that both accept them.
//!
//! What it does, as a product would:
//! - one loop owns the modem and its event queue; it waits for an event or the next deadline
//!   (`Events::next` is cancel-safe, so it sits in a `select` with a timer), then lets the
//!   driver's [`Supervisor`] work: bring-up (`init`, TLS with feature `tls`, `configure`,
//!   `connect`), `AT+MQTTSTATE` polls, reconnects with backoff and jitter, the whole bring-up
//!   again after a modem restart, re-subscribing, and pulsing the reset pin when the modem
//!   stays silent. Every [`LinkEvent`] is logged;
//! - registers `devices/<id>/cmd` with the supervisor, which subscribes on every connect;
//! - publishes a JSON telemetry message every [`TELEMETRY_PERIOD`] while connected;
//! - answers commands (`ping`, `led on`, `led off`, `status`) on `devices/<id>/reply`.
//!
//! With the `driver-only` feature the same loop runs with the application logic (JSON,
//! command parsing, LED) compiled out: every driver call the product makes, and nothing else.
//!
//! With the `e2e` feature (the emulated boards under test) these commands serve the end-to-end
//! test: `exit` is answered, then ends the run through the including crate's `exit()` (its
//! verdict); `blob <n>` publishes `n` bytes of [`blob_byte`] on `devices/<id>/blob`; `rate <n>`
//! publishes `n` messages of 64 bytes there back to back and reports how long it took; every
//! message on `devices/<id>/bin` is answered with its length and FNV-1a hash, so that the test
//! checks large payloads byte for byte both ways; and `cost publish <n>` / `cost incoming <n>`
//! report the core's busy time per 64-byte publish / incoming message (the including crate's
//! `busy_ns()`: instructions, under QEMU's `-icount shift=0`).

use embassy_futures::select::{Either, select};
use embassy_time::{Duration, Instant, Timer};
use embedded_hal::digital::OutputPin;
use embedded_io_async::{Read, Write};
use heapless::Vec;
use mqtt_modem::{
    Config, Event, Events, LinkEvent, ModemReset, MqttModem, Options, Policy, Qos, ResetPin,
    Resources, Runner, Stats, Supervisor,
};
use static_cell::StaticCell;

// ---------------------------------------------------------------------------------------------
// Memory: every buffer of the driver, sized here.

/// UART receive buffer: must hold the largest incoming `+MQTTRECV` line (header + payload).
pub const INGRESS: usize = 1152;
/// The information lines of one command answer.
pub const RESPONSE: usize = 256;
/// The queue of incoming messages and events waiting for the application.
pub const EVENTS: usize = 2048;
/// The buffer one incoming message is copied into (topic + payload).
pub const MESSAGE_BUF: usize = 512;

/// The driver's memory, in a `static` through `static_cell` (see [`start`]).
pub type ModemResources = Resources<INGRESS, RESPONSE, EVENTS>;
/// The module's command set: the UC8088's, or ESP-AT's / Quectel's with the `esp-at` /
/// `quectel` feature. Nothing else in the application changes with it.
#[cfg(not(any(feature = "esp-at", feature = "quectel")))]
pub type ModemDialect = mqtt_modem::Uc8088;
/// The module's command set (see above).
#[cfg(feature = "esp-at")]
pub type ModemDialect = mqtt_modem::EspAt;
/// The module's command set (see above).
#[cfg(all(feature = "quectel", not(feature = "esp-at")))]
pub type ModemDialect = mqtt_modem::Quectel;
/// The application's handle on the modem over the UART's transmit half `W`.
pub type Modem<W> = MqttModem<'static, W, ModemDialect, RESPONSE, EVENTS>;
/// The driver's receive task over the UART's receive half `R`: the example spawns it.
pub type ModemRunner<R> = Runner<'static, R, ModemDialect, RESPONSE, EVENTS>;

// ---------------------------------------------------------------------------------------------
// Settings, from the build environment (`MQTT_HOST=... cargo build --release`) or defaults.

const fn env_or(value: Option<&'static str>, default: &'static str) -> &'static str {
    match value {
        Some(v) => v,
        None => default,
    }
}

/// A number from the build environment (`MQTT_PORT`, `MQTT_TELEMETRY_S`, `MQTT_POLL_S`),
/// checked at compile time.
const fn parse_u16(s: &str) -> u16 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v: u32 = 0;
    assert!(
        !b.is_empty(),
        "a number setting (MQTT_PORT, ..._S) is empty"
    );
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "a number setting (MQTT_PORT, ..._S) is not a number"
        );
        v = v * 10 + (b[i] - b'0') as u32;
        assert!(
            v <= u16::MAX as u32,
            "a number setting (MQTT_PORT, ..._S) is too large"
        );
        i += 1;
    }
    v as u16
}

/// Broker host name or address.
pub const HOST: &str = env_or(option_env!("MQTT_HOST"), "broker.example.com");
/// Broker port (1883 plain, 8883 TLS).
pub const PORT: u16 = parse_u16(env_or(
    option_env!("MQTT_PORT"),
    if cfg!(feature = "tls") {
        "8883"
    } else {
        "1883"
    },
));
/// MQTT client id; also the `<id>` of the topics.
pub const CLIENT_ID: &str = env_or(option_env!("MQTT_CLIENT_ID"), "mqtt-modem-demo");
/// User name; empty for none.
pub const USERNAME: &str = env_or(option_env!("MQTT_USERNAME"), "");
/// Password; empty for none.
pub const PASSWORD: &str = env_or(option_env!("MQTT_PASSWORD"), "");
/// MQTT keepalive.
pub const KEEPALIVE_S: u16 = 60;

/// The root CA that verifies the broker, PEM, at most 1536 bytes (the modem's limit).
/// `examples/certs/root-ca.pem` is a placeholder: replace it with your broker's CA.
#[cfg(feature = "tls")]
pub const ROOT_CA: &str = include_str!("../certs/root-ca.pem");
#[cfg(feature = "tls")]
const _: () = assert!(
    ROOT_CA.len() <= 1536,
    "root CA larger than the modem's 1536 bytes"
);

/// How often telemetry is published (`MQTT_TELEMETRY_S`, 30 s by default).
pub const TELEMETRY_PERIOD: Duration =
    Duration::from_secs(parse_u16(env_or(option_env!("MQTT_TELEMETRY_S"), "30")) as u64);

/// How often the supervisor polls the modem's state (`MQTT_POLL_S`, 10 s by default).
pub const POLL_PERIOD: Duration =
    Duration::from_secs(parse_u16(env_or(option_env!("MQTT_POLL_S"), "10")) as u64);

/// How the supervisor keeps the link: the state polled every [`POLL_PERIOD`], reconnects after
/// 1 s doubling up to 60 s (jittered), the reset pin after two silent polls or bring-ups in a row.
fn policy() -> Policy {
    Policy {
        poll_interval: Some(POLL_PERIOD),
        backoff_initial: Duration::from_secs(1),
        backoff_max: Duration::from_secs(60),
        silent_limit: 2,
        jitter_seed: jitter_seed(CLIENT_ID),
    }
}

/// A per-device jitter seed (FNV-1a of the client id), so that a fleet spreads its reconnects.
const fn jitter_seed(id: &str) -> u32 {
    let b = id.as_bytes();
    let mut h: u32 = 0x811C_9DC5;
    let mut i = 0;
    while i < b.len() {
        h = (h ^ b[i] as u32).wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}

/// The modem's reset line (active low): a 100 ms pulse, then 3 s to boot.
#[allow(dead_code)] // the emulated boards have no reset line
pub fn reset_pin<P: OutputPin>(pin: P) -> ResetPin<P> {
    ResetPin {
        pin,
        pulse: Duration::from_millis(100),
        boot: Duration::from_millis(3000),
    }
}

// ---------------------------------------------------------------------------------------------
// Start-up, shared by both examples.

/// A status LED, switched by the `led on`/`led off` commands.
pub struct Led<P> {
    pub pin: P,
    /// Whether driving the pin low lights the LED.
    pub active_low: bool,
}

impl<P: OutputPin> Led<P> {
    fn set(&mut self, on: bool) {
        let _ = if on != self.active_low {
            self.pin.set_high()
        } else {
            self.pin.set_low()
        };
    }
}

/// Puts the driver's [`Resources`] in a `static`, splits the UART halves into the modem,
/// its runner and its events, hands the runner to `spawn_runner` (the example's task, whose
/// type names the HAL's receive half), and runs the product forever.
///
/// `reset` is [`reset_pin`] on a board whose modem reset line is wired, else
/// [`mqtt_modem::NoReset`].
pub async fn start<R, W, M, L>(
    rx: R,
    tx: W,
    reset: M,
    led: Led<L>,
    spawn_runner: impl FnOnce(ModemRunner<R>),
) -> !
where
    R: Read,
    W: Write,
    M: ModemReset,
    L: OutputPin,
{
    static RESOURCES: StaticCell<ModemResources> = StaticCell::new();
    let (mut modem, runner, events) = MqttModem::with_dialect(
        ModemDialect::default(),
        RESOURCES.init(ModemResources::new()),
        rx,
        tx,
        Options::default(),
    );
    spawn_runner(runner);
    run(&mut modem, events, reset, led).await
}

// ---------------------------------------------------------------------------------------------
// The application loop.

/// The topics, `devices/<id>/{cmd,reply,telemetry}` (and, for the end-to-end test, `bin` and
/// `blob`).
struct Topics {
    cmd: Topic,
    reply: Topic,
    telemetry: Topic,
    #[cfg(feature = "e2e")]
    bin: Topic,
    #[cfg(feature = "e2e")]
    blob: Topic,
}

/// The filters the supervisor keeps: the command topic (and the test's `bin`).
const FILTERS: usize = if cfg!(feature = "e2e") { 2 } else { 1 };

/// The longest command-topic filter the supervisor keeps for re-subscribing.
const FILTER: usize = 64;
const _: () = assert!(
    "devices//cmd".len() + CLIENT_ID.len() <= FILTER,
    "MQTT_CLIENT_ID too long for the command topic"
);

#[cfg(not(feature = "driver-only"))]
type Topic = heapless::String<96>;
#[cfg(feature = "driver-only")]
type Topic = &'static str;

#[cfg(not(feature = "driver-only"))]
fn topics() -> Topics {
    fn topic(leaf: &str) -> Topic {
        let mut s = Topic::new();
        // Fits: `devices/` + at most 52 bytes of id (checked above) + `/telemetry`.
        for part in ["devices/", CLIENT_ID, "/", leaf] {
            let _ = s.push_str(part);
        }
        s
    }
    Topics {
        cmd: topic("cmd"),
        reply: topic("reply"),
        telemetry: topic("telemetry"),
        #[cfg(feature = "e2e")]
        bin: topic("bin"),
        #[cfg(feature = "e2e")]
        blob: topic("blob"),
    }
}

/// A message body: JSON in the product, two bytes in `driver-only`.
type Payload = Vec<
    u8,
    {
        if cfg!(feature = "driver-only") {
            2
        } else {
            128
        }
    },
>;

/// Application state reported in telemetry.
struct AppState {
    seq: u32,
    led: bool,
    /// Successful connects after the first one.
    reconnects: u32,
    connected_once: bool,
    /// The `exit` command came: end once its reply is out.
    #[cfg(feature = "e2e")]
    exit: bool,
}

/// Runs the product forever.
async fn run<W, M, L>(
    modem: &mut Modem<W>,
    mut events: Events<'static, EVENTS>,
    mut reset: M,
    mut led: Led<L>,
) -> !
where
    W: Write,
    M: ModemReset,
    L: OutputPin,
{
    let topics = topics();
    let mut app = AppState {
        seq: 0,
        led: false,
        reconnects: 0,
        connected_once: false,
        #[cfg(feature = "e2e")]
        exit: false,
    };
    led.set(false);
    // Start from a known state: a modem that kept a session from before our own reset would
    // refuse to connect. (The boot banner this causes is the supervisor's first hint.)
    if reset.available() {
        info!("resetting the modem");
        reset.reset().await;
    }
    let mut config = Config::new(HOST, PORT, CLIENT_ID).keepalive(KEEPALIVE_S);
    if !USERNAME.is_empty() {
        config = config.credentials(USERNAME, PASSWORD);
    }
    // Applied at every bring-up; `Off` too, so that a modem left with TLS on is put right.
    #[cfg(feature = "tls")]
    let tls = mqtt_modem::Tls::root_ca(ROOT_CA.as_bytes());
    #[cfg(not(feature = "tls"))]
    let tls = mqtt_modem::Tls::off();
    let mut sup = Supervisor::<_, FILTERS, FILTER>::new(config, policy())
        .with_tls(tls)
        .with_reset(reset);

    // Registered now; the supervisor subscribes on every connect.
    if let Err(e) = sup.subscribe(modem, &topics.cmd, Qos::AtLeastOnce).await {
        warn!("command topic refused: {:?}", e);
    }
    #[cfg(feature = "e2e")]
    if let Err(e) = sup.subscribe(modem, &topics.bin, Qos::AtLeastOnce).await {
        warn!("bin topic refused: {:?}", e);
    }

    #[cfg(not(feature = "e2e"))]
    let mut buf = [0u8; MESSAGE_BUF];
    // The end-to-end test sends 1 KiB payloads.
    #[cfg(feature = "e2e")]
    let mut buf = [0u8; e2e::MESSAGE_BUF];
    #[cfg(feature = "e2e")]
    let mut test = e2e::Test::new();
    let mut next_telemetry = Instant::now() + TELEMETRY_PERIOD;
    loop {
        let wake = sup.next_deadline().min(next_telemetry);
        if let Either::First(event) = select(events.next(&mut buf), Timer::at(wake)).await {
            // The end-to-end test's own topic and commands are served first (`e2e`).
            #[cfg(feature = "e2e")]
            let command = match log_event(&event) {
                Some((topic, payload)) => {
                    test.serve(modem, &mut sup, &topics, topic, payload).await
                }
                None => None,
            };
            #[cfg(not(feature = "e2e"))]
            let command = log_event(&event).map(|(_, payload)| payload);
            if let Some(payload) = command {
                let reply = answer(&mut app, &mut led, payload, &modem.stats());
                let r = sup
                    .publish(modem, &topics.reply, &reply, Qos::AtLeastOnce, false)
                    .await;
                if let Err(e) = r {
                    warn!("reply not sent: {:?}", e);
                }
                // The board's own end of the run (its verdict); boards without the feature
                // run forever.
                #[cfg(feature = "e2e")]
                if app.exit {
                    crate::exit();
                }
            }
        }
        // The supervisor also reads the hints the runner left (restart, link down).
        while let Some(link) = sup.poll(modem).await {
            info!("link: {:?}", link);
            if link == LinkEvent::Connected {
                if app.connected_once {
                    app.reconnects = app.reconnects.wrapping_add(1);
                } else {
                    app.connected_once = true;
                    info!("online as {} at {}:{}", CLIENT_ID, HOST, PORT);
                }
            }
        }
        if Instant::now() >= next_telemetry {
            next_telemetry = Instant::now() + TELEMETRY_PERIOD;
            if sup.is_connected() {
                app.seq = app.seq.wrapping_add(1);
                let body = telemetry(&app, &modem.stats());
                let r = sup
                    .publish(modem, &topics.telemetry, &body, Qos::AtMostOnce, false)
                    .await;
                if let Err(e) = r {
                    warn!("telemetry not sent: {:?}", e);
                }
            }
        }
    }
}

/// Logs one event; returns the topic and payload of a message.
fn log_event<'a>(event: &Event<'a>) -> Option<(&'a str, &'a [u8])> {
    match *event {
        Event::Message(m) => {
            info!("message on {}: {} bytes", m.topic, m.payload.len());
            return Some((m.topic, m.payload));
        }
        Event::StateChanged(s) => info!("modem state changed: {:?}", s),
        Event::Disconnected => warn!("modem reports the MQTT link down"),
        Event::Restarted => warn!("modem restarted"),
        Event::Dropped { count } => warn!("{} incoming messages dropped", count),
        Event::TooLargeForBuffer { len } => {
            warn!("message of {} bytes larger than the message buffer", len)
        }
        Event::Unrecognised(line) => debug!("unrecognised URC {:?}", line),
        // Kinds of event a later driver version adds.
        _ => debug!("other modem event"),
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The application logic: left out of the `driver-only` footprint variant.

/// A command received on the command topic.
#[cfg(not(feature = "driver-only"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command {
    Ping,
    Led(bool),
    Status,
    /// Ends the firmware with its verdict (`e2e`: the emulated boards' tests).
    #[cfg(feature = "e2e")]
    Exit,
    Unknown,
}

/// Parses a command payload: `ping`, `led on`, `led off`, `status` (ASCII, case-sensitive,
/// surrounding whitespace ignored).
#[cfg(not(feature = "driver-only"))]
pub fn parse_command(payload: &[u8]) -> Command {
    match payload.trim_ascii() {
        b"ping" => Command::Ping,
        b"led on" => Command::Led(true),
        b"led off" => Command::Led(false),
        b"status" => Command::Status,
        #[cfg(feature = "e2e")]
        b"exit" => Command::Exit,
        _ => Command::Unknown,
    }
}

/// Acts on one command; returns the reply.
#[cfg(not(feature = "driver-only"))]
fn answer<L: OutputPin>(
    app: &mut AppState,
    led: &mut Led<L>,
    payload: &[u8],
    stats: &Stats,
) -> Payload {
    let cmd = parse_command(payload);
    info!("command {:?}", cmd);
    let mut reply = Json::new();
    match cmd {
        Command::Ping => reply.field_u32("pong", app.seq),
        Command::Led(on) => {
            led.set(on);
            app.led = on;
            reply.field_bool("led", on);
        }
        Command::Status => return telemetry(app, stats),
        #[cfg(feature = "e2e")]
        Command::Exit => {
            app.exit = true;
            reply.field_bool("exit", true);
        }
        Command::Unknown => reply.field_str("error", "unknown command"),
    }
    reply.finish()
}

/// `{"seq":..,"uptime_s":..,"led":..,"reconnects":..,"dropped":..,"noise":..}`: `dropped`
/// counts incoming messages lost, `noise` the bytes of the modem's output that made no sense.
#[cfg(not(feature = "driver-only"))]
fn telemetry(app: &AppState, stats: &Stats) -> Payload {
    let mut j = Json::new();
    j.field_u32("seq", app.seq);
    j.field_u32("uptime_s", Instant::now().as_secs() as u32);
    j.field_bool("led", app.led);
    j.field_u32("reconnects", app.reconnects);
    j.field_u32(
        "dropped",
        stats
            .dropped_queue_full
            .saturating_add(stats.dropped_broken)
            .saturating_add(stats.dropped_oversized),
    );
    j.field_u32("noise", stats.discarded_bytes);
    j.finish()
}

#[cfg(not(feature = "driver-only"))]
/// A tiny JSON object writer (no `core::fmt`, which would cost flash on its own).
struct Json {
    buf: Payload,
}

#[cfg(not(feature = "driver-only"))]
impl Json {
    fn new() -> Self {
        let mut buf = Vec::new();
        let _ = buf.push(b'{');
        Self { buf }
    }
    fn key(&mut self, k: &str) {
        if self.buf.len() > 1 {
            let _ = self.buf.push(b',');
        }
        let _ = self.buf.push(b'"');
        let _ = self.buf.extend_from_slice(k.as_bytes());
        let _ = self.buf.extend_from_slice(b"\":");
    }
    fn field_u32(&mut self, k: &str, mut v: u32) {
        self.key(k);
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let _ = self.buf.extend_from_slice(&digits[i..]);
    }
    fn field_bool(&mut self, k: &str, v: bool) {
        self.key(k);
        let _ = self
            .buf
            .extend_from_slice(if v { b"true" } else { b"false" });
    }
    /// `v` must need no escaping (only used with literals here).
    fn field_str(&mut self, k: &str, v: &str) {
        self.key(k);
        let _ = self.buf.push(b'"');
        let _ = self.buf.extend_from_slice(v.as_bytes());
        let _ = self.buf.push(b'"');
    }
    fn finish(mut self) -> Payload {
        let _ = self.buf.push(b'}');
        self.buf
    }
}

// `driver-only`: the same calls with fixed topics and payloads (`stats()` is still read, as the product
// reads it). `full - driver-only` is the application's own cost, `driver-only - bare-uart`
// the driver's.

#[cfg(feature = "driver-only")]
fn topics() -> Topics {
    Topics {
        cmd: "devices/x/cmd",
        reply: "devices/x/reply",
        telemetry: "devices/x/telemetry",
    }
}

#[cfg(feature = "driver-only")]
fn answer<L: OutputPin>(
    _: &mut AppState,
    _: &mut Led<L>,
    payload: &[u8],
    stats: &Stats,
) -> Payload {
    let mut v = Vec::new();
    let _ = v.push(payload.len() as u8 ^ stats.dropped_queue_full as u8);
    v
}

#[cfg(feature = "driver-only")]
fn telemetry(app: &AppState, stats: &Stats) -> Payload {
    let mut v = Vec::new();
    let _ = v.push(app.seq as u8 ^ app.led as u8 ^ app.reconnects as u8);
    let _ = v.push(stats.dropped_queue_full as u8);
    v
}

// ---------------------------------------------------------------------------------------------
// The end-to-end test's topic and commands (`e2e`: the emulated boards only).

/// Byte `i` of a `blob`: every byte value in turn, but for those the dialect cannot send
/// (the UC8088's `AT+MQTTPUB` carries no CR, LF or NUL).
#[cfg(feature = "e2e")]
pub const fn blob_byte(i: usize) -> u8 {
    const SKIP: &[u8] = if cfg!(any(feature = "esp-at", feature = "quectel")) {
        b""
    } else {
        b"\0\n\r"
    };
    let mut table = [0u8; 256];
    let (mut n, mut v) = (0, 0);
    while v < 256 {
        let mut k = 0;
        let mut skip = false;
        while k < SKIP.len() {
            skip |= SKIP[k] as usize == v;
            k += 1;
        }
        if !skip {
            table[n] = v as u8;
            n += 1;
        }
        v += 1;
    }
    table[i % n]
}

#[cfg(feature = "e2e")]
mod e2e {
    use super::*;

    /// The incoming-message buffer of the test (its 1 KiB payload and the topic): 1152 bytes.
    pub const MESSAGE_BUF: usize = super::MESSAGE_BUF + 640;

    /// The largest `blob`: the driver's payload limit.
    pub const BLOB: usize = mqtt_modem::MAX_PAYLOAD_LEN;

    /// The test's state: its blob buffer (in static memory: 4 KiB would not belong on the
    /// stack), and an incoming-cost measurement under way.
    pub struct Test {
        blob: &'static mut [u8; BLOB],
        /// Messages on `bin` still to count, how many in all, and the busy time at the start.
        counting: Option<(u32, u32, u64)>,
    }

    impl Test {
        pub fn new() -> Self {
            static BLOB_BUF: StaticCell<[u8; BLOB]> = StaticCell::new();
            Self {
                blob: BLOB_BUF.init([0; BLOB]),
                counting: None,
            }
        }

        /// Serves a message on the test's `bin` topic (answered with its length and FNV-1a
        /// hash on the reply topic, or counted while an incoming cost is measured) or one of
        /// the test's commands; returns any other command for [`answer`].
        pub async fn serve<'p, W: Write, M: ModemReset>(
            &mut self,
            modem: &mut Modem<W>,
            sup: &mut Supervisor<'_, M, FILTERS, FILTER>,
            topics: &Topics,
            topic: &str,
            payload: &'p [u8],
        ) -> Option<&'p [u8]> {
            let mut reply = Json::new();
            let number = |rest: &[u8]| {
                core::str::from_utf8(rest)
                    .ok()
                    .and_then(|n| n.trim().parse::<u32>().ok())
            };
            if topic == topics.bin.as_str() {
                if let Some((left, n, start)) = self.counting {
                    // Counted, not answered: the measurement ends with the last one.
                    if left > 1 {
                        self.counting = Some((left - 1, n, start));
                        return None;
                    }
                    self.counting = None;
                    let each = (crate::busy_ns() - start) / u64::from(n);
                    reply.field_u32("incoming_ns", each as u32);
                } else {
                    reply.field_u32("len", payload.len() as u32);
                    reply.field_u32("fnv", fnv1a(payload));
                }
            } else if let Some(rest) = payload.strip_prefix(b"blob ") {
                let Some(n) = number(rest).map(|n| n as usize).filter(|&n| n <= BLOB) else {
                    reply.field_str("error", "blob size");
                    publish(modem, sup, &topics.reply, &reply.finish()).await;
                    return None;
                };
                for (i, b) in self.blob[..n].iter_mut().enumerate() {
                    *b = blob_byte(i);
                }
                let r = sup
                    .publish(
                        modem,
                        &topics.blob,
                        &self.blob[..n],
                        Qos::AtLeastOnce,
                        false,
                    )
                    .await;
                info!("blob of {} bytes: {:?}", n, r);
                reply.field_u32("blob", n as u32);
                reply.field_bool("ok", r.is_ok());
            } else if let Some(rest) = payload.strip_prefix(b"rate ") {
                // `n` publishes of 64 bytes at QoS 0, back to back: the test paces the line
                // and compares the rate with the line-rate bound.
                // `busy_us`: of that time, how long the core was not asleep in WFI.
                let n = number(rest).unwrap_or(0);
                let (start, busy, mut ok) = (Instant::now(), crate::busy_ns(), 0u32);
                for _ in 0..n {
                    ok += u32::from(publish64(modem, sup, topics).await);
                }
                reply.field_u32("rate", n);
                reply.field_u32("ok", ok);
                reply.field_u32("us", start.elapsed().as_micros() as u32);
                reply.field_u32("busy_us", ((crate::busy_ns() - busy) / 1000) as u32);
            } else if let Some(rest) = payload.strip_prefix(b"cost publish ") {
                // The core's busy time (not asleep in WFI) per 64-byte QoS 0 publish, its
                // interrupts included: under QEMU's `-icount shift=0`, one nanosecond per
                // instruction.
                let n = number(rest).unwrap_or(0).max(1);
                let (start, mut ok) = (crate::busy_ns(), 0u32);
                for _ in 0..n {
                    ok += u32::from(publish64(modem, sup, topics).await);
                }
                let each = (crate::busy_ns() - start) / u64::from(n);
                reply.field_u32("publish_ns", each as u32);
                reply.field_u32("ok", ok);
            } else if let Some(rest) = payload.strip_prefix(b"cost incoming ") {
                // The same per message on `bin`, from this command to the `n`-th of them.
                let n = number(rest).unwrap_or(0).max(1);
                self.counting = Some((n, n, crate::busy_ns()));
                return None;
            } else {
                return Some(payload);
            }
            publish(modem, sup, &topics.reply, &reply.finish()).await;
            None
        }
    }

    /// One 64-byte QoS 0 publish on the blob topic (a `"` every 16 bytes, as in the host
    /// benchmark); whether it went out.
    async fn publish64<W: Write, M: ModemReset>(
        modem: &mut Modem<W>,
        sup: &mut Supervisor<'_, M, FILTERS, FILTER>,
        topics: &Topics,
    ) -> bool {
        let mut body = [b'x'; 64];
        for quote in body.iter_mut().step_by(16) {
            *quote = b'"';
        }
        sup.publish(modem, &topics.blob, &body, Qos::AtMostOnce, false)
            .await
            .is_ok()
    }

    async fn publish<W: Write, M: ModemReset>(
        modem: &mut Modem<W>,
        sup: &mut Supervisor<'_, M, FILTERS, FILTER>,
        topic: &str,
        body: &[u8],
    ) {
        if let Err(e) = sup
            .publish(modem, topic, body, Qos::AtLeastOnce, false)
            .await
        {
            warn!("reply not sent: {:?}", e);
        }
    }

    /// FNV-1a, 32 bits.
    fn fnv1a(bytes: &[u8]) -> u32 {
        bytes.iter().fold(0x811C_9DC5, |h: u32, &b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        })
    }
}
