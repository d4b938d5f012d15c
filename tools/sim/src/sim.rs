//! The simulator's plumbing: the pseudo-terminal, the paced reader and writer tasks, the fault
//! knobs and the handle that controls them.
//!
//! Data flow: host bytes → reader task (paced) → modem task (the dialect's line reader splits
//! command lines, or collects a prompted command's raw data; the dialect executes, the engine
//! talks to the broker) → writer task (inject, noise, pacing) → host.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_serial::{SerialPort, SerialStream};

use crate::broker::BrokerShared;
use crate::dialect::esp_at::EspAt;
use crate::dialect::quectel::Quectel;
use crate::dialect::uc8088::Uc8088;
use crate::dialect::{Dialect, Ident};
use crate::modem::{self, Control, Core};

/// Longest command line the modem buffers; a longer line is answered with an error.
pub const MAX_LINE: usize = 8192;

/// Start-up settings of a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Create a symlink at this path pointing to the pty device (removed on drop).
    pub link: Option<PathBuf>,
    /// Pace both directions at this baud rate (8N1, 10 bits a byte); `None` = as fast as possible.
    pub baud: Option<u32>,
    /// Delay before each command's response.
    pub latency: Duration,
    /// Probability per modem→host byte of being corrupted (bit flip or inserted byte).
    pub noise_rate: f64,
    /// Seed of the noise generator.
    pub seed: u64,
    /// Budget for a broker connection (`AT+MQTTCONNECT`: the manual's 5 s; also ESP-AT's
    /// `AT+MQTTCONN`, Quectel's `AT+QMTOPEN` and `AT+QMTCONN`).
    pub connect_timeout: Duration,
    /// How long a publish, subscribe or unsubscribe waits for its acknowledgement.
    pub ack_timeout: Duration,
    /// How identification commands are answered (UC8088 only).
    pub ident: Ident,
    /// The AT command set spoken.
    pub dialect: Dialect,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            link: None,
            baud: None,
            latency: Duration::ZERO,
            noise_rate: 0.0,
            seed: 0,
            connect_timeout: Duration::from_secs(5),
            ack_timeout: Duration::from_secs(5),
            ident: Ident::Single,
            dialect: Dialect::Uc8088,
        }
    }
}

/// Direction of a chunk of serial traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Host → modem (bytes the modem accepted).
    Rx,
    /// Modem → host (bytes as written, after noise and injection).
    Tx,
}

/// A chunk of serial traffic, as published on [`SimHandle::traffic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traffic {
    /// Which way the bytes went.
    pub dir: Dir,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a chunk handed to the writer is; injection applies to responses only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkKind {
    Echo,
    Response,
    Urc,
}

/// A unit of modem→host output; the writer never interleaves two chunks.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub kind: ChunkKind,
    pub bytes: Vec<u8>,
}

/// Fault knobs, and the line's state the reader and writer share, held by the handle and the
/// tasks.
#[derive(Debug)]
pub(crate) struct Knobs {
    baud: AtomicU32,
    latency_us: AtomicU64,
    silent: AtomicBool,
    noise: Mutex<(f64, StdRng)>,
    inject: Mutex<Option<(usize, Vec<u8>)>>,
    /// When the last byte from the host was received (its stop bit done), in nanoseconds
    /// since `epoch`: the modem's answer starts on the line from there.
    heard_ns: AtomicU64,
    epoch: std::time::Instant,
}

impl Knobs {
    fn baud(&self) -> Option<u32> {
        Some(self.baud.load(Ordering::Relaxed)).filter(|&b| b > 0)
    }
    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }
    pub fn silent(&self) -> bool {
        self.silent.load(Ordering::SeqCst)
    }
    fn heard(&self, at: std::time::Instant) {
        let ns = at.saturating_duration_since(self.epoch).as_nanos() as u64;
        self.heard_ns.store(ns, Ordering::Relaxed);
    }
    fn last_heard(&self) -> std::time::Instant {
        self.epoch + Duration::from_nanos(self.heard_ns.load(Ordering::Relaxed))
    }
}

/// Entry point: see [`Sim::start`].
#[derive(Debug)]
pub struct Sim;

impl Sim {
    /// Open a pty pair and start the simulated modem on the current tokio runtime.
    ///
    /// The host side opens [`SimHandle::device_path`]. The simulator keeps its own descriptor
    /// of that device open, so the host may close and reopen it at will.
    pub async fn start(opts: SimOptions) -> io::Result<SimHandle> {
        let (master, slave) = SerialStream::pair().map_err(io::Error::other)?;
        let device = slave
            .name()
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other("pty slave has no name"))?;
        if let Some(link) = &opts.link {
            let _ = std::fs::remove_file(link);
            std::os::unix::fs::symlink(&device, link)?;
        }
        let knobs = Arc::new(Knobs {
            baud: AtomicU32::new(opts.baud.unwrap_or(0)),
            latency_us: AtomicU64::new(opts.latency.as_micros() as u64),
            silent: AtomicBool::new(false),
            noise: Mutex::new((opts.noise_rate, StdRng::seed_from_u64(opts.seed))),
            inject: Mutex::new(None),
            heard_ns: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
        });
        let (traffic, _) = broadcast::channel(4096);
        let (input_tx, input_rx) = mpsc::unbounded_channel();
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (broker, broker_rx) = BrokerShared::new();
        let (rd, wr) = tokio::io::split(master);

