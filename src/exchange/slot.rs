//! The response slot: the one place where the answer to the command in flight is kept, as an
//! explicit state machine. The client opens it ([`Slot::begin`]) and closes it
//! ([`Slot::verdict`], [`Slot::abandon`]); the runner moves it on with what the digester
//! reads ([`Slot::info`], [`Slot::prompt`], [`Slot::result`]). Nothing else writes it.

use heapless::Vec;

use crate::command::Completion;
use crate::digest::{Expect, Final};
use crate::error::{Detail, Error, ErrorKind};
use crate::parse::{after_prefix, lines, result_code};

/// Which stage of its answer a command waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The `>` prompt (an `OK` before it is not the end).
    Prompt,
    /// The final result.
    Final,
    /// The completion line.
    Completion,
}

/// The command waiting for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    /// What its information lines look like.
    pub info: Expect<'static>,
    pub phase: Phase,
    pub completion: Option<Completion>,
}

impl Pending {
    /// A command whose answer is `info` lines, then (after `prompt`, when it has one) its
    /// final result and/or `completion`.
    pub fn new(
        info: Expect<'static>,
        prompt: Option<&'static [u8]>,
        completion: Option<Completion>,
    ) -> Self {
        Self {
            info: Expect {
                prompt: prompt.unwrap_or(b""),
                ..info
            },
            phase: if prompt.is_some() {
                Phase::Prompt
            } else {
                Phase::Final
            },
            completion,
        }
    }

    /// What the digester looks for now.
    fn expect(&self) -> Expect<'static> {
        match (self.phase, self.completion) {
            (Phase::Prompt, _) => self.info,
            (Phase::Completion, Some(c)) => Expect {
                prefix: c.prefix,
                bare: false,
                prompt: b"",
                last: true,
            },
            _ => Expect {
                prompt: b"",
                ..self.info
            },
        }
    }

    /// The phase after the prompt.
    fn after_prompt(&self) -> Phase {
        match self.completion {
            Some(c) if !c.after_final => Phase::Completion,
            _ => Phase::Final,
        }
    }
}

/// Where the answer to the command in flight stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// No command waits: a final result now is stale.
    Idle,
    /// A command waits for the stage its [`Pending::phase`] names.
    Waiting(Pending),
    /// The answer is complete and waits for the client's verdict; lines that still come are
    /// unsolicited (nothing of this answer can follow its end), judged at once as when no
    /// command waits.
    Done(Pending, Final),
}

/// What the runner's delivery did to the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// It ended the answer, or reached the prompt: wake the client.
    Wake,
    /// It was kept (or belongs to no one); nothing to wake.
    Kept,
    /// It was an answer nobody waits for any more (a late final result or completion).
    Stale,
}

/// The response slot: the answer's state and the information lines it gathered.
pub(crate) struct Slot<const N: usize> {
    answer: Answer,
    info: Vec<u8, N>,
    /// An information line did not fit.
    overflow: bool,
    /// Noise or a garbled line arrived during the answer: a line of it may be lost.
    tainted: bool,
}

impl<const N: usize> Slot<N> {
    pub(crate) const fn new() -> Self {
        Self {
            answer: Answer::Idle,
            info: Vec::new(),
            overflow: false,
            tainted: false,
        }
    }

    /// A command is about to be written: wait for its answer.
    pub(crate) fn begin(&mut self, pending: Pending) {
        self.answer = Answer::Waiting(pending);
        self.info.clear();
        self.overflow = false;
        self.tainted = false;
    }

    /// The command gave up (timeout, cancellation): answers from now on are stale.
    pub(crate) fn abandon(&mut self) {
        self.answer = Answer::Idle;
    }

