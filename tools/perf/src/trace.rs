//! Where a publish round trip's time goes: timestamps of every UART call of the driver (and
//! of the baseline) over the paced line, split into segments per operation, in each dialect.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{ErrorType, Read, Write};
use mqtt_modem::{Dialect, EspAt, MqttModem, Options, Qos, Quectel, Resources, Uc8088};

use crate::cpu::find;
use crate::dialect::Kind;
use crate::pipe::Line;
use crate::throughput::{TOPIC, fake_modem, success};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ev {
    Write,
    FlushDone,
    Read(usize),
    Done,
}

type Log = Rc<RefCell<Vec<(Ev, Instant)>>>;

struct Tap<T> {
    inner: T,
    log: Log,
}

impl<T: ErrorType> ErrorType for Tap<T> {
    type Error = T::Error;
}

impl<T: Read> Read for Tap<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = self.inner.read(buf).await?;
        self.log.borrow_mut().push((Ev::Read(n), Instant::now()));
        Ok(n)
    }
}

impl<T: Write> Write for Tap<T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.log.borrow_mut().push((Ev::Write, Instant::now()));
        self.inner.write(buf).await
    }
    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush().await?;
        self.log.borrow_mut().push((Ev::FlushDone, Instant::now()));
        Ok(())
    }
}

/// Median µs of: line out (first write → its flush done), and in a prompted dialect prompt
/// (that flush → the payload's first write: the prompt's bytes and the reaction to them) and
/// data out (→ the last flush done); answer in (last flush done → last read of the answer),
/// hand-over (last read → call returns), next start (return → next first write); and the
/// number of reads and writes per round trip. NaN where a segment does not exist.
pub struct Breakdown {
    pub out_us: f64,
    pub prompt_us: f64,
    pub data_us: f64,
    pub answer_us: f64,
    pub handover_us: f64,
    pub restart_us: f64,
    pub reads: f64,
    pub writes: f64,
}

pub async fn publish(
    kind: Kind,
    baud: u32,
    payload: &[u8],
    dur: Duration,
    driver: bool,
) -> Breakdown {
    match kind {
        Kind::Uc8088 => publish_in(Uc8088, kind, baud, payload, dur, driver).await,
        Kind::EspAt => publish_in(EspAt, kind, baud, payload, dur, driver).await,
        Kind::Quectel => publish_in(Quectel, kind, baud, payload, dur, driver).await,
    }
}

async fn publish_in<D: Dialect>(
    dialect: D,
    kind: Kind,
    baud: u32,
    payload: &[u8],
    dur: Duration,
    driver: bool,
) -> Breakdown {
    let line = Line::new(baud);
    let modem_task = tokio::task::spawn_local(fake_modem(
        line.modem_rx,
        line.modem_tx,
        kind.publish(TOPIC, payload),
    ));
    let log: Log = Rc::default();
    let rx = Tap {
        inner: FromTokio::new(line.host_rx),
        log: log.clone(),
    };
    let tx = Tap {
        inner: FromTokio::new(line.host_tx),
        log: log.clone(),
    };
    let end = Instant::now() + dur;
    if driver {
        let res: &'static mut Resources = Box::leak(Box::new(Resources::new()));
        let (mut modem, runner, _events) =
            MqttModem::with_dialect(dialect, res, rx, tx, Options::default());
        let runner_task = tokio::task::spawn_local(async move { runner.run().await });
        while Instant::now() < end {
            modem
                .publish(TOPIC, payload, Qos::AtMostOnce, false)
                .await
                .unwrap();
            log.borrow_mut().push((Ev::Done, Instant::now()));
        }
        runner_task.abort();
    } else {
        let (mut r, mut w) = (rx, tx);
        let mut out = vec![0u8; 2 * payload.len() + 64];
        let mut buf = [0u8; 256];
        let mut have = 0;
        let done = success(kind);
        while Instant::now() < end {
            let n = kind.encode_line(&mut out, TOPIC, payload);
            w.write_all(&out[..n]).await.unwrap();
            w.flush().await.unwrap();
            if kind.prompted() {
                loop {
                    if let Some(at) = buf[..have].iter().position(|&b| b == b'>') {
                        buf.copy_within(at + 1..have, 0);
                        have -= at + 1;
                        break;
                    }
                    have += r.read(&mut buf[have..]).await.unwrap();
                }
                w.write_all(payload).await.unwrap();
                w.flush().await.unwrap();
            }
            loop {
                if let Some(at) = find(&buf[..have], done) {
                    buf.copy_within(at + done.len()..have, 0);
                    have -= at + done.len();
                    break;
                }
                have += r.read(&mut buf[have..]).await.unwrap();
            }
            log.borrow_mut().push((Ev::Done, Instant::now()));
        }
    }
    modem_task.abort();
    drop(line.guard);
    split(&log.borrow())
}

fn split(log: &[(Ev, Instant)]) -> Breakdown {
    let (mut out, mut prompt, mut data, mut ans, mut hand, mut restart) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut reads, mut writes, mut ops) = (0usize, 0usize, 0usize);
    let mut first_w: Option<Instant> = None;
    // The first flush of the op (the line's), the first write after it (the payload's) and
    // the last flush.
    let mut line_flushed: Option<Instant> = None;
    let mut data_w: Option<Instant> = None;
    let mut flushed: Option<Instant> = None;
    let mut last_read: Option<Instant> = None;
    let mut last_done: Option<Instant> = None;
    let us = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e6;
    for &(ev, t) in log {
        match ev {
            Ev::Write => {
                writes += 1;
                if first_w.is_none() {
                    first_w = Some(t);
                    if let Some(d) = last_done {
                        restart.push(us(d, t));
                    }
                } else if line_flushed.is_some() && data_w.is_none() {
                    data_w = Some(t);
                }
            }
            Ev::FlushDone => {
                if line_flushed.is_none() {
                    line_flushed = Some(t);
                }
                flushed = Some(t);
            }
            Ev::Read(_) => {
                reads += 1;
                last_read = Some(t);
            }
            Ev::Done => {
                if let (Some(w), Some(l), Some(f), Some(r)) =
                    (first_w, line_flushed, flushed, last_read)
                {
                    out.push(us(w, l));
                    if let Some(d) = data_w {
                        prompt.push(us(l, d));
                        data.push(us(d, f));
                    }
                    ans.push(us(f, r.max(f)));
                    hand.push(us(r, t));
                }
                ops += 1;
                first_w = None;
                line_flushed = None;
                data_w = None;
                last_done = Some(t);
            }
        }
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    Breakdown {
        out_us: med(&mut out),
        prompt_us: med(&mut prompt),
        data_us: med(&mut data),
        answer_us: med(&mut ans),
        handover_us: med(&mut hand),
        restart_us: med(&mut restart),
        reads: reads as f64 / ops.max(1) as f64,
        writes: writes as f64 / ops.max(1) as f64,
    }
}
