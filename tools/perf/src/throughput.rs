//! Throughput over the paced line, in each dialect: the real driver and a hand-rolled baseline
//! publishing, and the real driver receiving a back-to-back stream of incoming-message URCs.

use std::time::{Duration, Instant};

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{Read as _, Write as _};
use mqtt_modem::{
    Dialect, EspAt, Event, MqttModem, Options, Qos, Quectel, Resources, Stats, Uc8088,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cpu::find;
use crate::dialect::{Kind, Script};
use crate::pipe::{Line, PacedReader, PacedWriter};

/// The topic of every message: 16 bytes.
pub const TOPIC: &str = "tele/dev-0001/tx";

/// A JSON-like payload of `n` bytes with a `"` (escaped on the wire) every 16 bytes.
pub fn payload(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            if i % 16 == 7 {
                b'"'
            } else {
                b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]
            }
        })
        .collect()
}

/// The fake modem, in `script`'s dialect: takes each command line (up to its last byte, CR or
/// LF), and if it is byte for byte the expected publish, answers at once: the result, or for a
/// prompted dialect the prompt, then after exactly the payload's bytes the result. Any other
/// line is answered `ERROR`. Returns the number of publishes completed and of other lines (or
/// payloads that differed).
pub(crate) async fn fake_modem(
    mut rx: PacedReader,
    mut tx: PacedWriter,
    script: Script,
) -> (u64, u64) {
    let end = *script.line.last().expect("a line");
    let (prompt, result) = (script.kind.prompt_reply(), script.kind.result_reply());
    let mut buf = vec![0u8; 4096];
    let mut line = Vec::with_capacity(script.line.len() + 16);
    // Payload bytes received so far, while in data mode.
    let mut data: Option<usize> = None;
    let mut data_ok = true;
    let (mut publishes, mut others) = (0, 0);
    loop {
        let n = match rx.read(&mut buf).await {
            Ok(0) | Err(_) => return (publishes, others),
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if let Some(k) = data {
                data_ok &= script.data[k] == b;
                if k + 1 < script.data.len() {
                    data = Some(k + 1);
                    continue;
                }
                data = None;
                if data_ok {
                    publishes += 1;
                    tx.write_all(result).await.unwrap();
                } else {
                    others += 1;
                    tx.write_all(b"\r\nERROR\r\n").await.unwrap();
                }
                data_ok = true;
            } else {
                line.push(b);
                if b != end {
                    continue;
                }
                if line != script.line {
                    others += 1;
                    tx.write_all(b"\r\nERROR\r\n").await.unwrap();
                } else if script.data.is_empty() {
                    publishes += 1;
                    tx.write_all(result).await.unwrap();
                } else {
                    data = Some(0);
                    tx.write_all(prompt).await.unwrap();
                }
                line.clear();
            }
        }
    }
}

/// One timed run: operations completed and the time they took.
#[derive(Clone, Default, Debug)]
pub struct Run {
    pub ops: u64,
    pub secs: f64,
    /// Seconds each operation took.
    pub times: Vec<f64>,
}

impl Run {
    pub fn add(&mut self, o: Run) {
        self.ops += o.ops;
        self.secs += o.secs;
        self.times.extend(o.times);
    }
    /// Operations per second over the whole time.
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.secs
    }
    /// The median operation's time, in seconds: insensitive to the odd stall of a loaded host.
    pub fn median(&self) -> f64 {
        let mut t = self.times.clone();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }
}

/// The real driver publishing QoS 0 for `dur`, in `kind`'s dialect.
pub async fn publish_driver(kind: Kind, baud: u32, payload: &[u8], dur: Duration) -> Run {
    match kind {
        Kind::Uc8088 => publish_driver_in(Uc8088, kind, baud, payload, dur).await,
        Kind::EspAt => publish_driver_in(EspAt, kind, baud, payload, dur).await,
        Kind::Quectel => publish_driver_in(Quectel, kind, baud, payload, dur).await,
    }
}