    /// What the digester looks for: the pending command's lines (its current stage's, for a
    /// dialect whose commands answer in stages), or nothing when no command waits.
    pub(crate) fn expect(&self, staged: bool) -> Option<Expect<'static>> {
        match &self.answer {
            Answer::Idle | Answer::Done(..) => None,
            Answer::Waiting(p) => Some(if staged { p.expect() } else { p.info }),
        }
    }

    /// Whether a command still waits for (part of) its answer.
    pub(crate) fn waiting(&self) -> bool {
        matches!(self.answer, Answer::Waiting(_))
    }

    /// The information lines gathered, each ending in CR LF.
    pub(crate) fn lines(&self) -> &[u8] {
        &self.info
    }

    /// An information line of the pending answer; [`Delivery::Wake`] when it is the
    /// completion line that ends it.
    pub(crate) fn info(&mut self, line: &[u8], staged: bool) -> Delivery {
        let Answer::Waiting(p) = &self.answer else {
            return Delivery::Kept;
        };
        let completion = p.completion.filter(|_| staged);
        let due = p.phase == Phase::Completion;
        if completion.is_some_and(|c| match p.phase {
            Phase::Completion => !c.matches(line),
            // Before the prompt, no data went out yet: nothing of this command can complete.
            Phase::Prompt => after_prefix(line, c.prefix).is_some(),
            Phase::Final => false,
        }) {
            // The completion of an earlier command that gave up waiting for it.
            return Delivery::Stale;
        }
        let completion = completion.filter(|_| due);
        let p = *p;
        if self.info.len() + line.len() + 2 <= N {
            let _ = self.info.extend_from_slice(line);
            let _ = self.info.extend_from_slice(b"\r\n");
        } else {
            self.overflow = true;
        }
        if completion.is_some() {
            self.answer = Answer::Done(p, Final::Ok);
            return Delivery::Wake;
        }
        Delivery::Kept
    }

    /// The `>` prompt: [`Delivery::Wake`] when the pending command was waiting for it.
    pub(crate) fn prompt(&mut self) -> Delivery {
        match &mut self.answer {
            Answer::Waiting(p) if p.phase == Phase::Prompt => {
                p.phase = p.after_prompt();
                Delivery::Wake
            }
            _ => Delivery::Kept,
        }
    }

    /// A final result: [`Delivery::Wake`] when it ends the pending answer. An `OK` before a
    /// prompt (ESP-AT) or before a completion line only moves the answer on.
    pub(crate) fn result(&mut self, f: Final, staged: bool) -> Delivery {
        let Answer::Waiting(p) = &mut self.answer else {
            return Delivery::Stale;
        };
        let ok = f == Final::Ok;
        if staged {
            match p.phase {
                Phase::Prompt if ok => return Delivery::Kept,
                // Its completion line may have come before the OK: then it is complete;
                // otherwise the completion line ends it.
                Phase::Final
                    if ok
                        && p.completion
                            .is_some_and(|c| !lines(&self.info).any(|l| c.matches(l))) =>
                {
                    p.phase = Phase::Completion;
                    return Delivery::Kept;
                }
                Phase::Completion if ok => return Delivery::Stale,
                _ => {}
            }
        }
        let p = *p;
        self.answer = Answer::Done(p, f);
        Delivery::Wake
    }

    /// Noise or a garbled line came: if a command waits, a line of its answer may be lost.
    pub(crate) fn taint(&mut self) {
        if self.waiting() {
            self.tainted = true;
        }
    }

    /// Bytes were discarded: an overlong line while a command waits is part of its answer
    /// (too large for the slot when it is `N` bytes or more), and noise may have eaten a line.
    pub(crate) fn discarded(&mut self, bytes: usize) {
        if self.waiting() && bytes > 0 {
            self.overflow |= bytes >= N;
            self.tainted = true;
        }
    }

    /// The prefix of the lines the pending command expects now, if one is pending.
    pub(crate) fn expected_prefix(&self, staged: bool) -> Option<&'static [u8]> {
        self.expect(staged).map(|e| e.prefix)
    }

    /// Closes the answer and judges it: `Ok` only for a final `OK` (or a completion line) with
    /// no non-zero code on a `prefix:<n>` line when `carries_code`; a failure the module
    /// reported reads as `failure` says. Still waiting (woken by the prompt, or not at all)
    /// is a protocol error.
    pub(crate) fn verdict(
        &mut self,
        carries_code: bool,
        failure: fn(&Detail) -> ErrorKind,
    ) -> Result<(), Error> {
        let answer = core::mem::replace(&mut self.answer, Answer::Idle);
        if self.overflow {
            return Err(Error::ResponseTooLarge);
        }
        let Answer::Done(p, result) = answer else {
            return Err(Error::Protocol);
        };
        let mut code_seen = false;
        if carries_code {
            match result_code(&self.info, p.info.prefix) {
                Some(Ok(0)) => code_seen = true,
                None => {}
                Some(Ok(n)) => {
                    let code = i16::try_from(n).unwrap_or(i16::MAX);
                    return Err(Error::module(Detail::Result(code), failure));
                }
                Some(Err(())) => return Err(Error::Protocol),
            }
        }
        match result {
            // Noise arrived inside the answer: a line of it (a value, or a non-zero code) may
            // be lost, so an OK cannot be trusted.
            Final::Ok if self.tainted && !code_seen => Err(Error::Protocol),
            Final::Ok => Ok(()),
            Final::Failed(detail) => Err(Error::module(detail, failure)),
        }
    }
}
