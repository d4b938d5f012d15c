//! The exchange: one command at a time on the UART's transmit half, with the response slot
//! the runner fills. It writes the line (and a prompted command's data after the `>`), waits
//! for the final result or the completion line under the command's deadline, and judges the
//! answer. Cancel-safe: a command whose answer never came, or whose future was dropped, is
//! followed by a re-synchronisation before the next one, so a late answer is never taken for
//! the next command's.
//!
//! Dialects talk to the modem through an [`Exchange`] only; it knows no module's commands.

pub(crate) mod slot;

use core::marker::PhantomData;

use embassy_time::{Duration, Instant, Timer, with_deadline};
use embedded_io_async::Write;

use crate::command::{ModemCommand, Wire};
use crate::digest::Expect;
use crate::encode::CertEncoding;
use crate::error::{Detail, Error, ErrorKind};
use crate::resources::{LinkHint, Shared};
use slot::Pending;

/// Timing and encoding choices of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// Pause between the end of one command and the start of the next. atat's default is
    /// 20 ms, which costs two thirds of the link at 115200 baud for short commands; the UC8088
    /// manual asks for none, so the default is zero.
    pub command_gap: Duration,
    /// Deadline for writing and flushing one command line, and for each started KiB of a
    /// prompted command's data (a certificate of 8 KiB gets 8 times this: at the default 2 s,
    /// enough down to about 9600 baud).
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
    /// How many `AT` probes [`MqttModem::init`](crate::MqttModem::init) sends before giving up.
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

/// What the exchange (and the runner) ask of a dialect: whether its commands answer in stages
/// (a `>` prompt for raw data, or a completion line after `OK`). Without, that part of the
/// engine and the runner is compiled out. Every [`Dialect`](crate::Dialect) has it.
pub trait Staging {
    /// Whether commands answer in stages.
    const STAGED: bool;
}

/// One command at a time to the modem, for a dialect's operations. Owns the UART's transmit
/// half and the client's side of the response slot.
pub struct Exchange<'a, W, const RESPONSE: usize, const EVENTS: usize, S> {
    writer: W,
    shared: &'a Shared<RESPONSE, EVENTS>,
    options: Options,
    /// A command did not complete (timeout, I/O error, cancelled future): re-synchronise first.
    dirty: bool,
    /// A command line may have been left half-written.
    partial_line: bool,
    /// Raw data bytes of a prompted command that the modem still waits for.
    owed: usize,
    last_done: Instant,
    staging: PhantomData<fn() -> S>,
}

