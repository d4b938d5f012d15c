//! All the memory the driver uses, in one caller-provided place.

use core::cell::RefCell;

use crate::events::EventQueue;
use crate::exchange::slot::{Pending, Slot};
use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Instant;

/// Every buffer of the driver, sized by the application:
/// - `INGRESS`: the UART receive buffer; it must hold the largest incoming message to be
///   delivered (its header, such as `+MQTTRECV:…`, payload and closing CRLF). Larger ones are dropped and
///   counted. A message that splits a line of an answer (which it can only do with the CRLF
///   in front of it) is cut out where it stands, so it also needs room for that line's start:
///   leave a line's worth (about 64 bytes) to spare.
/// - `RESPONSE`: the information lines of one command's answer. The UC8088's `AT+MQTTCONFIG?`
///   is the longest: 256 bytes fit typical settings, credentials at their 256-byte limits need
///   about 930; a longer answer fails with [`Error::ResponseTooLarge`](crate::Error).
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
    /// Serial read errors (and reads that returned end of file).
    pub read_errors: u32,
}

/// Evidence that the MQTT link is gone, gathered from URCs and command results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LinkHint {
    /// The module reported the link lost unasked, or a command failed with
    /// [`ErrorKind::Link`](crate::ErrorKind::Link).
    Lost,
    /// A boot banner: the modem restarted and forgot its settings.
    Restarted,
    /// The serial port keeps failing (reads returned errors or end of file several times in a
    /// row, or a write failed): the device may be gone, and the modem must be brought up again
    /// once it answers.
    SerialFailed,
}

/// What the runner notices for the client and the supervisor besides command answers: when
/// the line was last busy, the loss counters, the link hint and held messages.
#[allow(clippy::struct_excessive_bools)] // independent flags, each set and read in one place
pub(crate) struct Watch {
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
    /// A runner is reading the UART: set when [`Runner::run`](crate::Runner::run) starts,
    /// cleared when it is dropped.
    pub reading: bool,
    /// A session may be open: set when a connect is attempted, cleared by a connect refused or
    /// failed with the link, a disconnect, a state answer of disconnected, or the module saying
    /// unasked that the link is gone or that it restarted. Set wrongly, it costs one state
    /// query at the next `configure`; cleared wrongly, it would let `configure` through on an
    /// open session, so only proof clears it.
    pub session: bool,
}

impl Watch {
    /// Records `hint`, keeping the stronger of two (a restart implies a lost link).
    pub fn note(&mut self, hint: LinkHint) {
        self.hint = self.hint.max(Some(hint));
    }
}

/// What the client and the runner share under one lock.
pub(crate) struct Inner<const RESPONSE: usize> {
    /// The answer to the command in flight.
    pub slot: Slot<RESPONSE>,
    pub watch: Watch,
}

/// The state the client and the runner share.
pub(crate) struct Shared<const RESPONSE: usize, const EVENTS: usize> {
    inner: Mutex<CriticalSectionRawMutex, RefCell<Inner<RESPONSE>>>,
    /// The runner's signal to the client: a prompt, a final result or a completion line.
    pub done: Signal<CriticalSectionRawMutex, ()>,
    pub events: EventQueue<EVENTS>,
}

impl<const R: usize, const E: usize> Shared<R, E> {
    pub(crate) const fn new() -> Self {
        Self {
            inner: Mutex::new(RefCell::new(Inner {
                slot: Slot::new(),
                watch: Watch {
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
                    reading: false,
                    session: false,
                },
            })),
            done: Signal::new(),
            events: EventQueue::new(),
        }
    }

    /// Runs `f` on the shared state under the lock.
    pub fn with<T>(&self, f: impl FnOnce(&mut Inner<R>) -> T) -> T {
        self.inner.lock(|s| f(&mut s.borrow_mut()))
    }

    /// A command is about to be written: open the slot for its answer.
    pub fn begin(&self, pending: Pending) {
        // Reset first: a final result stored after this point is this command's, and signals.
        self.done.reset();
        self.with(|s| s.slot.begin(pending));
    }

    /// The command gave up (timeout, cancellation): answers from now on are stale.
    pub fn abandon(&self) {
        self.with(|s| s.slot.abandon());
    }
}
