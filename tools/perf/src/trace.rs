//! Where a publish round trip's time goes: timestamps of every UART call of the driver (and
//! of the baseline) over the paced line, split into segments per operation.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{ErrorType, Read, Write};
use mqtt_modem::{MqttModem, Options, Qos, Resources};

use crate::cpu::{encode_baseline, find_ok};
use crate::pipe::Line;
use crate::throughput::{TOPIC, fake_modem};

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

/// Median µs of: line out (first write → flush done), answer in (flush done → last read of the
/// answer), hand-over (last read → call returns), next start (return → next first write);
/// and the number of reads and writes per round trip.
pub struct Breakdown {
    pub out_us: f64,
    pub answer_us: f64,
    pub handover_us: f64,
    pub restart_us: f64,
    pub reads: f64,
    pub writes: f64,
}

pub async fn publish(baud: u32, payload: &[u8], dur: Duration, driver: bool) -> Breakdown {
    let line = Line::new(baud);
    let modem_task = tokio::task::spawn_local(fake_modem(line.modem_rx, line.modem_tx));
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
        let (mut modem, runner, _events) = MqttModem::new(res, rx, tx, Options::default());
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
        while Instant::now() < end {
            let n = encode_baseline(&mut out, TOPIC, payload);
            w.write_all(&out[..n]).await.unwrap();
            w.flush().await.unwrap();
            loop {
                if let Some(at) = find_ok(&buf[..have]) {
                    buf.copy_within(at + 6..have, 0);
                    have -= at + 6;
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
    let (mut out, mut ans, mut hand, mut restart) = (vec![], vec![], vec![], vec![]);
    let (mut reads, mut writes, mut ops) = (0usize, 0usize, 0usize);
    let mut first_w: Option<Instant> = None;
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
                }
            }
            Ev::FlushDone => flushed = Some(t),
            Ev::Read(_) => {
                reads += 1;
                last_read = Some(t);
            }
            Ev::Done => {
                if let (Some(w), Some(f), Some(r)) = (first_w, flushed, last_read) {
                    out.push(us(w, f));
                    ans.push(us(f, r.max(f)));
                    hand.push(us(r, t));
                }
                ops += 1;
                first_w = None;
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
        answer_us: med(&mut ans),
        handover_us: med(&mut hand),
        restart_us: med(&mut restart),
        reads: reads as f64 / ops.max(1) as f64,
        writes: writes as f64 / ops.max(1) as f64,
    }
}
