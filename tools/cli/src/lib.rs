//! Shared plumbing of the `mqtt-modem-cli` and `demo` binaries: opening a serial port as a
//! driver session, and showing AT traffic in a form a person can read.

use std::io;
use std::sync::{Arc, Mutex};

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{ErrorType, Read, Write};
use mqtt_modem::{Dialect, Events, MqttModem, Options, Resources, Uc8088};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::task::JoinHandle;
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Receive buffer: one `+MQTTRECV` header plus a 4 KiB payload.
pub const INGRESS: usize = 4608;
/// Information lines of one answer (`AT+MQTTSUB?` with many filters is the longest).
pub const RESPONSE: usize = 2048;
/// Queue of incoming messages waiting for the application.
pub const EVENTS: usize = 16384;

/// The receive half as the driver sees it.
pub type Reader = Tap<FromTokio<ReadHalf<SerialStream>>>;
/// The transmit half as the driver sees it.
pub type Writer = Tap<FromTokio<WriteHalf<SerialStream>>>;
/// The driver's client handle on a serial port, for a module speaking dialect `D`.
pub type Modem<D = Uc8088> = MqttModem<'static, Writer, D, RESPONSE, EVENTS>;

/// The dialects `--dialect` names (CLI and demo).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectArg {
    /// UCchip UC8088 (`AT+MQTTCONFIG`, `AT+MQTTPUB`, …).
    Uc8088,
    /// Espressif ESP-AT (`AT+MQTTUSERCFG`, `AT+MQTTPUBRAW`, …).
    EspAt,
    /// Quectel (`AT+QMTOPEN`, `AT+QMTPUBEX`, …).
    Quectel,
}

impl DialectArg {
    /// The simulator speaking this dialect.
    pub const fn sim(self) -> modem_sim::Dialect {
        match self {
            Self::Uc8088 => modem_sim::Dialect::Uc8088,
            Self::EspAt => modem_sim::Dialect::EspAt,
            Self::Quectel => modem_sim::Dialect::Quectel,
        }
    }
}

/// Shows `bytes` on one line: printable ASCII as is, CR, LF and TAB as `\r`, `\n`, `\t`,
/// anything else as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// Which way serial bytes go, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Host → modem, shown as `>> `.
    ToModem,
    /// Modem → host, shown as `<< `.
    FromModem,
}

impl Direction {
    /// The prefix of a displayed line.
    pub const fn arrow(self) -> &'static str {
        match self {
            Self::ToModem => ">> ",
            Self::FromModem => "<< ",
        }
    }
}

/// Cuts a byte stream into display lines: host lines end at `\r`; modem lines end at `\n`,
/// and a blank `\r\n` is kept as the start of the line that follows it, so every byte is shown
/// exactly once.
#[derive(Debug)]
pub struct LineSplitter {
    dir: Direction,
    buf: Vec<u8>,
}

impl LineSplitter {
    /// A splitter for one direction.
    pub fn new(dir: Direction) -> Self {
        Self {
            dir,
            buf: Vec::new(),
        }
    }

    /// Adds bytes; returns the complete lines, escaped and prefixed with the arrow.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let end = match self.dir {
            Direction::ToModem => b'\r',
            Direction::FromModem => b'\n',
        };
        let mut out = Vec::new();
        for &b in bytes {
            // A host line ends at CR; an LF right after it (ESP-AT's CR LF) belongs to it.
            if self.dir == Direction::ToModem && self.buf.last() == Some(&b'\r') {
                if b == b'\n' {
                    self.buf.push(b);
                    out.push(self.render());
                    continue;
                }
                out.push(self.render());
            }
            self.buf.push(b);
            if b != end || self.dir == Direction::ToModem {
                continue;
            }
            let blank = self.buf.iter().all(|&c| c == b'\r' || c == b'\n');
            if blank && self.dir == Direction::FromModem {
                continue;
            }
            out.push(self.render());
        }
        out
    }

    /// The incomplete rest, if any.
    pub fn flush(&mut self) -> Option<String> {
        (!self.buf.is_empty()).then(|| self.render())
    }

    /// The incomplete rest, when the other side's traffic shows it is complete: a host line (its
    /// CR may be the last byte), or a modem prompt; line ends the modem sent before its next
    /// line stay pending.
    fn flush_shown(&mut self) -> Option<String> {
        let blank = self.buf.iter().all(|&c| c == b'\r' || c == b'\n');
        if self.dir == Direction::FromModem && blank {
            return None;
        }
        self.flush()
    }

    fn render(&mut self) -> String {
        let line = format!("{}{}", self.dir.arrow(), escape(&self.buf));
        self.buf.clear();
        line
    }
}