impl<'a, W: Write, const RESPONSE: usize, const EVENTS: usize, S: Staging>
    Exchange<'a, W, RESPONSE, EVENTS, S>
{
    pub(crate) fn new(writer: W, shared: &'a Shared<RESPONSE, EVENTS>, options: Options) -> Self {
        Self {
            writer,
            shared,
            options,
            dirty: false,
            partial_line: false,
            owed: 0,
            last_done: Instant::from_ticks(0),
            staging: PhantomData,
        }
    }

    /// The client's options.
    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    /// The state shared with the runner.
    pub(crate) fn shared(&self) -> &'a Shared<RESPONSE, EVENTS> {
        self.shared
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

    /// Sends any command and returns its parsed answer.
    ///
    /// Guarantees:
    /// - the line is written only after every input was validated;
    /// - `Ok` only when the modem's final result was `OK` and no information line carried a
    ///   non-zero MQTT code;
    /// - a final result that arrives after this command's deadline is discarded (counted in
    ///   [`Stats::stale_responses`](crate::Stats::stale_responses)) and not given to a later command: after a timeout, an
    ///   I/O error or a dropped future, the next call first ends any half-written line with CR
    ///   (or, when a prompted command's data was not written, pads it with zeros, in case the
    ///   modem counts it: its prompt may have come garbled) and waits until the line has been quiet for [`Options::resync_quiet`] (at most
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
            prompt: b"",
            last: false,
        };
        // In a block, so that the future does not keep `data` beside its copy in the request.
        let request = {
            let data = cmd.data();
            Request {
                wire: cmd.wire(),
                data,
                pending: Pending::new(info, data.map(|_| C::PROMPT), cmd.completion()),
                carries_code: C::CARRIES_CODE,
                failure: C::FAILURE,
                deadline: cmd.deadline().min(self.options.max_deadline),
            }
        };
        self.exchange(&request).await?;
        self.shared
            .with(|s| cmd.parse(Ok(s.slot.lines())))
            .map_err(|_| Error::Protocol)
    }

    /// Writes one command (its line, and its data after the prompt) and judges its answer.
    async fn exchange(&mut self, req: &Request<'_>) -> Result<(), Error> {
        self.begin(&req.pending).await;
        // If this future is dropped while the command is in flight, its answer is stale.
        let guard = Abandon(self.shared);
        let result = self.converse(req).await;
        if let Err(e) = &result {
            self.shared.abandon();
            self.noted(e);
        }
        core::mem::forget(guard);
        self.dirty = matches!(result, Err(Error::Timeout | Error::NoRunner))
            || self.owed > 0
            || self.partial_line;
        self.last_done = Instant::now();
        result
    }

    async fn converse(&mut self, req: &Request<'_>) -> Result<(), Error> {
        // A dialect without staged commands compiles none of this.
        let data = req.data.filter(|_| S::STAGED);
        // Once its line is out (and a write that fails or is cut short in the flush may have
        // put it all out), the modem may count the data: a prompt lost or garbled on the line,
        // or a wait cut short, leaves it in data mode all the same, where the next command
        // line would become this command's data. Until the data is written, it is owed.
        self.owed = data.map_or(0, <[u8]>::len);
        self.write(Out::Line(&req.wire)).await?;
        self.partial_line = false;
        self.wait(req.deadline).await?;
        if let Some(data) = data {
            // Woken with no outcome: the prompt came (an error would have been the outcome).
            if self.shared.with(|s| s.slot.waiting()) {
                self.write(Out::Bytes(data)).await?;
                self.owed = 0;
                self.wait(req.deadline).await?;
            }
            self.owed = 0;
        }
        self.judge(req)
    }

    /// Writes and flushes under the write timeout (per started KiB of data).
    async fn write(&mut self, out: Out<'_>) -> Result<(), Error> {
        let kib = match out {
            Out::Line(_) => 1,
            Out::Bytes(bytes) => bytes.len().div_ceil(1024).max(1) as u64,
        };
        let limit = Duration::from_ticks(self.options.write_timeout.as_ticks().saturating_mul(kib));
        let deadline = after(Instant::now(), limit);
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

    /// Waits for the runner's signal: a prompt, a final result or a completion line. Without a
    /// runner reading, no answer could have come: that is said instead of a timeout.
    async fn wait(&mut self, deadline: Duration) -> Result<(), Error> {
        match with_deadline(after(Instant::now(), deadline), self.shared.done.wait()).await {
            Ok(()) => Ok(()),
            Err(_) if !self.shared.with(|s| s.watch.reading) => Err(Error::NoRunner),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// A failure the module reported in a command's own result line (which the dialect reads
    /// after the exchange): its detail read by `kind_of`, and, like every failure the exchange
    /// judges, evidence for the link hint when it says the link is down.
    pub(crate) fn failed(&self, detail: Detail, kind_of: fn(&Detail) -> ErrorKind) -> Error {
        let e = Error::module(detail, kind_of);
        self.noted(&e);
        e
    }

    /// A failure that says the link is down, or that the serial port failed, is evidence for
    /// the [`Supervisor`](crate::Supervisor) (the link hint).
    #[inline(never)]
    fn noted(&self, e: &Error) {
        let hint = match e.kind() {
            ErrorKind::Link => LinkHint::Lost,
            ErrorKind::Io => LinkHint::SerialFailed,
            _ => return,
        };
        self.shared.with(|s| s.watch.note(hint));
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

    /// Judges the answer just completed (see [`Slot::verdict`](slot::Slot::verdict)).
    fn judge(&mut self, req: &Request<'_>) -> Result<(), Error> {
        self.shared
            .with(|s| s.slot.verdict(req.carries_code, req.failure))
    }

    /// Brings the line back to a known state after a command that did not complete.
    async fn resync(&mut self) {
        self.shared.abandon();
        self.shared.with(|s| s.watch.unstick = true);
        if self.partial_line {
            // End the half-written line; the modem rejects or ignores it, and its answer is
            // discarded as stale below. (If the whole line went out after all, the CR is one
            // byte of the data the modem counts, and one zero below goes to spare.)
            let _ = self.write(Out::Bytes(b"\r")).await;
        }
        if self.owed > 0 {
            // The modem may still count raw data of a prompted command that was cut short:
            // give it the rest (zeros), so that it leaves data mode; its answer is stale. If
            // it never took the command, it ignores them (no `AT` before them).
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
        }
        self.partial_line = false;
        let start = Instant::now();
        let give_up = after(start, self.options.resync_max);
        loop {
            let last_rx = self.shared.with(|s| s.watch.last_rx).max(start);
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

#[cfg(test)]
mod tests {
    use super::{Exchange, Options, Out, Staging};
    use crate::error::Error;
    use crate::resources::Shared;
    use embassy_time::{Duration, Timer};

    /// A UART whose every write takes this long.
    struct Slow(Duration);

    impl embedded_io_async::ErrorType for Slow {
        type Error = core::convert::Infallible;
    }

    impl embedded_io_async::Write for Slow {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            Timer::after(self.0).await;
            Ok(buf.len())
        }

        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    struct Staged;

    impl Staging for Staged {
        const STAGED: bool = true;
    }

    /// A prompted command's data gets the write timeout once per started KiB (a certificate
    /// of several KiB at a low baud rate), a line once.
    #[test]
    fn data_gets_the_write_timeout_per_started_kib() {
        let shared: Shared<64, 64> = Shared::new();
        let options = Options {
            write_timeout: Duration::from_millis(100),
            ..Options::default()
        };
        let mut x: Exchange<'_, _, 64, 64, Staged> =
            Exchange::new(Slow(Duration::from_millis(150)), &shared, options);
        embassy_futures::block_on(async {
            assert_eq!(x.write(Out::Bytes(&[0; 1025])).await, Ok(()));
            assert_eq!(x.write(Out::Bytes(&[0; 1024])).await, Err(Error::Timeout));
            let line = crate::command::Wire::fixed_static(b"AT\r");
            assert_eq!(x.write(Out::Line(&line)).await, Err(Error::Timeout));
        });
    }
}
