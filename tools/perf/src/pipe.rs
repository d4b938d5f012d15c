//! A paced virtual UART: one direction of an 8N1 line at a given baud rate, in process.
//!
//! The writer side ([`PacedWriter`], a tokio `AsyncWrite`) accepts bytes at once into the
//! transmit queue, as a UART driver's TX buffer does. A pacer task moves byte `k` of a
//! back-to-back run to the reader side ([`PacedReader`], a tokio `AsyncRead`) when its last
//! stop bit has gone out: at `run_start + (k + 1) * 10 / baud`. A byte written while the line
//! is idle starts a new run. `poll_flush` completes when the transmit queue is empty (the
//! last byte is on the wire), like `embedded-io-async`'s flush on a real UART.
//!
//! tokio's timer wakes 1–1.5 ms late, so the pacer sleeps only until ~2 ms before a byte is
//! due and then spins with `yield_now`, releasing every byte that is due on each pass.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Sleep only while the next byte is further away than this; spin closer to it.
const SPIN_WINDOW: Duration = Duration::from_millis(2);

struct State {
    /// Written, not yet on the wire.
    pending: VecDeque<u8>,
    /// Start of the current back-to-back run and how many of its bytes have been released.
    run_start: Instant,
    run_released: u64,
    /// When the last released byte finished (the line is busy until then).
    line_free: Instant,
    /// Received, waiting to be read.
    rx: VecDeque<u8>,
    reader: Option<Waker>,
    flusher: Option<Waker>,
    /// Bytes released in total.
    released: u64,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    pacer: Notify,
    ns_per_byte: f64,
}

impl Shared {
    fn due(&self, s: &State, k: u64) -> Instant {
        s.run_start + Duration::from_nanos(((k + 1) as f64 * self.ns_per_byte) as u64)
    }
}

/// The writing end (the transmitter's TX pin).
pub struct PacedWriter {
    shared: Arc<Shared>,
}

/// The reading end (the receiver's RX pin).
pub struct PacedReader {
    shared: Arc<Shared>,
}

/// One direction of a line at `baud` (8N1: 10 bit times per byte). The returned future is
/// the pacer; run it on the same (current-thread) runtime as both ends.
pub fn paced(
    baud: u32,
) -> (
    PacedWriter,
    PacedReader,
    impl std::future::Future<Output = ()>,
) {
    let now = Instant::now();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            pending: VecDeque::with_capacity(8192),
            run_start: now,
            run_released: 0,
            line_free: now,
            rx: VecDeque::with_capacity(8192),
            reader: None,
            flusher: None,
            released: 0,
            closed: false,
        }),
        pacer: Notify::new(),
        ns_per_byte: 10.0e9 / f64::from(baud),
    });
    let pacer = pace(shared.clone());
    (
        PacedWriter {
            shared: shared.clone(),
        },
        PacedReader { shared },
        pacer,
    )
}

async fn pace(shared: Arc<Shared>) {
    loop {
        let next_due = {
            let mut s = shared.state.lock().unwrap();
            if s.closed && s.pending.is_empty() {
                return;
            }
            if s.pending.is_empty() {
                None
            } else {
                let now = Instant::now();
                // Release every byte that is due.
                let mut moved = 0;
                while !s.pending.is_empty() {
                    let due = shared.due(&s, s.run_released);
                    if due > now {
                        break;
                    }
                    let b = s.pending.pop_front().unwrap();
                    s.rx.push_back(b);
                    s.run_released += 1;
                    s.line_free = due;
                    moved += 1;
                }
                if moved > 0 {
                    s.released += moved;
                    if let Some(w) = s.reader.take() {
                        w.wake();
                    }
                    if s.pending.is_empty() {
                        if let Some(w) = s.flusher.take() {
                            w.wake();
                        }
                    }
                }
                if s.pending.is_empty() {
                    None
                } else {
                    Some(shared.due(&s, s.run_released))
                }
            }
        };
        match next_due {
            None => shared.pacer.notified().await,
            Some(due) => {
                let now = Instant::now();
                if due > now + SPIN_WINDOW {
                    tokio::time::sleep_until((due - SPIN_WINDOW).into()).await;
                } else {
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

impl AsyncWrite for PacedWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut s = self.shared.state.lock().unwrap();
        if s.pending.is_empty() {
            let now = Instant::now();
            // An idle line starts a new run; a busy one continues after its last byte.
            s.run_start = now.max(s.line_free);
            s.run_released = 0;
        }
        s.pending.extend(buf);
        drop(s);
        self.shared.pacer.notify_one();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut s = self.shared.state.lock().unwrap();
        if s.pending.is_empty() {
            Poll::Ready(Ok(()))
        } else {
            s.flusher = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for PacedWriter {
    fn drop(&mut self) {
        let mut s = self.shared.state.lock().unwrap();
        s.closed = true;
        if s.pending.is_empty() {
            if let Some(w) = s.reader.take() {
                w.wake();
            }
        }
        drop(s);
        self.shared.pacer.notify_one();
    }
}

impl AsyncRead for PacedReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut s = self.shared.state.lock().unwrap();
        if s.rx.is_empty() {
            if s.closed && s.pending.is_empty() {
                return Poll::Ready(Ok(())); // end of stream
            }
            s.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = s.rx.len().min(buf.remaining());
        let (a, b) = s.rx.as_slices();
        let from_a = n.min(a.len());
        buf.put_slice(&a[..from_a]);
        buf.put_slice(&b[..n - from_a]);
        s.rx.drain(..n);
        Poll::Ready(Ok(()))
    }
}

/// Both directions of a line, each with its pacer spawned on the current `LocalSet`.
/// Move the ends out; the pacers stop when `guard` is dropped.
pub struct Line {
    /// Host (driver) to modem.
    pub host_tx: PacedWriter,
    pub modem_rx: PacedReader,
    /// Modem to host.
    pub modem_tx: PacedWriter,
    pub host_rx: PacedReader,
    pub guard: PacerGuard,
}

impl Line {
    pub fn new(baud: u32) -> Self {
        let (host_tx, modem_rx, p1) = paced(baud);
        let (modem_tx, host_rx, p2) = paced(baud);
        let guard = PacerGuard {
            tasks: vec![tokio::task::spawn_local(p1), tokio::task::spawn_local(p2)],
        };
        Self {
            host_tx,
            modem_rx,
            modem_tx,
            host_rx,
            guard,
        }
    }
}

/// Aborts tasks when dropped.
pub struct PacerGuard {
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for PacerGuard {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Bytes arrive intact and in order, flush waits for the wire, and a dropped writer ends
    /// the stream. No timing is asserted.
    #[test]
    fn delivers_in_order_then_ends() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, async {
            let line = Line::new(10_000_000);
            let mut w = line.host_tx;
            let mut r = line.modem_rx;
            let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
            w.write_all(&data[..1000]).await.unwrap();
            w.write_all(&data[1000..]).await.unwrap();
            w.flush().await.unwrap();
            drop(w);
            let mut got = Vec::new();
            r.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, data);
        });
    }
}
