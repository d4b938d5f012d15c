//! The application both firmware examples run: HAL-independent, included by each example's
//! `main.rs` with `#[path = "../../common/app.rs"] mod app;`.
//!
//! The including crate defines the logging macros `info!`, `warn!` and `debug!` before the
//! `mod app;` line (`log` on the ESP32-C3, `defmt` on the nRF52840); the format strings here
//! use only `{}` and `{:?}` so that both accept them.
//!
//! What it does, as a product would:
//! - brings the modem up: optional hardware reset pulse, `init`, TLS (feature `tls`),
//!   `configure`, `connect`, `subscribe` to the command topic;
//! - publishes a JSON telemetry message every [`TELEMETRY_PERIOD`];
//! - answers commands on `devices/<id>/cmd` (`ping`, `led on`, `led off`, `status`) on
//!   `devices/<id>/reply`;
//! - logs every state change;
//! - recovers: polls `state()` every [`STATE_POLL_PERIOD`]; on `Disconnected`, an unsolicited
//!   disconnect or a link-lost error it reconnects with exponential backoff and re-subscribes;
//!   on `Event::Restarted`, or when the modem stops answering, it re-runs the whole bring-up.

#![cfg_attr(feature = "driver-only", allow(dead_code, unused_imports))]

use embassy_futures::select::{Either3, select3};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_time::{Duration, Instant, Timer};
use embedded_hal::digital::OutputPin;
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::Write;
use heapless::{String, Vec};
use mqtt_modem::{Config, ConnectionState, Error, Event, Events, MqttModem, Qos, Resources, Stats};

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

/// The driver's memory; put it in a `static` with `static_cell`.
pub type ModemResources = Resources<INGRESS, RESPONSE, EVENTS>;
/// The application's handle on the modem over the UART's transmit half `W`.
pub type Modem<W> = MqttModem<'static, W, RESPONSE, EVENTS>;

// ---------------------------------------------------------------------------------------------
// Settings, from the build environment (`MQTT_HOST=... cargo build --release`) or defaults.

const fn env_or(value: Option<&'static str>, default: &'static str) -> &'static str {
    match value {
        Some(v) => v,
        None => default,
    }
}

const fn parse_u16(s: &str) -> u16 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v: u32 = 0;
    assert!(!b.is_empty(), "MQTT_PORT is empty");
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "MQTT_PORT is not a number");
        v = v * 10 + (b[i] - b'0') as u32;
        assert!(v <= u16::MAX as u32, "MQTT_PORT is too large");
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

/// How often telemetry is published.
pub const TELEMETRY_PERIOD: Duration = Duration::from_secs(30);
/// How often the connection state is polled.
pub const STATE_POLL_PERIOD: Duration = Duration::from_secs(10);
/// Reset pulse width and boot time after it.
const RESET_PULSE_MS: u32 = 100;
const BOOT_WAIT_MS: u32 = 3_000;
/// Reconnect backoff bounds.
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// After this many failed reconnects, the next attempt is a full bring-up with a reset.
const RECONNECTS_BEFORE_RESET: u8 = 3;
/// After this many consecutive command timeouts the modem is deemed hung.
const TIMEOUTS_BEFORE_RESET: u8 = 2;

// ---------------------------------------------------------------------------------------------
// From the event task to the application loop.

/// A command received on the command topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command {
    Ping,
    Led(bool),
    Status,
    Unknown,
}

/// What the event task tells the application loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Notice {
    Command(Command),
    /// The modem said the MQTT link is down.
    LinkDown,
    /// The modem rebooted and forgot its settings.
    Restarted,
}

/// Channel from [`pump_events`] to [`run`]; receiving is cancel-safe, `Events::next` is not,
/// which is why events are read in their own task.
pub static NOTICES: Channel<CriticalSectionRawMutex, Notice, 4> = Channel::new();

/// Parses a command payload: `ping`, `led on`, `led off`, `status` (ASCII, case-sensitive,
/// surrounding whitespace ignored).
pub fn parse_command(payload: &[u8]) -> Command {
    match payload.trim_ascii() {
        b"ping" => Command::Ping,
        b"led on" => Command::Led(true),
        b"led off" => Command::Led(false),
        b"status" => Command::Status,
        _ => Command::Unknown,
    }
}

