//! A scripted modem behind a `mockall` mock of `embedded_io_async::{Read, Write}`.
//!
//! The writer mock records every byte the driver writes. When a line (ending in CR) is
//! complete, the next scripted exchange is checked against it and its reply is queued for the
//! reader mock, which hands it out in chunks of a chosen size.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[path = "../../src/deadline.rs"]
mod deadline;
pub use deadline::deadline;

use embedded_io::ErrorKind;
use mqtt_modem::{Dialect, Event, Events, MqttModem, Options, Resources, Runner, Uc8088};

mockall::mock! {
    pub Uart {}
    impl embedded_io_async::ErrorType for Uart {
        type Error = ErrorKind;
    }
    impl embedded_io_async::Read for Uart {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind>;
    }
    impl embedded_io_async::Write for Uart {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind>;
        async fn flush(&mut self) -> Result<(), ErrorKind>;
    }
}

/// What the scripted modem does with a line.
#[derive(Clone)]
pub struct Exchange {
    pub line: Vec<u8>,
    pub reply: Vec<u8>,
}

/// `line` is what the driver must write (CR included); `reply` what the modem answers.
pub fn ex(line: &[u8], reply: &[u8]) -> Exchange {
    Exchange {
        line: line.to_vec(),
        reply: reply.to_vec(),
    }
}

#[derive(Default)]
pub struct State {
    pub sent: Vec<u8>,
    line_start: usize,
    pub script: VecDeque<Exchange>,
    pub rx: VecDeque<u8>,
    pub mismatches: Vec<String>,
    /// The serial device is gone: every read and write fails.
    pub dead: bool,
    /// Reads made while the device was gone.
    pub dead_reads: usize,
    /// The length of each write, in order.
    pub writes: Vec<usize>,
    /// When each write was made, in order.
    pub write_times: Vec<std::time::Instant>,
    /// Writes fail once this many bytes were sent (until [`Wire::revive`]).
    pub fail_at: Option<usize>,
    /// Flushes fail (the bytes written went out all the same).
    pub fail_flush: bool,
    /// This many reads still fail (a line error: an overrun, a framing error).
    pub fail_reads: usize,
}

#[derive(Clone, Default)]
pub struct Wire(pub Arc<Mutex<State>>);

impl Wire {
    pub fn new(script: Vec<Exchange>) -> Self {
        let w = Wire::default();
        w.0.lock().unwrap().script = script.into();
        w
    }

    /// Bytes the modem sends unasked, right now.
    pub fn inject(&self, bytes: &[u8]) {
        self.0.lock().unwrap().rx.extend(bytes);
    }

    /// Unplugs the serial device: from now on every read and write fails.
    pub fn kill(&self) {
        self.0.lock().unwrap().dead = true;
    }

    /// Writes fail once `bytes` bytes in all were written (the rest of that write is lost).
    pub fn fail_writes_at(&self, bytes: usize) {
        self.0.lock().unwrap().fail_at = Some(bytes);
    }

    /// Flushes fail, after the bytes written went out.
    pub fn fail_flushes(&self) {
        self.0.lock().unwrap().fail_flush = true;
    }

    /// The next `n` reads fail, the ones after work.
    pub fn fail_reads(&self, n: usize) {
        self.0.lock().unwrap().fail_reads = n;
    }

    /// Writes work again.
    pub fn revive(&self) {
        let mut s = self.0.lock().unwrap();
        s.fail_at = None;
        s.fail_flush = false;
    }

    /// When each write was made, in order.
    pub fn write_times(&self) -> Vec<std::time::Instant> {
        self.0.lock().unwrap().write_times.clone()
    }

    /// How many reads the runner made since [`Wire::kill`].
    pub fn dead_reads(&self) -> usize {
        self.0.lock().unwrap().dead_reads
    }

    /// The length of each write the driver made, in order.
    pub fn writes(&self) -> Vec<usize> {
        self.0.lock().unwrap().writes.clone()
    }

    pub fn sent(&self) -> Vec<u8> {
        self.0.lock().unwrap().sent.clone()
    }

    /// Panics (in the test, not the mock) if the script was not followed to the end.
    pub fn assert_done(&self) {
        let s = self.0.lock().unwrap();
        assert!(
            s.mismatches.is_empty(),
            "wire mismatches: {:?}",
            s.mismatches
        );
        assert!(
            s.script.is_empty(),
            "unsent exchanges left: {:?}",
            s.script
                .iter()
                .map(|e| String::from_utf8_lossy(&e.line).into_owned())
                .collect::<Vec<_>>()
        );
    }