/// The serial traffic of both directions as display lines, in the order it happened: a command
/// line before the answer to it, a `>` prompt before the data written after it.
///
/// Each direction is cut into lines by its own [`LineSplitter`]. A host line is complete once the
/// modem answers (it may end in a bare CR that an LF could still follow), and a modem prompt is
/// shown when the host writes after it; so bytes of one direction first show what is pending in
/// the other. A line whose bytes come in several chunks of the same direction is still shown once,
/// whole.
#[derive(Debug)]
pub struct Trace {
    to_modem: LineSplitter,
    from_modem: LineSplitter,
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self {
            to_modem: LineSplitter::new(Direction::ToModem),
            from_modem: LineSplitter::new(Direction::FromModem),
        }
    }

    /// Adds bytes that went `dir`; returns the lines to show now, in order.
    pub fn push(&mut self, dir: Direction, bytes: &[u8]) -> Vec<String> {
        let (this, other) = match dir {
            Direction::ToModem => (&mut self.to_modem, &mut self.from_modem),
            Direction::FromModem => (&mut self.from_modem, &mut self.to_modem),
        };
        let mut out: Vec<String> = other.flush_shown().into_iter().collect();
        out.extend(this.push(bytes));
        out
    }

    /// Whatever is still pending, host side first.
    pub fn flush(&mut self) -> Vec<String> {
        [&mut self.to_modem, &mut self.from_modem]
            .into_iter()
            .filter_map(LineSplitter::flush)
            .collect()
    }
}

/// An `embedded-io-async` reader or writer that can print what passes through it to stderr,
/// through a [`Trace`] it shares with the other half of the port (so the two directions print
/// in order).
pub struct Tap<T> {
    inner: T,
    dir: Direction,
    log: Option<Arc<Mutex<Trace>>>,
    /// Bytes shown before the inner writer took them (see `write`).
    shown_ahead: usize,
}

impl<T> Tap<T> {
    /// Wraps `inner`; prints its traffic in direction `dir` into `trace`, if given.
    pub fn new(inner: T, dir: Direction, trace: Option<Arc<Mutex<Trace>>>) -> Self {
        Self {
            inner,
            dir,
            log: trace,
            shown_ahead: 0,
        }
    }

    fn show(&self, bytes: &[u8]) {
        if let Some(Ok(mut trace)) = self.log.as_deref().map(Mutex::lock) {
            for line in trace.push(self.dir, bytes) {
                eprintln!("{line}");
            }
        }
    }
}

impl<T> Drop for Tap<T> {
    fn drop(&mut self) {
        if let Some(Ok(mut trace)) = self.log.as_deref().map(Mutex::lock) {
            for rest in trace.flush() {
                eprintln!("{rest}");
            }
        }
    }
}

impl<T: ErrorType> ErrorType for Tap<T> {
    type Error = T::Error;
}

impl<T: Read> Read for Tap<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = self.inner.read(buf).await?;
        self.show(&buf[..n]);
        Ok(n)
    }
}

impl<T: Write> Write for Tap<T> {
    /// Shows the bytes before writing them: the modem may answer, and the runner show the
    /// answer, before this write returns. What the inner writer does not take is offered again
    /// by `write_all` as the start of the next call, and is not shown twice.
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let again = self.shown_ahead.min(buf.len());
        self.show(&buf[again..]);
        self.shown_ahead = self.shown_ahead.max(buf.len());
        match self.inner.write(buf).await {
            Ok(n) => {
                self.shown_ahead -= n.min(self.shown_ahead);
                Ok(n)
            }
            Err(e) => {
                self.shown_ahead = 0;
                Err(e)
            }
        }
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush().await
    }
}

/// A driver session on a serial port: the client, the event receiver, and the runner task.
/// Dropping it stops the runner and closes the port.
pub struct Session<D: Dialect = Uc8088> {
    /// The driver's client handle.
    pub modem: Modem<D>,
    /// Incoming messages and events.
    pub events: Events<'static, EVENTS>,
    runner: JoinHandle<()>,
}

impl Session {
    /// Opens `path` at `baud` and starts the driver's runner on the current tokio runtime.
    /// With `verbose`, the AT traffic in both directions is printed to stderr.
    ///
    /// The driver's buffers are leaked (a few tens of KiB per session).
    pub fn open(path: &str, baud: u32, verbose: bool) -> io::Result<Self> {
        Self::open_with(path, baud, verbose, Options::default())
    }

