//! The ingress task: reads the UART, digests, and hands out responses and events.

use core::marker::PhantomData;

use embassy_time::{Duration, Instant, Timer};
use embedded_io_async::Read;

use crate::dialect::Dialect;
use crate::dialect::uc8088::Uc8088;
use crate::digest::{Discard, Ingress, Output, RawMessage};
use crate::events::Queued;
use crate::events::{Event, Message};
use crate::exchange::slot::Delivery;
use crate::fmt::{debug, warning};
use crate::mqtt::MAX_TOPIC_LEN;
use crate::resources::{Inner, LinkHint, Shared, Watch};

/// Owns the UART's receive half. Spawn [`Runner::run`] once, in its own task; it never returns.
pub struct Runner<
    'a,
    R,
    D: Dialect = Uc8088,
    const RESPONSE: usize = 256,
    const EVENTS: usize = 2048,
> {
    reader: R,
    ingress: Ingress<'a>,
    shared: &'a Shared<RESPONSE, EVENTS>,
    dialect: PhantomData<fn() -> D>,
    /// Reads that failed (an error, or end of file) since the last one that gave bytes.
    failures: u8,
}

/// Failed reads in a row after which the serial port is reported failed
/// ([`LinkHint::SerialFailed`]): one error may be a framing or overrun error on a noisy line.
const FAILED_READS: u8 = 3;
/// The pause after a failed read; from the [`FAILED_READS`]th in a row it doubles, up to 1024
/// times this (about a second).
/// In ticks, shifted: a pause computed in milliseconds at run time would link a 64-bit
/// division into the firmware.
const READ_PAUSE: Duration = Duration::from_millis(1);

impl<'a, R: Read, const RESPONSE: usize, const EVENTS: usize, D: Dialect>
    Runner<'a, R, D, RESPONSE, EVENTS>
{
    pub(crate) fn new(reader: R, buf: &'a mut [u8], shared: &'a Shared<RESPONSE, EVENTS>) -> Self {
        Self {
            reader,
            ingress: Ingress::with_grammar(buf, D::GRAMMAR),
            shared,
            dialect: PhantomData,
            failures: 0,
        }
    }

    /// Reads and dispatches forever. A serial port that keeps failing is read again after a
    /// pause that doubles up to about a second (no busy loop), and reported to the client and
    /// the [`Supervisor`](crate::Supervisor) ([`LinkHint::SerialFailed`]); reading resumes
    /// when the port gives bytes again. While no runner runs, commands fail at their deadline
    /// with [`Error::NoRunner`](crate::Error::NoRunner).
    pub async fn run(mut self) -> ! {
        self.shared.with(|s| s.watch.reading = true);
        loop {
            self.step().await;
        }
    }

    /// Digests what is buffered, then waits for one read.
    pub(crate) async fn step(&mut self) {
        self.drain(false);
        if self.ingress.space().is_empty() {
            self.drain(true);
        }
        match self.reader.read(self.ingress.space()).await {
            Ok(0) => self.failed().await,
            Ok(n) => {
                self.failures = 0;
                // After a timeout the client asks for a fresh start if a message (a length
                // changed by noise) has been holding the line back: what came before is stale.
                // One lock per read on this hot path; a second only when bytes were dropped.
                let fresh = self.shared.with(|s| {
                    s.watch.last_rx = Instant::now();
                    core::mem::take(&mut s.watch.unstick)
                });
                let dropped = if fresh && self.ingress.stuck() {
                    self.ingress.commit_fresh(n)
                } else {
                    self.ingress.commit(n)
                };
                if dropped > 0 {
                    self.shared.with(|s| {
                        let stats = &mut s.watch.stats;
                        stats.discarded_bytes =
                            stats.discarded_bytes.saturating_add(dropped as u32);
                    });
                }
            }
            Err(e) => {
                warning!("serial read error {:?}", embedded_io::Error::kind(&e));
                self.failed().await;
            }
        }
    }

    /// A read failed (an error, or end of file where a UART has none): counted, reported once
    /// it keeps failing, and the next read after a pause that doubles.
    async fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
        let failures = self.failures;
        self.shared.with(|s| {
            let w = &mut s.watch;
            w.stats.read_errors = w.stats.read_errors.saturating_add(1);
            if failures == FAILED_READS {
                w.note(LinkHint::SerialFailed);
            }
        });
        // 1 ms while it may be a line error (an overrun, a framing error: the next read works
        // again, and a long pause would overrun the UART's buffer), then doubling.
        let exp = failures.saturating_sub(FAILED_READS).min(10);
        Timer::after(Duration::from_ticks(READ_PAUSE.as_ticks() << exp)).await;
    }

    fn drain(&mut self, full: bool) {
        loop {
            let pending = self.shared.with(|s| s.slot.expect(D::STAGED));
            let pieces = const { D::GRAMMAR.has_pieces() };
            let Some(out) = self
                .ingress
                .next_with(D::GRAMMAR, D::STAGED, pieces, pending, full)
            else {
                return;
            };
            dispatch::<D, RESPONSE, EVENTS>(self.shared, out);
            if full {
                // One forced judgement frees space; go back to reading.
                return;
            }
        }
    }
}

