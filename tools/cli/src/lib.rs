//! Shared plumbing of the `mqtt-modem-cli` and `demo` binaries: opening a serial port as a
//! driver session, and showing AT traffic in a form a person can read.

use std::io;
use std::sync::Mutex;

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
pub type Modem<D = Uc8088> = MqttModem<'static, Writer, RESPONSE, EVENTS, D>;

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

    fn render(&mut self) -> String {
        let line = format!("{}{}", self.dir.arrow(), escape(&self.buf));
        self.buf.clear();
        line
    }
}

/// An `embedded-io-async` reader or writer that can print what passes through it to stderr.
pub struct Tap<T> {
    inner: T,
    log: Option<Mutex<LineSplitter>>,
}

impl<T> Tap<T> {
    /// Wraps `inner`; prints its traffic in direction `dir` when `verbose`.
    pub fn new(inner: T, dir: Direction, verbose: bool) -> Self {
        Self {
            inner,
            log: verbose.then(|| Mutex::new(LineSplitter::new(dir))),
        }
    }

    fn show(&self, bytes: &[u8]) {
        if let Some(log) = &self.log {
            if let Ok(mut split) = log.lock() {
                for line in split.push(bytes) {
                    eprintln!("{line}");
                }
            }
        }
    }
}

impl<T> Drop for Tap<T> {
    fn drop(&mut self) {
        if let Some(Ok(mut split)) = self.log.as_ref().map(Mutex::lock) {
            if let Some(rest) = split.flush() {
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
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let n = self.inner.write(buf).await?;
        self.show(&buf[..n]);
        Ok(n)
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
        let reader = Tap::new(FromTokio::new(rx), Direction::FromModem, verbose);
        let writer = Tap::new(FromTokio::new(tx), Direction::ToModem, verbose);
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
}
