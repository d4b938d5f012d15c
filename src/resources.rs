//! All the memory the driver uses, in one caller-provided place.

use core::cell::RefCell;

use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Instant;
use heapless::{String, Vec};

use crate::command::Completion;
use crate::digest::{Expect, Final};
use crate::events::EventQueue;

/// Every buffer of the driver, sized by the application:
/// - `INGRESS`: the UART receive buffer; it must hold the largest incoming message to be
///   delivered (its `+MQTTRECV` header, payload and closing CRLF). Larger ones are dropped and
///   counted. A message that splits a line of an answer (which it can only do with the CRLF
///   in front of it) is cut out where it stands, so it also needs room for that line's start:
///   leave a line's worth (about 64 bytes) to spare.
/// - `RESPONSE`: the information lines of one command's answer. `AT+MQTTCONFIG?` is the
///   longest: 256 bytes fit typical settings, credentials at their 256-byte limits need about
///   930; a longer answer fails with [`Error::ResponseTooLarge`](crate::Error).
/// - `EVENTS`: the queue of incoming messages and events waiting for the application.
///
/// Put one in a `static` (for example with `static_cell`) and hand it to
/// [`MqttModem::new`](crate::MqttModem::new). Commands are never buffered: their parameters
/// stream from the caller's slices.
pub struct Resources<
    const INGRESS: usize = 1152,
    const RESPONSE: usize = 256,
    const EVENTS: usize = 2048,
> {
    pub(crate) ingress: [u8; INGRESS],
    pub(crate) shared: Shared<RESPONSE, EVENTS>,
}

impl<const INGRESS: usize, const RESPONSE: usize, const EVENTS: usize>
    Resources<INGRESS, RESPONSE, EVENTS>
{
    /// Empty resources, usable in a `static`.
    pub const fn new() -> Self {
        Self {
            ingress: [0; INGRESS],
            shared: Shared::new(),
        }
    }
}

impl<const INGRESS: usize, const RESPONSE: usize, const EVENTS: usize> Default
    for Resources<INGRESS, RESPONSE, EVENTS>
{
    fn default() -> Self {
        Self::new()
    }
}

/// Counters of everything the driver threw away, so that nothing is lost silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Stats {
    /// Incoming messages and events dropped because the event queue was full.
    pub dropped_queue_full: u32,
    /// Incoming messages dropped because noise broke their framing (prefix, topic, length).
    pub dropped_broken: u32,
    /// Incoming messages dropped because they were larger than the ingress buffer.
    pub dropped_oversized: u32,
    /// Final results that arrived when no command was waiting (late answers after a timeout).
    pub stale_responses: u32,
    /// Bytes of noise or stray lines discarded.
    pub discarded_bytes: u32,
    /// Serial read errors.
    pub read_errors: u32,
}

/// A final result, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Error,
    Cme(u16),
    CmeText(String<32>),
    Ext(u16),
}

impl From<&Final<'_>> for Outcome {
    fn from(f: &Final<'_>) -> Self {
        match *f {
            Final::Ok => Self::Ok,
            Final::Error => Self::Error,
            Final::Cme(n) => Self::Cme(n),
            Final::CmeText(t) => {
                let mut s = String::new();
                for c in core::str::from_utf8(t).unwrap_or("?").chars() {
                    if s.push(c).is_err() {
                        break;
                    }
                }
                Self::CmeText(s)
            }
            Final::Ext(n) => Self::Ext(n),
        }
    }
}

/// Where a command's answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the `>` prompt (an `OK` before it is not the end).
    Prompt,
    /// Waiting for the final result.
    Final,
    /// Waiting for the completion line.
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
    /// A command whose answer is `info` lines, then (after the prompt, when `prompted`) its
    /// final result and/or `completion`.
    pub fn new(info: Expect<'static>, prompted: bool, completion: Option<Completion>) -> Self {
        Self {
            info,
            phase: if prompted {
                Phase::Prompt
            } else {
                Phase::Final
            },
            completion,
        }
    }

    /// What the digester looks for now.
    pub fn expect(&self) -> Expect<'static> {
        match (self.phase, self.completion) {
            (Phase::Prompt, _) => Expect {
                prompt: true,
                ..self.info
            },
            (Phase::Completion, Some(c)) => Expect {
                prefix: c.prefix,
                bare: false,
                prompt: false,
                last: true,
            },
            _ => self.info,
        }
    }

    /// The phase after the prompt.
    pub fn after_prompt(&self) -> Phase {
        match self.completion {
            Some(c) if !c.after_final => Phase::Completion,
            _ => Phase::Final,
        }
    }
}

