//! [`MqttModem`]: the application's handle.
//!
//! Each call writes one command line, then waits for its final result with a deadline. The
//! runner task fills the response slot; the client parses it. No command is ever written while
//! another is in flight (`&mut self`), and a command whose answer never came is followed by a
//! re-synchronisation before the next one, so a late answer is never taken for the next
//! command's (see [`MqttModem::send`]).

use embassy_time::{Duration, Instant, Timer, with_deadline};
use embedded_io_async::{Read, Write};

use crate::command::config::responses::StoredConfig;
use crate::command::config::types::Config;
use crate::command::general::responses::Identification;
use crate::command::publish::types::Qos;
use crate::command::session::types::ConnectionState;
use crate::command::subscribe::GetSubscriptions;
use crate::command::subscribe::responses::Subscriptions;
use crate::command::tls::GetTls;
use crate::command::tls::types::CertEncoding;
use crate::command::{ModemCommand, Wire};
use crate::dialect::{Dialect, Uc8088};
use crate::digest::Expect;
use crate::error::{Detail, Error, ErrorKind};
use crate::events::Events;
use crate::parse::mqtt_code;
use crate::resources::{LinkHint, Outcome, Pending, Resources, Shared, Slot, Stats};
use crate::runner::Runner;

/// Timing and encoding choices of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// Pause between the end of one command and the start of the next. atat's default is
    /// 20 ms, which costs two thirds of the link at 115200 baud for short commands; the UC8088
    /// manual asks for none, so the default is zero.
    pub command_gap: Duration,
    /// Deadline for writing and flushing one command line.
    pub write_timeout: Duration,
    /// After a timeout or a cancelled command, the line must be quiet this long before the
    /// next command is written, so that a late answer is discarded as stale.
    pub resync_quiet: Duration,
    /// The longest a re-synchronisation waits for quiet (a URC flood may never pause).
    pub resync_max: Duration,
    /// A cap on every command's answer deadline (the defaults range from 300 ms for `AT` to
    /// 10 s for a QoS 1 publish). Lower it on a link known to answer fast, so a lost answer
    /// costs less.
    pub max_deadline: Duration,
    /// How many `AT` probes [`MqttModem::init`] sends before giving up.
    pub sync_attempts: u8,
    /// How certificate line breaks go on the wire.
    pub cert_encoding: CertEncoding,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            command_gap: Duration::from_ticks(0),
            write_timeout: Duration::from_secs(2),
            resync_quiet: Duration::from_millis(50),
            resync_max: Duration::from_secs(1),
            max_deadline: Duration::MAX,
            sync_attempts: 10,
            cert_encoding: CertEncoding::EscapedNewlines,
        }
    }
}

/// A TLS setting for [`MqttModem::set_tls`]. `Debug` shows only the lengths of the PEM texts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tls<'a> {
    /// Plain TCP.
    Off,
    /// TLS on, with this root CA (PEM) to verify the broker.
    RootCa(&'a [u8]),
    /// TLS on, with this client certificate (PEM).
    ClientCert(&'a [u8]),
    /// TLS on, with this client private key (PEM). Never logged.
    ClientKey(&'a [u8]),
}

impl core::fmt::Debug for Tls<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
            Self::RootCa(p) => write!(f, "RootCa({} bytes)", p.len()),
            Self::ClientCert(p) => write!(f, "ClientCert({} bytes)", p.len()),
            Self::ClientKey(p) => write!(f, "ClientKey(<redacted, {} bytes>)", p.len()),
        }
    }
}

#[cfg(feature = "defmt")]
#[allow(clippy::match_same_arms)]
impl defmt::Format for Tls<'_> {
    fn format(&self, f: defmt::Formatter) {
        match self {
            Self::Off => defmt::write!(f, "Off"),
            Self::RootCa(p) => defmt::write!(f, "RootCa({} bytes)", p.len()),
            Self::ClientCert(p) => defmt::write!(f, "ClientCert({} bytes)", p.len()),
            Self::ClientKey(p) => defmt::write!(f, "ClientKey(<redacted, {} bytes>)", p.len()),
        }
    }
}

/// The modem's identification, from `AT+CGMI`, `AT+CGMM` and `AT+CGMR`; each answer may span
/// several lines (see [`Identification`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Identity {
    /// Manufacturer (`ucchip`).
    pub manufacturer: Identification,
    /// Model (`8088`).
    pub model: Identification,
    /// Firmware revision.
    pub revision: Identification,
}