    /// The writer half: records bytes and plays the script.
    pub fn writer(&self) -> MockUart {
        let mut m = MockUart::new();
        let state = self.0.clone();
        m.expect_write().returning(move |buf| {
            let mut s = state.lock().unwrap();
            if s.dead {
                return Err(ErrorKind::BrokenPipe);
            }
            let mut buf = buf;
            if let Some(at) = s.fail_at {
                let room = at.saturating_sub(s.sent.len());
                if room == 0 {
                    return Err(ErrorKind::BrokenPipe);
                }
                buf = &buf[..buf.len().min(room)];
            }
            s.sent.extend_from_slice(buf);
            s.writes.push(buf.len());
            s.write_times.push(std::time::Instant::now());
            // Each scripted step is exactly the bytes the driver must write: a line (CR or
            // CR LF included) or a prompted command's raw data. A step is judged once that
            // many bytes came, or earlier at a CR (a line shorter than the script's).
            loop {
                let written = &s.sent[s.line_start..];
                let want = s.script.front().map(|e| e.line.len());
                let cr = written.iter().position(|&b| b == b'\r');
                let take = match (want, cr) {
                    (Some(n), _) if written.len() >= n => n,
                    (_, Some(i)) => i + 1 + usize::from(written.get(i + 1) == Some(&b'\n')),
                    _ => break,
                };
                let end = s.line_start + take;
                let line = s.sent[s.line_start..end].to_vec();
                s.line_start = end;
                match s.script.pop_front() {
                    Some(e) if e.line == line => s.rx.extend(e.reply),
                    Some(e) => {
                        let msg = format!(
                            "expected {:?}, driver wrote {:?}",
                            String::from_utf8_lossy(&e.line),
                            String::from_utf8_lossy(&line)
                        );
                        s.mismatches.push(msg);
                    }
                    None => s.mismatches.push(format!(
                        "unscripted line {:?}",
                        String::from_utf8_lossy(&line)
                    )),
                }
            }
            Ok(buf.len())
        });
        let state = self.0.clone();
        m.expect_flush().returning(move || {
            if state.lock().unwrap().fail_flush {
                return Err(ErrorKind::BrokenPipe);
            }
            Ok(())
        });
        m
    }

    /// The reader half, handing out at most `chunk` bytes per read, and waiting while there
    /// is nothing to read (as a UART does: `Ok(0)` would mean the port is gone).
    pub fn reader(&self, chunk: usize) -> Reader {
        Reader(self.mock_reader(chunk))
    }

    /// The reader mock itself, which answers `Ok(0)` while there is nothing to read.
    pub fn mock_reader(&self, chunk: usize) -> MockUart {
        let mut m = MockUart::new();
        let state = self.0.clone();
        m.expect_read().returning(move |buf| {
            let mut s = state.lock().unwrap();
            if s.dead {
                s.dead_reads += 1;
                return Err(ErrorKind::BrokenPipe);
            }
            if s.fail_reads > 0 {
                s.fail_reads -= 1;
                return Err(ErrorKind::Other);
            }
            let n = s.rx.len().min(buf.len()).min(chunk);
            for b in buf.iter_mut().take(n) {
                *b = s.rx.pop_front().unwrap();
            }
            Ok(n)
        });
        m
    }
}

pub type Modem<'a> = MqttModem<'a, MockUart>;

/// A reader that waits for bytes, over the mock that answers at once.
pub struct Reader(pub MockUart);

impl embedded_io_async::ErrorType for Reader {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for Reader {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        loop {
            match self.0.read(buf).await {
                Ok(0) => embassy_time::Timer::after_millis(1).await,
                other => return other,
            }
        }
    }
}

/// Runs `body` with a modem over a scripted wire, the runner alongside, and checks the script
/// was followed. Returns what `body` returned.
pub fn run<T>(
    script: Vec<Exchange>,
    chunk: usize,
    body: impl AsyncFnOnce(&mut Modem<'_>, &mut Events<'_, 2048>, &Wire) -> T,
) -> T {
    run_with(script, chunk, Options::default(), body)
}

pub fn run_with<T>(
    script: Vec<Exchange>,
    chunk: usize,
    options: Options,
    body: impl AsyncFnOnce(&mut Modem<'_>, &mut Events<'_, 2048>, &Wire) -> T,
) -> T {
    run_dialect(Uc8088, script, chunk, options, body)
}

