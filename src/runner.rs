//! The ingress task: reads the UART, digests, and hands out responses and events.

use core::marker::PhantomData;

use embassy_time::{Instant, Timer};
use embedded_io_async::Read;

use crate::dialect::Dialect;
use crate::dialect::uc8088::Uc8088;
use crate::digest::Urc;
use crate::digest::{Final, Ingress, Output};
use crate::events::Queued;
use crate::fmt::{debug, warning};
use crate::parse::lines;
use crate::resources::{LinkHint, Outcome, Phase, Shared, Slot};

/// Owns the UART's receive half. Spawn [`Runner::run`] once, in its own task; it never returns.
pub struct Runner<'a, R, const RESPONSE: usize, const EVENTS: usize, D: Dialect = Uc8088> {
    reader: R,
    ingress: Ingress<'a>,
    shared: &'a Shared<RESPONSE, EVENTS>,
    dialect: PhantomData<fn() -> D>,
}

impl<'a, R: Read, const RESPONSE: usize, const EVENTS: usize, D: Dialect>
    Runner<'a, R, RESPONSE, EVENTS, D>
{
    pub(crate) fn new(reader: R, buf: &'a mut [u8], shared: &'a Shared<RESPONSE, EVENTS>) -> Self {
        Self {
            reader,
            ingress: Ingress::with_grammar(buf, D::GRAMMAR),
            shared,
            dialect: PhantomData,
        }
    }

    /// Reads and dispatches forever.
    pub async fn run(mut self) -> ! {
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
            Ok(0) => Timer::after_millis(1).await,
            Ok(n) => {
                // After a timeout the client asks for a fresh start if a message (a length
                // changed by noise) has been holding the line back: what came before is stale.
                // One lock per read on this hot path; a second only when bytes were dropped.
                let fresh = self.shared.with(|s| {
                    s.last_rx = Instant::now();
                    core::mem::take(&mut s.unstick)
                });
                let dropped = if fresh && self.ingress.stuck() {
                    self.ingress.commit_fresh(n)
                } else {
                    self.ingress.commit(n)
                };
                if dropped > 0 {
                    self.shared.with(|s| {
                        s.stats.discarded_bytes =
                            s.stats.discarded_bytes.saturating_add(dropped as u32);
                    });
                }
            }
            Err(e) => {
                let kind = embedded_io::Error::kind(&e);
                warning!("serial read error {:?}", kind);
                self.shared
                    .with(|s| s.stats.read_errors = s.stats.read_errors.saturating_add(1));
                Timer::after_millis(1).await;
            }
        }
    }

    fn drain(&mut self, full: bool) {
        loop {
            let pending = self.shared.with(|s| {
                s.pending
                    .map(|p| if D::STAGED { p.expect() } else { p.info })
            });
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

fn dispatch<D: Dialect, const R: usize, const E: usize>(shared: &Shared<R, E>, out: Output<'_>) {
    match out {
        Output::Echo => {}
        Output::Info(line) => {
            if shared.with(|s| on_info::<R>(s, line, D::STAGED)) {
                shared.done.signal(());
            }
        }
        Output::Prompt => {
            if D::STAGED && shared.with(on_prompt) {
                shared.done.signal(());
            }
        }
        Output::Final(f) => {
            if shared.with(|s| on_final(s, &f, D::STAGED)) {
                shared.done.signal(());
            }
        }
        Output::Urc(urc) => shared.with(|s| {
            match urc {
                Urc::State(crate::ConnectionState::Disconnected) | Urc::Disconnected => {
                    s.note(LinkHint::Lost);
                }
                Urc::Restarted => s.note(LinkHint::Restarted),
                Urc::Waiting(n) => {
                    s.waiting = n;
                    s.noticed = true;
                }
                // An unknown line that looks like the answer's own, or has no clean `+NAME:`
                // head, may be a garbled line of the answer.
                Urc::Unrecognised(line)
                    if s.pending.is_some_and(|p| {
                        resembles(line, p.expect().prefix) || !clean_head(line)
                    }) =>
                {
                    taint(s);
                }
                _ => {}
            }
            let unreported = &mut s.unreported;
            let queued = match urc {
                Urc::Message { .. } => {
                    s.fetched |= D::PULL;
                    let Some(q) = shared.events.push_message(&urc, unreported) else {
                        lost(s, |st| &mut st.dropped_broken);
                        return;
                    };
                    q
                }
                Urc::State(state) => shared.events.push_state(state, unreported),
                Urc::Disconnected => shared.events.push_disconnected(unreported),
                Urc::Restarted => shared.events.push_restarted(unreported),
                Urc::Waiting(n) => shared.events.push_waiting(n, unreported),
                Urc::Unrecognised(line) => shared.events.push_unrecognised(line, unreported),
            };
            if queued == Queued::Full {
                lost(s, |st| &mut st.dropped_queue_full);
            }
        }),
        Output::Discarded {
            bytes,
            broken_message,
            oversized,
        } => shared.with(|s| {
            s.stats.discarded_bytes = s.stats.discarded_bytes.saturating_add(bytes as u32);
            s.fetched |= D::PULL && (broken_message || oversized);
            if broken_message {
                // Its payload is judged as lines next: it could fake part of the answer.
                taint(s);
                lost(s, |st| &mut st.dropped_broken);
            } else if oversized {
                lost(s, |st| &mut st.dropped_oversized);
            } else if s.pending.is_some() && s.outcome.is_none() && bytes > 0 {
                // An overlong line while a command waits is part of its answer; noise may
                // have eaten a line of it.
                s.overflow |= bytes >= R;
                taint(s);
            }
        }),
    }
}

/// Stores an information line of the pending answer; `true` when it is the completion line
/// that ends the answer.
fn on_info<const R: usize>(s: &mut Slot<R>, line: &[u8], staged: bool) -> bool {
    let Some(p) = s.pending.filter(|_| s.outcome.is_none()) else {
        return false;
    };
    let completion = p
        .completion
        .filter(|_| staged && p.phase == Phase::Completion);
    if completion.is_some_and(|c| !c.matches(line)) {
        // The completion of an earlier command that gave up waiting for it.
        s.stats.stale_responses = s.stats.stale_responses.saturating_add(1);
        return false;
    }
    if s.info.len() + line.len() + 2 <= R {
        let _ = s.info.extend_from_slice(line);
        let _ = s.info.extend_from_slice(b"\r\n");
    } else {
        s.overflow = true;
    }
    if completion.is_some() {
        s.outcome = Some(Outcome::Ok);
    }
    completion.is_some()
}

/// The `>` prompt: `true` when the pending command was waiting for it.
fn on_prompt<const R: usize>(s: &mut Slot<R>) -> bool {
    match s.pending.as_mut() {
        Some(p) if p.phase == Phase::Prompt && s.outcome.is_none() => {
            p.phase = p.after_prompt();
            true
        }
        _ => false,
    }
}

/// A final result: `true` when it ends the pending answer. An `OK` before a prompt (ESP-AT)
/// or before a completion line only moves the answer on.
fn on_final<const R: usize>(s: &mut Slot<R>, f: &Final<'_>, staged: bool) -> bool {
    let ok = *f == Final::Ok;
    match s.pending.as_mut() {
        Some(_) if s.outcome.is_none() && !staged => {
            s.outcome = Some(Outcome::from(f));
            return true;
        }
        Some(p) if s.outcome.is_none() => match p.phase {
            Phase::Prompt if ok => return false,
            Phase::Final if ok && p.completion.is_some() => {
                // Its completion line may have come before the OK: then it is complete.
                if p.completion
                    .is_some_and(|c| lines(&s.info).any(|l| c.matches(l)))
                {
                    s.outcome = Some(Outcome::Ok);
                    return true;
                }
                p.phase = Phase::Completion;
                return false;
            }
            Phase::Completion if ok => {}
            _ => {
                s.outcome = Some(Outcome::from(f));
                return true;
            }
        },
        _ => {}
    }
    s.stats.stale_responses = s.stats.stale_responses.saturating_add(1);
    debug!("stale final result discarded");
    false
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

/// Marks the pending answer as possibly incomplete.
fn taint<const R: usize>(s: &mut Slot<R>) {
    if s.pending.is_some() && s.outcome.is_none() {
        s.tainted = true;
    }
}

/// Counts a lost message in `counter` and in the losses to report.
fn lost<const R: usize>(s: &mut Slot<R>, counter: impl FnOnce(&mut crate::Stats) -> &mut u32) {
    let c = counter(&mut s.stats);
    *c = c.saturating_add(1);
    s.unreported = s.unreported.saturating_add(1);
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

    #[test]
    fn clean_heads() {
        assert!(super::clean_head(b"+CREG: 1"));
        assert!(super::clean_head(b"+MQTTDISCONNECTED"));
        assert!(!super::clean_head(b"+EMQT(TSTB:\"t\",0"));
        assert!(!super::clean_head(b"+mqttsub:1"));
        assert!(!super::clean_head(b"+"));
    }
}