/// The application's handle on the modem. Create it with [`MqttModem::new`], spawn the
/// returned [`Runner`], and read incoming messages from the returned [`Events`].
pub struct MqttModem<'a, W, const RESPONSE: usize, const EVENTS: usize, D: Dialect = Uc8088> {
    writer: W,
    shared: &'a Shared<RESPONSE, EVENTS>,
    pub(crate) options: Options,
    /// What the dialect keeps between calls.
    pub(crate) state: D::State,
    /// A command did not complete (timeout, I/O error, cancelled future): re-synchronise first.
    dirty: bool,
    /// A command line may have been left half-written.
    partial_line: bool,
    /// Raw data bytes of a prompted command that the modem still waits for.
    owed: usize,
    last_done: Instant,
}

impl<'a, W: Write, const RESPONSE: usize, const EVENTS: usize>
    MqttModem<'a, W, RESPONSE, EVENTS, Uc8088>
{
    /// Splits the UART into the client (`writer`), the runner (`reader`) and the event
    /// receiver, all backed by `resources`, for a UC8088 (see [`MqttModem::with_dialect`] for
    /// other modules).
    pub fn new<R: Read, const INGRESS: usize>(
        resources: &'a mut Resources<INGRESS, RESPONSE, EVENTS>,
        reader: R,
        writer: W,
        options: Options,
    ) -> (Self, Runner<'a, R, RESPONSE, EVENTS>, Events<'a, EVENTS>) {
        Self::with_dialect(Uc8088, resources, reader, writer, options)
    }

    /// `AT+MQTTCONFIG?`: the settings the modem holds.
    pub async fn config(&mut self) -> Result<StoredConfig, Error> {
        self.send(&crate::command::config::GetConfig).await
    }

    /// `AT+MQTTTLS?`: whether TLS is on.
    pub async fn tls(&mut self) -> Result<bool, Error> {
        Ok(self.send(&GetTls).await?.enabled())
    }

    /// `AT+MQTTSUB?`: at most `N` subscriptions with filters of at most `T` bytes.
    pub async fn subscriptions<const N: usize, const T: usize>(
        &mut self,
    ) -> Result<Subscriptions<N, T>, Error> {
        self.send(&GetSubscriptions::<N, T>).await
    }
}