/// The response slot: what the runner fills and the client reads.
// Its flags are independent facts about one answer or read, not a state machine in disguise.
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct Slot<const N: usize> {
    /// The command waiting for its answer, if one is.
    pub pending: Option<Pending>,
    pub info: Vec<u8, N>,
    pub overflow: bool,
    /// Noise or a garbled `+MQTT` line arrived during the answer: a line of it may be lost.
    pub tainted: bool,
    pub outcome: Option<Outcome>,
    pub last_rx: Instant,
    pub stats: Stats,
    /// Losses not yet reported through an [`Event::Dropped`](crate::Event).
    pub unreported: u32,
    /// Evidence about the link seen since the supervisor last looked.
    pub hint: Option<LinkHint>,
    /// Incoming messages the modem holds until they are read (pull dialects).
    pub waiting: u16,
    /// A held message came in (or was dropped) since the client's last read began (pull
    /// dialects): a read answered `OK` without one means the modem holds nothing.
    pub fetched: bool,
    /// A notice of held messages came since the client's last read began (pull dialects): its
    /// count stands, whatever that read's answer says.
    pub noticed: bool,
    /// Set by the client after a timeout: if a message is holding the ingress back, drop it
    /// and everything buffered before the next read.
    pub unstick: bool,
}

/// Evidence that the MQTT link is gone, gathered from URCs and command results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LinkHint {
    /// An unsolicited `+MQTTSTATE:0` or `+MQTTDISCONNECTED`, or code 5, 8 or 10 on a command.
    Lost,
    /// A boot banner: the modem restarted and forgot its settings.
    Restarted,
}

impl<const N: usize> Slot<N> {
    /// Records `hint`, keeping the stronger of two (a restart implies a lost link).
    pub fn note(&mut self, hint: LinkHint) {
        self.hint = self.hint.max(Some(hint));
    }
}

/// The state the client and the runner share.
pub(crate) struct Shared<const RESPONSE: usize, const EVENTS: usize> {
    pub slot: Mutex<CriticalSectionRawMutex, RefCell<Slot<RESPONSE>>>,
    pub done: Signal<CriticalSectionRawMutex, ()>,
    pub events: EventQueue<EVENTS>,
}

impl<const R: usize, const E: usize> Shared<R, E> {
    const fn new() -> Self {
        Self {
            slot: Mutex::new(RefCell::new(Slot {
                pending: None,
                info: Vec::new(),
                overflow: false,
                tainted: false,
                outcome: None,
                last_rx: Instant::from_ticks(0),
                stats: Stats {
                    dropped_queue_full: 0,
                    dropped_broken: 0,
                    dropped_oversized: 0,
                    stale_responses: 0,
                    discarded_bytes: 0,
                    read_errors: 0,
                },
                unreported: 0,
                hint: None,
                waiting: 0,
                fetched: false,
                noticed: false,
                unstick: false,
            })),
            done: Signal::new(),
            events: EventQueue::new(),
        }
    }

    /// Runs `f` on the slot under the lock.
    pub fn with<T>(&self, f: impl FnOnce(&mut Slot<R>) -> T) -> T {
        self.slot.lock(|s| f(&mut s.borrow_mut()))
    }

    /// A command is about to be written: clear the slot and wait for its answer.
    pub fn begin(&self, pending: Pending) {
        // Reset first: a final result stored after this point is this command's, and signals.
        self.done.reset();
        self.with(|s| {
            s.pending = Some(pending);
            s.info.clear();
            s.overflow = false;
            s.tainted = false;
            s.outcome = None;
        });
    }

    /// The command gave up (timeout, cancellation): answers from now on are stale.
    pub fn abandon(&self) {
        self.with(|s| s.pending = None);
    }
}