impl<R, D: Dialect, const RESPONSE: usize, const EVENTS: usize> Drop
    for Runner<'_, R, D, RESPONSE, EVENTS>
{
    /// No answer can arrive any more: commands fail with [`Error::NoRunner`](crate::Error).
    fn drop(&mut self) {
        self.shared.with(|s| s.watch.reading = false);
    }
}

fn dispatch<D: Dialect, const R: usize, const E: usize>(shared: &Shared<R, E>, out: Output<'_>) {
    let delivered = match out {
        Output::Info(line) => shared.with(|s| s.slot.info(line, D::STAGED)),
        Output::Prompt if D::STAGED => shared.with(|s| s.slot.prompt()),
        Output::Echo | Output::Prompt => return,
        Output::Final(f) => shared.with(|s| s.slot.result(f, D::STAGED)),
        Output::Event(event) => return shared.with(|s| on_event::<D, R, E>(shared, s, &event)),
        Output::Message(message) => {
            return shared.with(|s| on_message::<D, R, E>(shared, &mut s.watch, &message));
        }
        Output::Discarded { bytes, what } => {
            return shared.with(|s| {
                let w = &mut s.watch;
                w.stats.discarded_bytes = w.stats.discarded_bytes.saturating_add(bytes as u32);
                w.fetched |= D::PULL && what != Discard::Noise;
                match what {
                    Discard::BrokenMessage => {
                        // Its payload is judged as lines next: it could fake part of the answer.
                        s.slot.taint();
                        lost(w, |st| &mut st.dropped_broken);
                    }
                    Discard::Oversized => lost(w, |st| &mut st.dropped_oversized),
                    Discard::Noise => s.slot.discarded(bytes),
                }
            });
        }
    };
    match delivered {
        Delivery::Wake => shared.done.signal(()),
        Delivery::Kept => {}
        Delivery::Stale => shared.with(|s| {
            let stale = &mut s.watch.stats.stale_responses;
            *stale = stale.saturating_add(1);
            debug!("stale answer discarded");
        }),
    }
}

/// Something the modem said unasked: evidence for the link hint, and an event for the
/// application.
fn on_event<D: Dialect, const R: usize, const E: usize>(
    shared: &Shared<R, E>,
    s: &mut Inner<R>,
    event: &Event<'_>,
) {
    let w = &mut s.watch;
    match *event {
        Event::StateChanged(crate::ConnectionState::Disconnected) | Event::Disconnected => {
            w.note(LinkHint::Lost);
            w.session = false;
        }
        Event::Restarted => {
            w.note(LinkHint::Restarted);
            w.session = false;
        }
        Event::MessagesWaiting { count } => {
            w.waiting = count;
            w.noticed = true;
        }
        // An unknown line that looks like the answer's own, or has no clean `+NAME:` head,
        // may be a garbled line of the answer.
        Event::Unrecognised(line)
            if s.slot
                .expected_prefix(D::STAGED)
                .is_some_and(|prefix| resembles(line, prefix) || !clean_head(line)) =>
        {
            s.slot.taint();
        }
        _ => {}
    }
    if shared.events.push(event, &mut w.unreported) == Queued::Full {
        lost(w, |st| &mut st.dropped_queue_full);
    }
}

/// An incoming message, for the application.
fn on_message<D: Dialect, const R: usize, const E: usize>(
    shared: &Shared<R, E>,
    w: &mut Watch,
    message: &RawMessage<'_>,
) {
    w.fetched |= D::PULL;
    let mut buf = [0u8; MAX_TOPIC_LEN];
    // A topic too long or not UTF-8 once its escapes are resolved: the framing broke.
    let Some(topic) = message.topic_into(&mut buf) else {
        return lost(w, |st| &mut st.dropped_broken);
    };
    let event = Event::Message(Message {
        topic,
        payload: message.payload,
    });
    if shared.events.push(&event, &mut w.unreported) == Queued::Full {
        lost(w, |st| &mut st.dropped_queue_full);
    }
}