impl<'a, W: Write, const RESPONSE: usize, const EVENTS: usize, D: Dialect>
    MqttModem<'a, W, RESPONSE, EVENTS, D>
{
    /// Splits the UART as [`MqttModem::new`] does, for the module whose command set is `D`
    /// (`MqttModem::with_dialect(EspAt, …)`).
    pub fn with_dialect<R: Read, const INGRESS: usize>(
        _dialect: D,
        resources: &'a mut Resources<INGRESS, RESPONSE, EVENTS>,
        reader: R,
        writer: W,
        options: Options,
    ) -> (Self, Runner<'a, R, RESPONSE, EVENTS, D>, Events<'a, EVENTS>) {
        let Resources { ingress, shared } = resources;
        let shared: &'a Shared<RESPONSE, EVENTS> = shared;
        let client = Self {
            writer,
            shared,
            options,
            dirty: false,
            partial_line: false,
            owed: 0,
            last_done: Instant::from_ticks(0),
            state: D::State::default(),
        };
        (
            client,
            Runner::new(reader, ingress, shared),
            Events::new(&shared.events),
        )
    }

    /// Brings the modem up: `AT` until it answers (up to [`Options::sync_attempts`]), then
    /// echo off and the dialect's settings (UC8088: `ATE0`, `AT+CMEE=1`, `AT+CFUN=1`, as in
    /// the manual's worked example).
    pub async fn init(&mut self) -> Result<(), Error> {
        let result = D::init(self).await;
        self.settle(result)
    }

    /// Manufacturer, model and revision, as far as the dialect reports them.
    pub async fn identify(&mut self) -> Result<Identity, Error> {
        let result = D::identify(self).await;
        self.settle(result)
    }

    /// Stores the broker address, identity and credentials (UC8088: `AT+MQTTCONFIG=…`).
    pub async fn configure(&mut self, config: &Config<'_>) -> Result<(), Error> {
        let result = D::configure(self, config).await;
        self.settle(result)
    }

    /// Switches TLS off, or on with one credential (call once per credential). A dialect that
    /// cannot take a credential refuses it before a byte is written.
    pub async fn set_tls(&mut self, tls: Tls<'_>) -> Result<(), Error> {
        let result = D::set_tls(self, tls).await;
        self.settle(result)
    }

    /// Connects to the configured broker; a refusal is a typed error (UC8088: a non-zero
    /// `+MQTTCONNECT:<code>` is an [`Error::Module`] whose kind says who refused).
    pub async fn connect(&mut self) -> Result<(), Error> {
        let result = D::connect(self).await;
        self.settle(result)
    }

    /// Whether the modem is connected to the broker.
    pub async fn state(&mut self) -> Result<ConnectionState, Error> {
        let result = D::state(self).await;
        self.settle(result)
    }

    /// Disconnects from the broker.
    pub async fn disconnect(&mut self) -> Result<(), Error> {
        let result = D::disconnect(self).await;
        self.settle(result)
    }

    /// Publishes `payload` on `topic`. `Ok` only after the modem confirmed it (for QoS 1, once
    /// the broker acknowledged it where the modem reports that).
    pub async fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error> {
        let result = D::publish(self, topic, payload, qos, retain).await;
        self.settle(result)
    }

    /// Subscribes to `filter`.
    pub async fn subscribe(&mut self, filter: &str, qos: Qos) -> Result<(), Error> {
        let result = D::subscribe(self, filter, qos).await;
        self.settle(result)
    }

    /// Unsubscribes from `filter`.
    pub async fn unsubscribe(&mut self, filter: &str) -> Result<(), Error> {
        let result = D::unsubscribe(self, filter).await;
        self.settle(result)
    }

    /// A failure that says the link is down is evidence for the
    /// [`Supervisor`](crate::Supervisor).
    fn settle<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if result.as_ref().is_err_and(|e| e.kind() == ErrorKind::Link) {
            self.shared.with(|s| s.note(LinkHint::Lost));
        }
        result
    }

    /// `AT` until the modem answers, up to [`Options::sync_attempts`] times.
    pub(crate) async fn sync<C: ModemCommand>(&mut self, at: &C) -> Result<(), Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send(at).await {
                Ok(_) => return Ok(()),
                Err(Error::Timeout) if attempt < self.options.sync_attempts => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Counters of everything dropped or discarded so far.
    pub fn stats(&self) -> Stats {
        self.shared.with(|s| s.stats)
    }

    /// Sends any command and returns its parsed answer.
    ///
    /// Guarantees:
    /// - the line is written only after every input was validated;
    /// - `Ok` only when the modem's final result was `OK` and no information line carried a
    ///   non-zero MQTT code;
    /// - a final result that arrives after this command's deadline is discarded (counted in
    ///   [`Stats::stale_responses`]) and not given to a later command: after a timeout, an
    ///   I/O error or a dropped future, the next call first ends any half-written line with CR
    ///   and waits until the line has been quiet for [`Options::resync_quiet`] (at most
    ///   [`Options::resync_max`]; an answer later still than that, on a line busy the whole
    ///   time, is the one case this cannot tell apart).
    ///
    /// Cancel safety: dropping the future at any point leaves the driver consistent; the next
    /// command re-synchronises as above.
    pub async fn send<C: ModemCommand>(&mut self, cmd: &C) -> Result<C::Response, Error> {
        // Only building the line and parsing the answer depend on the command type; the
        // exchange itself is compiled once (this keeps flash small on an MCU).
        let info = Expect {
            prefix: C::INFO_PREFIX,
            bare: C::INFO_BARE,
            prompt: false,
            last: false,
        };
        // In a block, so that the future does not keep `data` beside its copy in the request.
        let request = {
            let data = cmd.data();
            Request {
                wire: cmd.wire(),
                data,
                pending: Pending::new(info, data.is_some(), cmd.completion()),
                carries_code: C::CARRIES_CODE,
                failure: C::FAILURE,
                deadline: cmd.deadline().min(self.options.max_deadline),
            }
        };
        self.exchange(&request).await?;
        self.shared
            .with(|s| cmd.parse(Ok(&s.info)))
            .map_err(|_| Error::Protocol)
    }

    /// Writes one command (its line, and its data after the prompt) and judges its answer.
    async fn exchange(&mut self, req: &Request<'_>) -> Result<(), Error> {
        self.begin(&req.pending).await;
        // If this future is dropped while the command is in flight, its answer is stale.
        let guard = Abandon(self.shared);
        let result = self.converse(req).await;
        if result.is_err() {
            self.shared.abandon();
        }
        core::mem::forget(guard);
        self.dirty = result == Err(Error::Timeout) || self.owed > 0 || self.partial_line;
        self.last_done = Instant::now();
        result
    }

    async fn converse(&mut self, req: &Request<'_>) -> Result<(), Error> {
        self.write(Out::Line(&req.wire)).await?;
        self.partial_line = false;
        self.wait(req.deadline).await?;
        // A dialect without staged commands compiles none of this.
        if let Some(data) = req.data.filter(|_| D::STAGED) {
            // Woken with no outcome: the prompt came (an error would have been the outcome).
            if self.shared.with(|s| s.outcome.is_none()) {
                self.owed = data.len();
                self.write(Out::Bytes(data)).await?;
                self.owed = 0;
                self.wait(req.deadline).await?;
            }
        }
        self.judge(req)
    }

    /// Writes and flushes under the write timeout.
    async fn write(&mut self, out: Out<'_>) -> Result<(), Error> {
        let deadline = after(Instant::now(), self.options.write_timeout);
        match with_deadline(deadline, async {
            match out {
                Out::Line(wire) => wire.write_to(&mut self.writer).await?,
                Out::Bytes(bytes) => self.writer.write_all(bytes).await?,
            }
            self.writer.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::Io(embedded_io::Error::kind(&e))),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// Waits for the runner's signal: a prompt, a final result or a completion line.
    async fn wait(&mut self, deadline: Duration) -> Result<(), Error> {
        with_deadline(after(Instant::now(), deadline), self.shared.done.wait())
            .await
            .map_err(|_| Error::Timeout)
    }

    /// Re-synchronises if needed, keeps the command gap, and opens the response slot.
    /// (`pending` by reference: the future then holds 4 bytes, not a copy of it.)
    async fn begin(&mut self, pending: &Pending) {
        if self.dirty {
            self.resync().await;
        }
        let gap_end = after(self.last_done, self.options.command_gap);
        if Instant::now() < gap_end {
            Timer::at(gap_end).await;
        }
        self.shared.begin(*pending);
        self.dirty = true;
        self.partial_line = true;
    }

    /// Judges the answer just completed: `Ok` only for a final `OK` (or a completion line)
    /// with no non-zero code on a `prefix:<n>` line (a failure the dialect reads).
    fn judge(&mut self, req: &Request<'_>) -> Result<(), Error> {
        let failed = |detail| Err(Error::module(detail, req.failure));
        self.shared.with(|s| {
            s.pending = None;
            if s.overflow {
                return Err(Error::ResponseTooLarge);
            }
            let mut code_seen = false;
            if req.carries_code {
                match mqtt_code(&s.info, req.pending.info.prefix) {
                    Some(Ok(0)) => code_seen = true,
                    None => {}
                    Some(Ok(n)) => {
                        let code = i16::try_from(n).unwrap_or(i16::MAX);
                        return failed(Detail::Result(code));
                    }
                    Some(Err(())) => return Err(Error::Protocol),
                }
            }
            match s.outcome.take() {
                // Noise arrived inside the answer: a line of it (a value, or a non-zero code)
                // may be lost, so an OK cannot be trusted.
                Some(Outcome::Ok) if s.tainted && !code_seen => Err(Error::Protocol),
                Some(Outcome::Ok) => Ok(()),
                Some(Outcome::Error) => failed(Detail::Error),
                Some(Outcome::Cme(n)) => failed(Detail::Cme(n)),
                Some(Outcome::CmeText(t)) => failed(Detail::CmeText(t)),
                Some(Outcome::Ext(n)) => failed(Detail::Ext(n)),
                None => Err(Error::Protocol),
            }
        })
    }

    /// Takes the evidence about the link gathered since the last call: unsolicited
    /// `+MQTTSTATE:0`, `+MQTTDISCONNECTED`, a boot banner, or codes 5, 8, 10 on a command.
    /// The [`Supervisor`](crate::Supervisor) uses it; an application without one may too.
    pub fn take_link_hint(&self) -> Option<LinkHint> {
        self.shared.with(|s| s.hint.take())
    }

    /// Reads the incoming messages that a module which keeps them until asked (u-blox's) has
    /// announced ([`Event::MessagesWaiting`](crate::Event::MessagesWaiting)), one command each:
    /// they arrive through [`Events`](crate::Events) like any other message. Returns how many
    /// were read; with modules that push every message (UC8088, ESP-AT, Quectel), 0 at once.
    /// The [`Supervisor`](crate::Supervisor) calls it from `poll`.
    ///
    /// A message is read only while the event queue is empty: the modem keeps what the
    /// application is not ready for, instead of the queue dropping it. So a call reads one
    /// message, or more while another task takes them from [`Events`](crate::Events); call
    /// again once the queue has been read.
    ///
    /// A read answered `OK` with no message, or refused (`ERROR`, `+CME ERROR`), means the
    /// modem holds nothing more: the count is cleared, and a refusal is returned if nothing
    /// was read. Any other failure (a timeout, the serial port, an answer that noise broke)
    /// is returned, and the messages still announced are read by the next call.
    pub async fn receive_waiting(&mut self) -> Result<u16, Error> {
        if !D::PULL {
            return Ok(0);
        }
        let mut read = 0u16;
        loop {
            // The count is the modem's own, and a notice during a read replaces it.
            let left = self.shared.with(|s| {
                let left = s.waiting;
                if left > 0 && self.shared.events.is_empty() {
                    s.waiting = left - 1;
                    s.fetched = false;
                    s.noticed = false;
                    return left;
                }
                0
            });
            if left == 0 {
                return Ok(read);
            }
            let fetched = D::fetch(self).await;
            match self.settle(fetched) {
                Ok(()) if self.shared.with(|s| s.fetched) => read = read.saturating_add(1),
                Ok(()) => {
                    self.shared.with(held_nothing);
                    return Ok(read);
                }
                Err(e @ Error::Module { .. }) => {
                    self.shared.with(held_nothing);
                    return if read == 0 { Err(e) } else { Ok(read) };
                }
                Err(e) => {
                    // A timeout or a broken answer: the read is owed again unless a message
                    // (even a broken one) came; a notice since may have counted higher.
                    self.shared.with(|s| {
                        s.waiting = s.waiting.max(left - u16::from(s.fetched));
                    });
                    return Err(e);
                }
            }
        }
    }

    /// Whether a module that keeps incoming messages has announced some not yet read.
    pub(crate) fn messages_waiting(&self) -> bool {
        D::PULL && self.shared.with(|s| s.waiting > 0)
    }

    /// Brings the line back to a known state after a command that did not complete.
    async fn resync(&mut self) {
        self.shared.abandon();
        self.shared.with(|s| s.unstick = true);
        if self.owed > 0 {
            // The modem still counts raw data of a prompted command that was cut short: give
            // it the rest (zeros), so that it leaves data mode; its answer is stale.
            // A constant, not a local: the future does not carry the 32 bytes.
            const ZEROS: &[u8; 32] = &[0; 32];
            while self.owed > 0 {
                let n = self.owed.min(ZEROS.len());
                if self.write(Out::Bytes(&ZEROS[..n])).await.is_err() {
                    break;
                }
                self.owed -= n;
            }
            self.owed = 0;
        } else if self.partial_line {
            // End the half-written line; the modem rejects or ignores it, and its answer is
            // discarded as stale below.
            let _ = self.write(Out::Bytes(b"\r")).await;
        }
        self.partial_line = false;
        let start = Instant::now();
        let give_up = after(start, self.options.resync_max);
        loop {
            let last_rx = self.shared.with(|s| s.last_rx).max(start);
            let quiet_from = after(last_rx, self.options.resync_quiet);
            let now = Instant::now();
            if now >= quiet_from || now >= give_up {
                break;
            }
            Timer::at(quiet_from.min(give_up)).await;
        }
        self.dirty = false;
    }
}

/// What one write puts on the wire.
#[derive(Clone, Copy)]
enum Out<'a> {
    Line(&'a Wire<'a>),
    Bytes(&'a [u8]),
}

/// One command as the exchange engine takes it: nothing in it depends on the command's type.
struct Request<'w> {
    wire: Wire<'w>,
    data: Option<&'w [u8]>,
    pending: Pending,
    carries_code: bool,
    failure: fn(&Detail) -> ErrorKind,
    deadline: Duration,
}

/// `at + d`, saturating instead of panicking on an absurd duration.
fn after(at: Instant, d: Duration) -> Instant {
    at.checked_add(d).unwrap_or(Instant::MAX)
}

/// Marks the pending answer stale if the command future is dropped mid-flight, so that the
/// runner does not keep judging lines as its answer until the next command.
struct Abandon<'s, const R: usize, const E: usize>(&'s Shared<R, E>);

impl<const R: usize, const E: usize> Drop for Abandon<'_, R, E> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// A pull read found nothing held: the count is cleared, unless a notice came since the read
/// began (a new message, announced right after the answer).
fn held_nothing<const N: usize>(s: &mut Slot<N>) {
    if !s.noticed {
        s.waiting = 0;
    }
}