async fn publish_driver_in<D: Dialect>(
    dialect: D,
    kind: Kind,
    baud: u32,
    payload: &[u8],
    dur: Duration,
) -> Run {
    let line = Line::new(baud);
    let modem_task = tokio::task::spawn_local(fake_modem(
        line.modem_rx,
        line.modem_tx,
        kind.publish(TOPIC, payload),
    ));
    let res: &'static mut Resources = Box::leak(Box::new(Resources::new()));
    let (mut modem, runner, _events) = MqttModem::with_dialect(
        dialect,
        res,
        FromTokio::new(line.host_rx),
        FromTokio::new(line.host_tx),
        Options::default(),
    );
    let runner_task = tokio::task::spawn_local(async move { runner.run().await });
    let start = Instant::now();
    let end = start + dur;
    let mut ops = 0;
    let mut times = Vec::new();
    loop {
        let t = Instant::now();
        if t >= end {
            break;
        }
        if let Err(e) = modem.publish(TOPIC, payload, Qos::AtMostOnce, false).await {
            panic!(
                "{} publish #{} of {} B failed: {e:?} (stats {:?})",
                kind.name(),
                ops + 1,
                payload.len(),
                modem.stats()
            );
        }
        times.push(t.elapsed().as_secs_f64());
        ops += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    runner_task.abort();
    drop(modem);
    let (seen, other) = modem_task.await.expect("fake modem");
    assert_eq!(
        (seen, other),
        (ops, 0),
        "{}: the fake modem saw every publish, byte for byte",
        kind.name()
    );
    drop(line.guard);
    Run { ops, secs, times }
}

/// The line that ends a successful publish, for the hand-rolled baseline to scan for.
pub fn success(kind: Kind) -> &'static [u8] {
    match kind {
        Kind::Uc8088 => b"\r\nOK\r\n",
        Kind::EspAt => b"+MQTTPUB:OK\r\n",
        Kind::Quectel => b"+QMTPUBEX: 0,0,0\r\n",
    }
}