/// Whether `line` starts like `prefix` but for at most two edits (noise flips or inserts
/// bytes): then it is more likely a garbled line of the answer than another URC. `+CFUN: 1` is
/// far from `+MQTTSTATE`; `+MQUTSUB:` is one edit from `+MQTTSUB`.
fn resembles(line: &[u8], prefix: &[u8]) -> bool {
    const MAX: usize = 24;
    if prefix.is_empty() || prefix.len() > MAX - 2 {
        return false;
    }
    let head = &line[..line.len().min(prefix.len() + 2)];
    let head = head
        .iter()
        .position(|&b| b == b':')
        .map_or(head, |colon| &head[..colon]);
    // Levenshtein distance over two rows.
    let mut prev = [0u8; MAX];
    let mut row = [0u8; MAX];
    for (j, p) in prev.iter_mut().enumerate().take(prefix.len() + 1) {
        *p = j as u8;
    }
    for (i, &a) in head.iter().enumerate() {
        row[0] = i as u8 + 1;
        for (j, &b) in prefix.iter().enumerate() {
            let substitute = prev[j] + u8::from(a != b);
            row[j + 1] = substitute.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[prefix.len()] <= 2
}

/// Whether `line` starts with a well-formed result-code name: `+`, then upper-case letters or
/// digits, then `:` (or the end of the line).
fn clean_head(line: &[u8]) -> bool {
    let name = &line[1.min(line.len())..];
    let end = name.iter().position(|&b| b == b':').unwrap_or(name.len());
    end > 0
        && name[..end]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Counts a lost message in `counter` and in the losses to report.
fn lost(w: &mut Watch, counter: impl FnOnce(&mut crate::Stats) -> &mut u32) {
    let c = counter(&mut w.stats);
    *c = c.saturating_add(1);
    w.unreported = w.unreported.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::resembles;

    #[test]
    fn garbled_prefixes_resemble_and_others_do_not() {
        assert!(resembles(b"+MQUTSUB:\"t\",0", b"+MQTTSUB"));
        assert!(resembles(b"+MQTXTSUB:\"t\",0", b"+MQTTSUB"));
        assert!(resembles(b"+MQTTSUB\"t\",0", b"+MQTTSUB"));
        assert!(!resembles(b"+CFUN: 1", b"+MQTTSTATE"));
        assert!(!resembles(b"+MQTTPING:1", b"+MQTTSUB"));
        assert!(!resembles(b"+CREG: 1", b""));
    }

    /// `resembles` against a plain Levenshtein distance (full table) between the prefix and
    /// the line's head (as many bytes as the prefix plus two, cut at a colon), over lines made
    /// from the prefix by random edits.
    #[test]
    fn resembles_is_an_edit_distance_of_at_most_two() {
        extern crate std;
        use std::vec::Vec;
        fn distance(a: &[u8], b: &[u8]) -> usize {
            let mut d = std::vec![std::vec![0usize; b.len() + 1]; a.len() + 1];
            for (i, row) in d.iter_mut().enumerate() {
                row[0] = i;
            }
            for (j, cell) in d[0].iter_mut().enumerate() {
                *cell = j;
            }
            for i in 1..=a.len() {
                for j in 1..=b.len() {
                    let cost = usize::from(a[i - 1] != b[j - 1]);
                    d[i][j] = (d[i - 1][j - 1] + cost)
                        .min(d[i - 1][j] + 1)
                        .min(d[i][j - 1] + 1);
                }
            }
            d[a.len()][b.len()]
        }
        let mut seed = 0x2545_f491_u32;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize % n
        };
        let prefixes: [&[u8]; 5] = [
            b"+MQTTSUB",
            b"+Q",
            b"+QMTSUBX:",
            b"+ABCDEFGHIJKLMNOPQRSTU",
            b"+ABCDEFGHIJKLMNOPQRSTUVW",
        ];
        let (mut near, mut far) = (0, 0);
        for _ in 0..20_000 {
            let prefix = prefixes[next(prefixes.len())];
            let mut line: Vec<u8> = prefix.to_vec();
            for _ in 0..next(5) {
                let at = next(line.len() + 1);
                let byte = b"+MQTSUBX:,0"[next(11)];
                match next(3) {
                    0 if at < line.len() => line[at] = byte,
                    1 if at < line.len() => {
                        line.remove(at);
                    }
                    _ => line.insert(at, byte),
                }
            }
            line.extend_from_slice(&b":\"t\",0"[..next(6)]);
            let head = &line[..line.len().min(prefix.len() + 2)];
            let head = head
                .iter()
                .position(|&b| b == b':')
                .map_or(head, |c| &head[..c]);
            let want = prefix.len() <= 22 && distance(head, prefix) <= 2;
            assert_eq!(resembles(&line, prefix), want, "{line:?} {prefix:?}");
            if want { near += 1 } else { far += 1 }
        }
        assert!(near > 1000 && far > 1000, "{near} near, {far} far");
    }

    #[test]
    fn clean_heads() {
        assert!(super::clean_head(b"+CREG: 1"));
        assert!(super::clean_head(b"+MQTTDISCONNECTED"));
        assert!(!super::clean_head(b"+EMQT(TSTB:\"t\",0"));
        assert!(!super::clean_head(b"+mqttsub:1"));
        assert!(!super::clean_head(b"+"));
    }
}