        let reader = tokio::spawn(read_task(rd, knobs.clone(), traffic.clone(), input_tx));
        let writer = tokio::spawn(write_task(wr, knobs.clone(), traffic.clone(), out_rx));
        let core = Core::new(
            out_tx,
            knobs.clone(),
            broker.clone(),
            broker_rx,
            opts.connect_timeout,
            opts.ack_timeout,
        );
        let (ident, input, control) = (opts.ident, input_rx, control_rx);
        let modem = match opts.dialect {
            Dialect::Uc8088 => tokio::spawn(modem::run::<Uc8088>(core, ident, input, control)),
            Dialect::EspAt => tokio::spawn(modem::run::<EspAt>(core, ident, input, control)),
            Dialect::Quectel => tokio::spawn(modem::run::<Quectel>(core, ident, input, control)),
        };
        Ok(SimHandle {
            device,
            dialect: opts.dialect,
            link: opts.link,
            knobs,
            broker,
            control: control_tx,
            traffic,
            tasks: vec![reader, writer, modem],
            _slave: slave,
            _thread: None,
        })
    }

    /// Start the simulated modem on a thread of its own (a single-threaded runtime), as a
    /// modem is a device of its own: its hand-overs from line to modem to line never wait for
    /// the caller's tasks, nor cross threads. It stops when the handle is dropped.
    pub fn spawn(opts: SimOptions) -> io::Result<SimHandle> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("modem-sim".into())
            .spawn(move || {
                // Built and dropped on this thread: a runtime may not be dropped in async code.
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(e) => return drop(handle_tx.send(Err(e))),
                };
                runtime.block_on(async move {
                    let started = Sim::start(opts).await;
                    let ok = started.is_ok();
                    let _ = handle_tx.send(started);
                    if ok {
                        let _ = stop_rx.await;
                    }
                })
            })?;
        let mut handle = handle_rx
            .recv()
            .map_err(|_| io::Error::other("the simulator's thread ended"))??;
        handle._thread = Some(stop_tx);
        Ok(handle)
    }
}

/// Control handle of a running simulator. Dropping it stops the simulator and closes the pty.
#[derive(Debug)]
pub struct SimHandle {
    device: PathBuf,
    dialect: Dialect,
    link: Option<PathBuf>,
    knobs: Arc<Knobs>,
    broker: Arc<BrokerShared>,
    control: mpsc::UnboundedSender<Control>,
    traffic: broadcast::Sender<Traffic>,
    tasks: Vec<JoinHandle<()>>,
    // Held open so the master never reads EIO while the host has the device closed.
    _slave: SerialStream,
    // Ends the simulator's own thread ([`Sim::spawn`]) when dropped, after the fields above.
    _thread: Option<oneshot::Sender<()>>,
}

impl SimHandle {
    /// Path of the pty device the host opens (e.g. `/dev/pts/7`).
    pub fn device_path(&self) -> &Path {
        &self.device
    }

    /// The AT command set this simulator speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Pace both directions at `baud` (8N1), or unpaced with `None`.
    pub fn set_baud(&self, baud: Option<u32>) {
        self.knobs.baud.store(baud.unwrap_or(0), Ordering::Relaxed);
    }