/// The hand-rolled baseline: `write!` the line, write it, flush; in a prompted dialect scan
/// for `>`, write the payload, flush; scan for the success line.
pub async fn publish_baseline(kind: Kind, baud: u32, payload: &[u8], dur: Duration) -> Run {
    let line = Line::new(baud);
    let modem_task = tokio::task::spawn_local(fake_modem(
        line.modem_rx,
        line.modem_tx,
        kind.publish(TOPIC, payload),
    ));
    let mut w = FromTokio::new(line.host_tx);
    let mut r = FromTokio::new(line.host_rx);
    let mut out = vec![0u8; 2 * payload.len() + 64];
    let mut rx = [0u8; 256];
    let mut have = 0;
    let done = success(kind);
    let start = Instant::now();
    let end = start + dur;
    let mut ops = 0;
    let mut times = Vec::new();
    loop {
        let t = Instant::now();
        if t >= end {
            break;
        }
        let n = kind.encode_line(&mut out, TOPIC, payload);
        w.write_all(&out[..n]).await.unwrap();
        w.flush().await.unwrap();
        if kind.prompted() {
            loop {
                if let Some(at) = rx[..have].iter().position(|&b| b == b'>') {
                    rx.copy_within(at + 1..have, 0);
                    have -= at + 1;
                    break;
                }
                have += r.read(&mut rx[have..]).await.unwrap();
            }
            w.write_all(payload).await.unwrap();
            w.flush().await.unwrap();
        }
        loop {
            if let Some(at) = find(&rx[..have], done) {
                rx.copy_within(at + done.len()..have, 0);
                have -= at + done.len();
                break;
            }
            have += r.read(&mut rx[have..]).await.unwrap();
        }
        times.push(t.elapsed().as_secs_f64());
        ops += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    drop(w);
    let (seen, other) = modem_task.await.expect("fake modem");
    assert_eq!((seen, other), (ops, 0));
    drop(line.guard);
    Run { ops, secs, times }
}

/// Result of the incoming benchmark.
#[derive(Clone, Copy, Debug, Default)]
pub struct Incoming {
    pub sent: u64,
    pub received: u64,
    pub corrupted: u64,
    pub dropped_events: u64,
    pub stats: Stats,
    pub secs: f64,
    /// Bytes of one URC on the wire.
    pub urc_len: usize,
}

impl Incoming {
    pub fn rate(&self) -> f64 {
        self.received as f64 / self.secs
    }
}

/// The fake modem emits `kind`'s incoming-message URCs back to back at line rate for about
/// `dur`; the application takes them from `events.next()`.
pub async fn incoming(kind: Kind, baud: u32, payload: &[u8], dur: Duration) -> Incoming {
    match kind {
        Kind::Uc8088 => incoming_in(Uc8088, kind, baud, payload, dur).await,
        Kind::EspAt => incoming_in(EspAt, kind, baud, payload, dur).await,
        Kind::Quectel => incoming_in(Quectel, kind, baud, payload, dur).await,
    }
}

async fn incoming_in<D: Dialect>(
    dialect: D,
    kind: Kind,
    baud: u32,
    payload: &[u8],
    dur: Duration,
) -> Incoming {
    let line = Line::new(baud);
    let one = kind.urc(TOPIC, payload);
    let bound = f64::from(baud) / 10.0 / one.len() as f64;
    let sent = ((bound * dur.as_secs_f64()).ceil() as u64).max(10);
    let res: &'static mut Resources = Box::leak(Box::new(Resources::new()));
    let (modem, runner, mut events) = MqttModem::with_dialect(
        dialect,
        res,
        FromTokio::new(line.host_rx),
        FromTokio::new(line.host_tx),
        Options::default(),
    );
    let runner_task = tokio::task::spawn_local(async move { runner.run().await });
    tokio::task::yield_now().await;
    let mut stream = Vec::with_capacity(one.len() * sent as usize);
    for _ in 0..sent {
        stream.extend_from_slice(&one);
    }
    let mut tx = line.modem_tx;
    let start = Instant::now();
    // The transmit queue takes it all; the line sends it at line rate.
    tx.write_all(&stream).await.unwrap();
    let nominal = sent as f64 * one.len() as f64 * 10.0 / f64::from(baud);
    let give_up = start + Duration::from_secs_f64(nominal * 1.5 + 1.0);
    let mut buf = vec![0u8; 2048];
    let mut r = Incoming {
        sent,
        urc_len: one.len(),
        ..Incoming::default()
    };
    let mut last = start;
    while r.received < sent {
        let ev = tokio::select! {
            ev = events.next(&mut buf) => ev,
            () = tokio::time::sleep_until(give_up.into()) => break,
        };
        match ev {
            Event::Message(m) => {
                r.received += 1;
                if m.topic != TOPIC || m.payload != payload {
                    r.corrupted += 1;
                }
                last = Instant::now();
            }
            Event::Dropped { count } => r.dropped_events += u64::from(count),
            _ => r.corrupted += 1,
        }
    }
    r.secs = (last - start).as_secs_f64();
    r.stats = modem.stats();
    runner_task.abort();
    drop(line.guard);
    r
}

/// Raw transfer of `bytes` over both directions at once: achieved/nominal of the slower one.
pub async fn pipe_check(baud: u32, bytes: usize) -> f64 {
    let line = Line::new(baud);
    let data = vec![0x55u8; bytes];
    let nominal = bytes as f64 * 10.0 / f64::from(baud);
    let one_way = |mut w: PacedWriter, mut r: PacedReader| {
        let data = data.clone();
        async move {
            let start = Instant::now();
            w.write_all(&data).await.unwrap();
            let mut got = 0;
            let mut buf = vec![0u8; 4096];
            while got < data.len() {
                got += r.read(&mut buf).await.unwrap();
            }
            start.elapsed().as_secs_f64()
        }
    };
    let (a, b) = tokio::join!(
        one_way(line.host_tx, line.modem_rx),
        one_way(line.modem_tx, line.host_rx)
    );
    drop(line.guard);
    nominal / a.max(b)
}

/// Turnaround: the host writes `n` bytes, the far end answers 6 bytes as soon as it has
/// them all, the host reads them. Returns the excess over `(n + 6)` byte times, in µs
/// (median, 99th percentile), over `rounds` round trips.
pub async fn pipe_turnaround(baud: u32, n: usize, rounds: usize) -> (f64, f64) {
    let line = Line::new(baud);
    let mut far_rx = line.modem_rx;
    let mut far_tx = line.modem_tx;
    let far = tokio::task::spawn_local(async move {
        let mut buf = vec![0u8; 4096];
        let mut got = 0;
        loop {
            match far_rx.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(k) => got += k,
            }
            while got >= n {
                got -= n;
                far_tx.write_all(b"\r\nOK\r\n").await.unwrap();
            }
        }
    });
    let mut w = line.host_tx;
    let mut r = line.host_rx;
    let data = vec![b'a'; n];
    let ideal = (n + 6) as f64 * 10.0 / f64::from(baud) * 1e6;
    let mut excess = Vec::with_capacity(rounds);
    let mut buf = [0u8; 64];
    for _ in 0..rounds {
        let t = Instant::now();
        w.write_all(&data).await.unwrap();
        let mut got = 0;
        while got < 6 {
            got += r.read(&mut buf).await.unwrap();
        }
        excess.push(t.elapsed().as_secs_f64() * 1e6 - ideal);
    }
    drop(w);
    let _ = far.await;
    drop(line.guard);
    excess.sort_by(f64::total_cmp);
    (excess[rounds / 2], excess[rounds * 99 / 100])
}