/// [`run_with`] for a modem speaking dialect `D`.
pub fn run_dialect<D: Dialect, T>(
    dialect: D,
    script: Vec<Exchange>,
    chunk: usize,
    options: Options,
    body: impl AsyncFnOnce(&mut MqttModem<'_, MockUart, D>, &mut Events<'_, 2048>, &Wire) -> T,
) -> T {
    let wire = Wire::new(script);
    // The async bound below cannot end a loop that never yields: this one can.
    let _deadline = deadline(45);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut res: Resources<1152, 256, 2048> = Resources::new();
    let out = rt.block_on(async {
        let (mut modem, runner, mut events) = MqttModem::with_dialect(
            dialect,
            &mut res,
            wire.reader(chunk),
            wire.writer(),
            options,
        );
        let runner: Runner<'_, Reader, D> = runner;
        let body = body(&mut modem, &mut events, &wire);
        // A bound on the whole test: one that waits for something that never comes fails
        // instead of hanging.
        let both = embassy_futures::select::select(runner.run(), body);
        match tokio::time::timeout(std::time::Duration::from_secs(30), both).await {
            Ok(embassy_futures::select::Either::Second(out)) => out,
            Err(_) => panic!("the test did not finish within 30 s"),
        }
    });
    wire.assert_done();
    out
}

// Bring-up scripts the supervisor tests share: init (with the dialect's probe) and configure.

/// A UC8088 brought up and configured for `h:1883` as `id` (the supervisor's first steps).
pub fn uc8088_bring_up() -> Vec<Exchange> {
    vec![
        ex(b"AT\r", b"\r\nOK\r\n"),
        ex(b"ATE0\r", b"\r\nOK\r\n"),
        ex(b"AT+CMEE=1\r", b"\r\nOK\r\n"),
        ex(b"AT+CFUN=1\r", b"\r\nOK\r\n"),
        ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ex(
            b"AT+MQTTCONFIG=\"h\",1883,\"id\",1,60,\"\",\"\"\r",
            b"\r\nOK\r\n",
        ),
    ]
}

/// An ESP-AT module brought up and configured for `h:1883` as `id`.
pub fn esp_at_bring_up() -> Vec<Exchange> {
    let mut script = vec![
        ex(b"AT\r\n", b"\r\nOK\r\n"),
        ex(b"ATE0\r\n", b"\r\nOK\r\n"),
        ex(b"AT+MQTTCONN?\r\n", b"\r\nOK\r\n"),
    ];
    script.extend(esp_at_configure());
    script
}

/// ESP-AT connects again only once cleaned and configured again (docs/DIALECTS.md, ESP-AT).
pub fn esp_at_configure() -> Vec<Exchange> {
    vec![
        ex(b"AT+MQTTCLEAN=0\r\n", b"\r\nERROR\r\n"),
        ex(
            b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"\r\n",
            b"\r\nOK\r\n",
        ),
        ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", b"\r\nOK\r\n"),
    ]
}

/// A Quectel module brought up and configured for `id` (`AT+QMTCFG`).
pub fn quectel_bring_up() -> Vec<Exchange> {
    vec![
        ex(b"AT\r", b"\r\nOK\r\n"),
        ex(b"ATE0\r", b"\r\nOK\r\n"),
        ex(b"AT+CMEE=1\r", b"\r\nOK\r\n"),
        ex(b"AT+CFUN=1\r", b"\r\nOK\r\n"),
        ex(b"AT+QMTCONN?\r", b"\r\nOK\r\n"),
        ex(b"AT+QMTCFG=\"version\",0,4\r", b"\r\nOK\r\n"),
        ex(b"AT+QMTCFG=\"keepalive\",0,60\r", b"\r\nOK\r\n"),
        ex(b"AT+QMTCFG=\"session\",0,1\r", b"\r\nOK\r\n"),
        ex(b"AT+QMTCFG=\"recv/mode\",0,0,1\r", b"\r\nOK\r\n"),
        ex(b"AT+QMTCFG=\"will\",0,0\r", b"\r\nOK\r\n"),
    ]
}

/// The next event, which must come within two seconds: a test that waits for one fails
/// instead of hanging when it never comes.
pub async fn next_event<'b, const E: usize>(
    events: &mut Events<'_, E>,
    buf: &'b mut [u8],
) -> Event<'b> {
    embassy_time::with_timeout(embassy_time::Duration::from_secs(2), events.next(buf))
        .await
        .expect("no event within two seconds")
}