    /// Delay each command's response (after the echo) by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.knobs
            .latency_us
            .store(latency.as_micros() as u64, Ordering::Relaxed);
    }

    /// While silent, command lines are swallowed unanswered (no echo, not executed) and every
    /// output chunk, URCs included, is discarded. `false` resumes normal service.
    pub fn set_silent(&self, silent: bool) {
        self.knobs.silent.store(silent, Ordering::SeqCst);
    }

    /// Corrupt modem→host bytes with probability `rate` each (half bit flips, half inserted
    /// random bytes), from a generator reseeded with `seed`. `rate` 0 turns noise off.
    pub fn set_noise(&self, rate: f64, seed: u64) {
        if let Ok(mut n) = self.knobs.noise.lock() {
            *n = (rate, StdRng::seed_from_u64(seed));
        }
    }

    /// Insert `bytes` at byte `offset` (clamped to its length) of the next command response
    /// (echo and URCs do not count). Replaces any injection not yet used.
    pub fn inject_in_next_response(&self, offset: usize, bytes: impl Into<Vec<u8>>) {
        if let Ok(mut i) = self.knobs.inject.lock() {
            *i = Some((offset, bytes.into()));
        }
    }

    /// Reboot: forget configuration, TLS material and subscriptions, drop the broker
    /// connection, turn echo back on, then print the dialect's boot banner
    /// ([`Dialect::boot_banner`]: `\r\nRDY\r\n`, ESP-AT `\r\nready\r\n`). Takes effect between
    /// commands; a prompted command still waiting for its data is abandoned.
    pub fn reboot(&self) {
        let _ = self.control.send(Control::Reboot);
    }

    /// Simulate network loss: the broker connection closes without DISCONNECT and
    /// `AT+MQTTSTATE` answers 0 from now on. The UC8088 emits no URC; ESP-AT emits
    /// `+MQTTDISCONNECTED:0`, Quectel `+QMTSTAT: 0,1`.
    pub fn drop_broker_connection(&self) {
        self.broker.drop_connection();
    }

    /// Whether the broker connection is currently up.
    pub fn is_broker_connected(&self) -> bool {
        self.broker.is_alive()
    }

    /// Write arbitrary bytes to the host between two responses, as a URC.
    pub fn emit_urc(&self, bytes: impl Into<Vec<u8>>) {
        let _ = self.control.send(Control::EmitUrc(bytes.into()));
    }

    /// Emit the dialect's incoming-message URC as if the message came from the broker:
    /// `+MQTTRECV:"<topic>",<len>,<payload>` (UC8088), `+MQTTSUBRECV:0,"<topic>",<len>,<payload>`
    /// (ESP-AT), `+QMTRECV: 0,0,"<topic>"[,<len>],"<payload>"` (Quectel, by its `recv/mode`).
    pub fn emit_message(&self, topic: &str, payload: &[u8]) {
        let _ = self.control.send(Control::EmitMessage {
            topic: topic.to_string(),
            payload: payload.to_vec(),
        });
    }

    /// Subscribe to a copy of the serial traffic in both directions.
    pub fn traffic(&self) -> broadcast::Receiver<Traffic> {
        self.traffic.subscribe()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.broker.drop_connection();
        for t in &self.tasks {
            t.abort();
        }
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }
}

/// One byte's time on the line at `baud`, 8N1 (10 bits).
fn frame(baud: u32) -> Duration {
    Duration::from_nanos(10_000_000_000 / u64::from(baud.max(1)))
}

/// Releases bytes no faster than a baud rate, 10 bits a byte.
struct Pacer {
    start: std::time::Instant,
    sent: u64,
    /// The byte time `start` and `sent` count in (a new baud rate restarts the clock).
    frame: Duration,
}

impl Pacer {
    fn new() -> Self {
        Pacer {
            start: std::time::Instant::now(),
            sent: 0,
            frame: Duration::ZERO,
        }
    }

    /// Take from `rest` the bytes the line carries now at `baud` (all of them when unpaced),
    /// waiting until at least one may go.
    async fn next<'a>(&mut self, baud: Option<u32>, rest: &mut &'a [u8]) -> &'a [u8] {
        let take = match baud {
            Some(baud) => self.due(baud, rest.len()).await,
            None => rest.len(),
        };
        let (now, later) = rest.split_at(take);
        *rest = later;
        now
    }

    /// New bytes to send have come: if the line went idle before they did, the clock restarts
    /// at `from` (what they answer was heard then; the reader passes now) but no earlier than
    /// one byte time ago, so that at most one is due at once, nor before the line fell idle. (Only here: bytes that were waiting go out on the line's schedule,
    /// however late this task wakes for each.)
    fn arrived(&mut self, baud: Option<u32>, from: std::time::Instant) {
        let Some(baud) = baud else { return };
        let now = std::time::Instant::now();
        let idle = self.start + frame(baud) * (self.sent as u32);
        if now > idle {
            let earliest = now.checked_sub(frame(baud)).unwrap_or(now);
            self.start = from.max(earliest).max(idle);
            self.sent = 0;
        }
    }

    /// Wait until at least one byte may go; return how many (≤ `max`) are due now.
    async fn due(&mut self, baud: u32, max: usize) -> usize {
        let frame = frame(baud);
        if frame != self.frame {
            // The baud rate changed: what was sent was counted in the old byte time.
            self.frame = frame;
            self.start = std::time::Instant::now();
            self.sent = 0;
        }
        let next = self.start + frame * (self.sent as u32 + 1);
        let now = std::time::Instant::now();
        if next > now + Duration::from_millis(2) {
            tokio::time::sleep(next - now - Duration::from_millis(2)).await;
        }
        while std::time::Instant::now() < next {
            // Let the host's other threads (an emulator's, on a two-core machine) run.
            std::thread::yield_now();
            tokio::task::yield_now().await;
        }
        let elapsed = std::time::Instant::now() - self.start;
        let total = (elapsed.as_nanos() / frame.as_nanos().max(1)) as u64;
        let n = (total.saturating_sub(self.sent) as usize).clamp(1, max);
        self.sent += n as u64;
        if self.sent > 1 << 30 {
            self.start += frame * (self.sent as u32);
            self.sent = 0;
        }
        n
    }
}