    /// [`Session::open`] with the driver's [`Options`].
    pub fn open_with(path: &str, baud: u32, verbose: bool, options: Options) -> io::Result<Self> {
        Session::open_dialect(Uc8088, path, baud, verbose, options)
    }
}

impl<D: Dialect> Session<D> {
    /// [`Session::open_with`] for a module speaking `dialect`.
    pub fn open_dialect(
        dialect: D,
        path: &str,
        baud: u32,
        verbose: bool,
        options: Options,
    ) -> io::Result<Self> {
        let mut port = tokio_serial::new(path, baud)
            .open_native_async()
            .map_err(|e| io::Error::other(format!("cannot open {path}: {e}")))?;
        // Exclusive mode outlives this process on a pty whose other end stays open, which would
        // lock out the next invocation; a bring-up tool does not need it.
        let _ = port.set_exclusive(false);
        let (rx, tx) = tokio::io::split(port);
        let trace = verbose.then(|| Arc::new(Mutex::new(Trace::new())));
        let reader = Tap::new(FromTokio::new(rx), Direction::FromModem, trace.clone());
        let writer = Tap::new(FromTokio::new(tx), Direction::ToModem, trace);
        let res: &'static mut Resources<INGRESS, RESPONSE, EVENTS> =
            Box::leak(Box::new(Resources::new()));
        let (modem, runner, events) =
            MqttModem::with_dialect(dialect, res, reader, writer, options);
        let runner = tokio::spawn(async move {
            runner.run().await;
        });
        Ok(Self {
            modem,
            events,
            runner,
        })
    }
}

impl<D: Dialect> Drop for Session<D> {
    fn drop(&mut self) {
        self.runner.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_line_ends_and_binary() {
        assert_eq!(
            escape(b"AT+X=\"a\"\r\n\x00\xc3"),
            "AT+X=\"a\"\\r\\n\\x00\\xc3"
        );
    }

    #[test]
    fn splits_modem_lines_keeping_blank_prefix() {
        let mut s = LineSplitter::new(Direction::FromModem);
        let lines = s.push(b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n\r\n+MQ");
        assert_eq!(lines, ["<< \\r\\n+MQTTSTATE:1\\r\\n", "<< \\r\\nOK\\r\\n"]);
        assert_eq!(s.flush().as_deref(), Some("<< \\r\\n+MQ"));
        assert_eq!(s.flush(), None);
    }

    #[test]
    fn splits_host_lines_at_cr() {
        let mut s = LineSplitter::new(Direction::ToModem);
        // A line ending in CR is shown once the next byte tells whether an LF follows.
        assert_eq!(s.push(b"AT\rATE0\r"), [">> AT\\r"]);
        assert_eq!(s.flush().as_deref(), Some(">> ATE0\\r"));
        assert_eq!(
            s.push(b"AT\r\nAT+GMR\r\nAT"),
            [">> AT\\r\\n", ">> AT+GMR\\r\\n"]
        );
    }

    #[test]
    fn trace_shows_each_command_before_its_answer() {
        let mut t = Trace::new();
        // A host line ending in CR is complete once the modem answers.
        assert!(t.push(Direction::ToModem, b"AT+MQTTSTATE\r").is_empty());
        assert_eq!(
            t.push(Direction::FromModem, b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
            [
                ">> AT+MQTTSTATE\\r",
                "<< \\r\\n+MQTTSTATE:1\\r\\n",
                "<< \\r\\nOK\\r\\n"
            ]
        );
        // A line written in two pieces is shown once, whole; a prompt before the data.
        assert!(
            t.push(Direction::ToModem, b"AT+QMTPUBEX=0,0,0,0,")
                .is_empty()
        );
        assert!(t.push(Direction::ToModem, b"\"t\",2\r").is_empty());
        assert_eq!(
            t.push(Direction::FromModem, b"\r\n> "),
            [">> AT+QMTPUBEX=0,0,0,0,\"t\",2\\r"]
        );
        assert_eq!(t.push(Direction::ToModem, b"h"), ["<< \\r\\n> "]);
        assert!(t.push(Direction::ToModem, b"i").is_empty());
        assert_eq!(
            t.push(Direction::FromModem, b"\r\nOK\r\n"),
            [">> hi", "<< \\r\\nOK\\r\\n"]
        );
        assert!(t.flush().is_empty());
    }
}