/// The body of the event task: reads every event, logs it, forwards what the application
/// loop must act on.
pub async fn pump_events(mut events: Events<'static, EVENTS>) -> ! {
    let mut buf = [0u8; MESSAGE_BUF];
    loop {
        let notice = match events.next(&mut buf).await {
            Event::Message(m) => {
                let cmd = parse_command(m.payload);
                info!(
                    "message on {}: {} bytes -> {:?}",
                    m.topic,
                    m.payload.len(),
                    cmd
                );
                Some(Notice::Command(cmd))
            }
            Event::StateChanged(s) => {
                info!("modem state changed: {:?}", s);
                (s == ConnectionState::Disconnected).then_some(Notice::LinkDown)
            }
            Event::Disconnected => {
                warn!("modem reports the MQTT link down");
                Some(Notice::LinkDown)
            }
            Event::Restarted => {
                warn!("modem restarted");
                Some(Notice::Restarted)
            }
            Event::Dropped { count } => {
                warn!("{} incoming messages dropped", count);
                None
            }
            Event::TooLargeForBuffer { len } => {
                warn!("message of {} bytes larger than the message buffer", len);
                None
            }
            Event::Unrecognised(line) => {
                debug!("unrecognised URC {:?}", line);
                None
            }
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(n) = notice {
            // Waiting here only backs the driver's event queue up; it drops and counts.
            NOTICES.send(n).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The application loop.

/// The board's pins around the modem.
pub struct Board<R, L, D> {
    /// The modem's reset line, active low, if wired.
    pub reset: Option<R>,
    /// A status LED, switched by the `led on`/`led off` commands (`true` = on).
    pub led: L,
    /// `led_active_low`: whether driving the pin low lights the LED.
    pub led_active_low: bool,
    pub delay: D,
}

impl<R: OutputPin, L: OutputPin, D: DelayNs> Board<R, L, D> {
    fn set_led(&mut self, on: bool) {
        let _ = if on != self.led_active_low {
            self.led.set_high()
        } else {
            self.led.set_low()
        };
    }

    /// Pulses the reset line low and waits for the modem to boot. No-op without a reset pin.
    async fn reset_modem(&mut self) {
        if let Some(pin) = self.reset.as_mut() {
            info!("resetting the modem");
            let _ = pin.set_low();
            self.delay.delay_ms(RESET_PULSE_MS).await;
            let _ = pin.set_high();
            self.delay.delay_ms(BOOT_WAIT_MS).await;
        }
    }
}

/// The topics, `devices/<id>/...`.
struct Topics {
    cmd: String<96>,
    reply: String<96>,
    telemetry: String<96>,
}

fn topic(id: &str, leaf: &str) -> String<96> {
    let mut s = String::new();
    // The client id is at most 64 bytes by construction below; a longer one is cut.
    for part in ["devices/", id, "/", leaf] {
        for c in part.chars() {
            let _ = s.push(c);
        }
    }
    s
}

/// Why the online loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Down {
    /// The MQTT link is down; the modem is fine: reconnect.
    LinkLost,
    /// The modem rebooted or stopped answering: full bring-up.
    ModemLost,
}

/// Exponential backoff with a little jitter from the clock.
struct Backoff {
    next: Duration,
}

impl Backoff {
    const fn new() -> Self {
        Self { next: BACKOFF_MIN }
    }
    fn reset(&mut self) {
        self.next = BACKOFF_MIN;
    }
    fn step(&mut self) -> Duration {
        let d = self.next;
        self.next = Duration::from_ticks((d.as_ticks() * 2).min(BACKOFF_MAX.as_ticks()));
        // Up to 1/4 s of jitter, so that a fleet does not reconnect in lock-step.
        d + Duration::from_millis(Instant::now().as_micros() % 250)
    }
}

/// Application state reported in telemetry.
struct AppState {
    seq: u32,
    led: bool,
    reconnects: u32,
    timeouts_in_a_row: u8,
}

/// Runs the product forever.
pub async fn run<W, R, L, D>(modem: &mut Modem<W>, mut board: Board<R, L, D>) -> !
where
    W: Write,
    R: OutputPin,
    L: OutputPin,
    D: DelayNs,
{
    let topics = Topics {
        cmd: topic(CLIENT_ID, "cmd"),
        reply: topic(CLIENT_ID, "reply"),
        telemetry: topic(CLIENT_ID, "telemetry"),
    };
    let mut app = AppState {
        seq: 0,
        led: false,
        reconnects: 0,
        timeouts_in_a_row: 0,
    };
    board.set_led(false);
    let mut backoff = Backoff::new();
    // First pass: a full bring-up with a hardware reset (if wired), from a known state.
    let mut full = true;
    let mut hard_reset = true;
    let mut failures: u8 = 0;
    loop {
        let result = if full {
            bring_up(modem, &mut board, &topics, hard_reset).await
        } else {
            reconnect(modem, &topics).await
        };
        match result {
            Ok(()) => {
                info!("online as {} at {}:{}", CLIENT_ID, HOST, PORT);
                backoff.reset();
                failures = 0;
                full = false;
                hard_reset = false;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let wait = backoff.step();
                warn!(
                    "{} failed ({:?}), attempt {}; retrying in {} ms",
                    if full { "bring-up" } else { "reconnect" },
                    e,
                    failures,
                    wait.as_millis()
                );
                if failures >= RECONNECTS_BEFORE_RESET {
                    // Something beyond the link: start from a reset modem.
                    full = true;
                    hard_reset = true;
                    failures = 0;
                } else if !matches!(e, Error::Mqtt(_)) {
                    // The modem itself failed (no answer, ERROR): redo the whole bring-up.
                    full = true;
                }
                Timer::after(wait).await;
                continue;
            }
        }
        match online(modem, &mut board, &topics, &mut app).await {
            Down::LinkLost => {
                app.reconnects = app.reconnects.wrapping_add(1);
                info!("link lost: reconnecting");
            }
            Down::ModemLost => {
                app.reconnects = app.reconnects.wrapping_add(1);
                info!("modem lost: full bring-up");
                full = true;
                // A modem that restarted by itself needs no reset; a hung one does.
                hard_reset = app.timeouts_in_a_row >= TIMEOUTS_BEFORE_RESET;
            }
        }
        app.timeouts_in_a_row = 0;
    }
}

/// Reset (optional), init, TLS, configure, connect, subscribe.
async fn bring_up<W: Write, R: OutputPin, L: OutputPin, D: DelayNs>(
    modem: &mut Modem<W>,
    board: &mut Board<R, L, D>,
    topics: &Topics,
    hard_reset: bool,
) -> Result<(), Error> {
    if hard_reset {
        board.reset_modem().await;
    }
    // Stale notices (a Restarted caused by our own reset) are about the old session.
    while NOTICES.try_receive().is_ok() {}
    modem.init().await?;
    info!("modem initialised");
    #[cfg(feature = "tls")]
    {
        modem
            .set_tls(mqtt_modem::Tls::RootCa(ROOT_CA.as_bytes()))
            .await?;
        info!("root CA uploaded ({} bytes), TLS on", ROOT_CA.len());
    }
    #[cfg(not(feature = "tls"))]
    modem.set_tls(mqtt_modem::Tls::Off).await?;
    let mut config = Config::new(HOST, PORT, CLIENT_ID).keepalive(KEEPALIVE_S);
    if !USERNAME.is_empty() {
        config = config.credentials(USERNAME, PASSWORD);
    }
    modem.configure(&config).await?;
    reconnect(modem, topics).await
}

/// Connect and re-subscribe (the modem keeps its configuration across a lost link).
async fn reconnect<W: Write>(modem: &mut Modem<W>, topics: &Topics) -> Result<(), Error> {
    // A connect on a half-open session fails on some firmware: drop it first, ignore errors.
    if let Ok(ConnectionState::Connected) = modem.state().await {
        let _ = modem.disconnect().await;
    }
    modem.connect().await?;
    info!("connected");
    modem.subscribe(&topics.cmd, Qos::AtLeastOnce).await?;
    info!("subscribed to {}", topics.cmd.as_str());
    Ok(())
}

/// Connected: telemetry, state polls, commands. Returns when the link or the modem is lost.
async fn online<W: Write, R: OutputPin, L: OutputPin, D: DelayNs>(
    modem: &mut Modem<W>,
    board: &mut Board<R, L, D>,
    topics: &Topics,
    app: &mut AppState,
) -> Down {
    let mut next_telemetry = Instant::now();
    let mut next_poll = Instant::now() + STATE_POLL_PERIOD;
    loop {
        let result = match select3(
            Timer::at(next_telemetry),
            Timer::at(next_poll),
            NOTICES.receive(),
        )
        .await
        {
            Either3::First(()) => {
                next_telemetry = Instant::now() + TELEMETRY_PERIOD;
                app.seq = app.seq.wrapping_add(1);
                let body = telemetry(app, &modem.stats());
                modem
                    .publish(&topics.telemetry, &body, Qos::AtMostOnce, false)
                    .await
            }
            Either3::Second(()) => {
                next_poll = Instant::now() + STATE_POLL_PERIOD;
                match modem.state().await {
                    Ok(ConnectionState::Connected) => Ok(()),
                    Ok(ConnectionState::Disconnected) => {
                        info!("state poll: disconnected");
                        return Down::LinkLost;
                    }
                    Err(e) => Err(e),
                }
            }
            Either3::Third(Notice::Restarted) => return Down::ModemLost,
            Either3::Third(Notice::LinkDown) => return Down::LinkLost,
            Either3::Third(Notice::Command(cmd)) => handle(modem, board, topics, app, cmd).await,
        };
        match result {
            Ok(()) => app.timeouts_in_a_row = 0,
            Err(e) if e.means_link_lost() => {
                warn!("link lost: {:?}", e);
                return Down::LinkLost;
            }
            Err(Error::Timeout) => {
                app.timeouts_in_a_row += 1;
                warn!("modem timeout ({} in a row)", app.timeouts_in_a_row);
                if app.timeouts_in_a_row >= TIMEOUTS_BEFORE_RESET {
                    return Down::ModemLost;
                }
            }
            Err(e) => warn!("command failed: {:?}", e),
        }
    }
}

/// Acts on one command and publishes the reply.
async fn handle<W: Write, R: OutputPin, L: OutputPin, D: DelayNs>(
    modem: &mut Modem<W>,
    board: &mut Board<R, L, D>,
    topics: &Topics,
    app: &mut AppState,
    cmd: Command,
) -> Result<(), Error> {
    let mut reply = Json::new();
    match cmd {
        Command::Ping => reply.field_u32("pong", app.seq),
        Command::Led(on) => {
            board.set_led(on);
            app.led = on;
            reply.field_bool("led", on);
        }
        Command::Status => {
            let body = telemetry(app, &modem.stats());
            return modem
                .publish(&topics.reply, &body, Qos::AtLeastOnce, false)
                .await;
        }
        Command::Unknown => reply.field_str("error", "unknown command"),
    }
    modem
        .publish(&topics.reply, &reply.finish(), Qos::AtLeastOnce, false)
        .await
}

/// `{"seq":..,"uptime_s":..,"led":..,"reconnects":..,"dropped":..}`
fn telemetry(app: &AppState, stats: &Stats) -> Vec<u8, 128> {
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
    j.finish()
}

/// A tiny JSON object writer (no `core::fmt`, which would cost flash on its own).
struct Json {
    buf: Vec<u8, 128>,
}

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
    fn finish(mut self) -> Vec<u8, 128> {
        let _ = self.buf.push(b'}');
        self.buf
    }
}

// ---------------------------------------------------------------------------------------------
// Footprint variant `driver-only`: every driver call the product above makes, once, with none
// of its logic (no supervisor, JSON, commands). `full - driver-only` is the application's own
// cost, `driver-only - bare-uart` the driver's.

/// The `driver-only` event task: reads and counts events.
#[cfg(feature = "driver-only")]
pub async fn drain_events(mut events: Events<'static, EVENTS>) -> ! {
    let mut buf = [0u8; MESSAGE_BUF];
    let mut n: u32 = 0;
    loop {
        if let Event::Message(m) = events.next(&mut buf).await {
            n = n.wrapping_add(1);
            info!("message {} on {}: {} bytes", n, m.topic, m.payload.len());
        }
    }
}

/// The `driver-only` main loop.
#[cfg(feature = "driver-only")]
pub async fn run_driver_only<W: Write>(modem: &mut Modem<W>) -> ! {
    loop {
        let r = async {
            modem.init().await?;
            modem.set_tls(mqtt_modem::Tls::Off).await?;
            modem
                .configure(
                    &Config::new(HOST, PORT, CLIENT_ID)
                        .keepalive(KEEPALIVE_S)
                        .credentials(USERNAME, PASSWORD),
                )
                .await?;
            if modem.state().await? == ConnectionState::Connected {
                modem.disconnect().await?;
            }
            modem.connect().await?;
            modem.subscribe("devices/x/cmd", Qos::AtLeastOnce).await?;
            loop {
                let dropped = modem.stats().dropped_queue_full;
                modem
                    .publish("devices/x/telemetry", b"{}", Qos::AtMostOnce, dropped > 0)
                    .await?;
                Timer::after(TELEMETRY_PERIOD).await;
            }
            #[allow(unreachable_code)]
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = r {
            warn!("failed: {:?}", e);
        }
        Timer::after_secs(5).await;
    }
}