async fn read_task(
    mut rd: impl AsyncRead + Unpin,
    knobs: Arc<Knobs>,
    traffic: broadcast::Sender<Traffic>,
    input: mpsc::UnboundedSender<Vec<u8>>,
) {
    let mut buf = vec![0u8; 4096];
    let mut pacer = Pacer::new();
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => {
                // No host has the device open (or a transient error): poll again shortly.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Ok(n) => n,
        };
        let mut rest = &buf[..n];
        pacer.arrived(knobs.baud(), std::time::Instant::now());
        while !rest.is_empty() {
            let now = pacer.next(knobs.baud(), &mut rest).await;
            knobs.heard(std::time::Instant::now());
            let _ = traffic.send(Traffic {
                dir: Dir::Rx,
                bytes: now.to_vec(),
            });
            // The modem task's line reader splits lines (or collects prompted data).
            let _ = input.send(now.to_vec());
        }
    }
}

async fn write_task(
    mut wr: impl AsyncWrite + Unpin,
    knobs: Arc<Knobs>,
    traffic: broadcast::Sender<Traffic>,
    mut chunks: mpsc::UnboundedReceiver<Chunk>,
) {
    let mut pacer = Pacer::new();
    while let Some(chunk) = chunks.recv().await {
        if knobs.silent() {
            continue;
        }
        let mut bytes = chunk.bytes;
        if chunk.kind == ChunkKind::Response {
            if let Some((at, urc)) = knobs.inject.lock().ok().and_then(|mut i| i.take()) {
                let at = at.min(bytes.len());
                bytes.splice(at..at, urc);
            }
        }
        if let Ok(mut noise) = knobs.noise.lock() {
            let (rate, rng) = &mut *noise;
            if *rate > 0.0 {
                bytes = add_noise(&bytes, *rate, rng);
            }
        }
        let mut rest = bytes.as_slice();
        // A modem answers as soon as it has heard the command: the simulator's own hand-over
        // from reader to modem to writer is no time on the line (up to one byte time of it).
        pacer.arrived(knobs.baud(), knobs.last_heard());
        while !rest.is_empty() {
            let now = pacer.next(knobs.baud(), &mut rest).await;
            if wr.write_all(now).await.is_err() {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            let _ = wr.flush().await;
            let _ = traffic.send(Traffic {
                dir: Dir::Tx,
                bytes: now.to_vec(),
            });
        }
    }
}

fn add_noise(bytes: &[u8], rate: f64, rng: &mut StdRng) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for &b in bytes {
        if rng.random_bool(rate.clamp(0.0, 1.0)) {
            if rng.random_bool(0.5) {
                out.push(b ^ (1 << rng.random_range(0..8)));
            } else {
                out.push(rng.random());
                out.push(b);
            }
        } else {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn an_answer_starts_from_when_its_command_was_heard_at_most_a_byte_early() {
        // 10 baud: a byte takes a second, far more than the test's own steps.
        let byte = frame(10);
        let idle = || {
            let mut pacer = Pacer::new();
            pacer.start -= Duration::from_secs(10);
            pacer
        };
        // The line idle: the clock restarts at the moment given.
        let mut pacer = idle();
        let heard = Instant::now();
        pacer.arrived(Some(10), heard);
        assert_eq!((pacer.start, pacer.sent), (heard, 0));
        // Heard long ago (the simulator was slow to answer): no burst, one byte at most is due.
        let mut pacer = idle();
        let long_ago = Instant::now() - Duration::from_secs(5);
        let before = Instant::now();
        pacer.arrived(Some(10), long_ago);
        assert!(pacer.start >= before - byte, "{:?}", before - pacer.start);
        assert!(pacer.start <= Instant::now() - byte);
        // The line still busy with earlier bytes: they keep their schedule.
        let mut pacer = Pacer::new();
        let start = Instant::now();
        (pacer.start, pacer.sent) = (start, 1000);
        pacer.arrived(Some(10), Instant::now());
        assert_eq!((pacer.start, pacer.sent), (start, 1000));
        // Never before the line fell idle.
        let mut pacer = Pacer::new();
        let fell_idle = pacer.start;
        pacer.arrived(Some(10), long_ago);
        assert_eq!(pacer.start, fell_idle);
        // Unpaced: nothing to keep.
        let mut pacer = idle();
        let start = pacer.start;
        pacer.arrived(None, long_ago);
        assert_eq!(pacer.start, start);
    }
}
