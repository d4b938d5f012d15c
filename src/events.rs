//! Incoming messages and other unsolicited events, from the runner to the application.
//!
//! Events are packed into one byte pipe of the size the application chose, each as a small
//! frame, so many short messages or a few long ones fit the same memory. The runner never
//! waits for room: when a message does not fit, it is dropped and counted, and an
//! [`Event::Dropped`] is queued ahead of the next event that fits. Command responses therefore
//! keep flowing while the application is not reading (atat's `UrcChannel` would stall them).

use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::pipe::Pipe;

use crate::mqtt::ConnectionState;

/// An incoming MQTT message, borrowed from the buffer given to [`Events::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Message<'a> {
    /// The topic it was published on, escapes resolved.
    pub topic: &'a str,
    /// The payload, byte for byte as the modem delivered it.
    pub payload: &'a [u8],
}

/// Something the modem said unasked, the same in every dialect: each dialect's grammar reads
/// its own lines into these (docs/DIALECTS.md, "The seam").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event<'a> {
    /// A message on a subscribed topic.
    Message(Message<'a>),
    /// The module reported the link's state unasked (UC8088 `+MQTTSTATE:<n>`, ESP-AT
    /// `+MQTTCONNECTED:…`).
    StateChanged(ConnectionState),
    /// The module reported the link lost (UC8088 and ESP-AT `+MQTTDISCONNECTED…`, Quectel
    /// `+QMTSTAT:`).
    Disconnected,
    /// A boot banner: the modem restarted and forgot its settings.
    Restarted,
    /// Another unsolicited `+…` line, raw (empty if it is longer than the buffer given to
    /// [`Events::next`]).
    Unrecognised(&'a [u8]),
    /// This many messages or other events were lost before this point: the queue was full,
    /// a message's framing was broken by noise, or it was larger than the ingress buffer. See
    /// [`crate::Stats`].
    Dropped {
        /// How many.
        count: u32,
    },
    /// A message of `len` bytes (topic plus payload) did not fit the buffer given to
    /// [`Events::next`] and was skipped.
    TooLargeForBuffer {
        /// Topic plus payload length.
        len: usize,
    },
    /// The modem holds `count` incoming messages until they are read (modules that keep
    /// messages, such as u-blox's, whose dialect is not written yet: none of the dialects
    /// offered today sends it): [`crate::Supervisor::poll`] or
    /// [`crate::MqttModem::receive_waiting`] reads them into this stream.
    MessagesWaiting {
        /// How many.
        count: u16,
    },
}

/// At most this many bytes of a payload or a line are shown by [`Event`]'s `Display`.
const SHOWN: usize = 64;

/// `"…"` with the bytes escaped as Rust does (`\"`, `\x00`), the first [`SHOWN`] of them,
/// then `…` if there are more.
fn quoted(f: &mut core::fmt::Formatter<'_>, bytes: &[u8]) -> core::fmt::Result {
    use core::fmt::Write;
    f.write_char('"')?;
    for &b in &bytes[..bytes.len().min(SHOWN)] {
        for c in core::ascii::escape_default(b) {
            f.write_char(char::from(c))?;
        }
    }
    f.write_char('"')?;
    if bytes.len() > SHOWN {
        f.write_char('…')?;
    }
    Ok(())
}

/// In words, for logs: `message on cmd/dev-1: 6 bytes "led on"` (a payload's first 64 bytes,
/// escaped), `3 incoming messages or events lost`, ….
impl core::fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Message(m) => {
                write!(f, "message on {}: {} bytes ", m.topic, m.payload.len())?;
                quoted(f, m.payload)
            }
            Self::StateChanged(state) => write!(f, "the module reports the link {state}"),
            Self::Disconnected => f.write_str("the module reports the link lost"),
            Self::Restarted => f.write_str("the modem restarted"),
            Self::Unrecognised(line) => {
                f.write_str("unrecognised line ")?;
                quoted(f, line)
            }
            Self::Dropped { count } => write!(f, "{count} incoming messages or events lost"),
            Self::TooLargeForBuffer { len } => write!(
                f,
                "a message of {len} bytes did not fit the buffer given to Events::next"
            ),
            Self::MessagesWaiting { count } => {
                write!(f, "{count} messages held by the modem")
            }
        }
    }
}

/// The kinds of queued frame, one per [`Event`] variant.
const MESSAGE: u8 = 1;
const STATE: u8 = 2;
const DISCONNECTED: u8 = 3;
const RESTARTED: u8 = 4;
const UNRECOGNISED: u8 = 5;
const DROPPED: u8 = 6;
const WAITING: u8 = 7;
const TOO_LARGE: u8 = 8;
/// kind, topic length (u16), payload length (u16).
const HEADER: usize = 5;

/// How an event goes into the queue: its kind and its two byte runs (a message's topic and
/// payload; a value or a line in the first otherwise), small values written into `scratch`.
/// The one encoder, read back by [`decode`].
fn encode<'e>(event: &Event<'e>, scratch: &'e mut [u8; 4]) -> (u8, &'e [u8], &'e [u8]) {
    let (kind, n) = match *event {
        Event::Message(m) => return (MESSAGE, m.topic.as_bytes(), m.payload),
        Event::Unrecognised(line) => return (UNRECOGNISED, line, b""),
        Event::StateChanged(state) => {
            scratch[0] = u8::from(state == ConnectionState::Connected);
            (STATE, 1)
        }
        Event::Disconnected => (DISCONNECTED, 0),
        Event::Restarted => (RESTARTED, 0),
        Event::MessagesWaiting { count } => {
            scratch[..2].copy_from_slice(&count.to_le_bytes());
            (WAITING, 2)
        }
        Event::Dropped { count } => {
            *scratch = count.to_le_bytes();
            (DROPPED, 4)
        }
        Event::TooLargeForBuffer { len } => {
            *scratch = u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes();
            (TOO_LARGE, 4)
        }
    };
    (kind, &scratch[..n], b"")
}

/// The event a frame of `kind` holds, `a` and `b` its two byte runs (a message's topic and
/// payload; otherwise `a` alone). The one decoder of what [`encode`] wrote.
fn decode<'b>(kind: u8, a: &'b [u8], b: &'b [u8]) -> Event<'b> {
    let le = |n: usize| {
        let mut v = [0u8; 4];
        let n = n.min(a.len());
        v[..n].copy_from_slice(&a[..n]);
        u32::from_le_bytes(v)
    };
    match kind {
        MESSAGE => match core::str::from_utf8(a) {
            Ok(topic) => Event::Message(Message { topic, payload: b }),
            // The runner only queues UTF-8 topics.
            Err(_) => Event::Dropped { count: 1 },
        },
        STATE => Event::StateChanged(if a.first() == Some(&1) {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected
        }),
        DISCONNECTED => Event::Disconnected,
        RESTARTED => Event::Restarted,
        UNRECOGNISED => Event::Unrecognised(a),
        WAITING => Event::MessagesWaiting {
            count: le(2) as u16,
        },
        TOO_LARGE => Event::TooLargeForBuffer {
            len: le(4) as usize,
        },
        _ => Event::Dropped { count: le(4) },
    }
}

/// The event pipe. Single producer (the runner), single consumer ([`Events`]).
pub(crate) struct EventQueue<const N: usize> {
    pipe: Pipe<CriticalSectionRawMutex, N>,
}

/// What happened to a frame the runner offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queued {
    /// It was queued.
    Yes,
    /// No room: dropped.
    Full,
}

impl<const N: usize> EventQueue<N> {
    pub(crate) const fn new() -> Self {
        Self { pipe: Pipe::new() }
    }

    /// Queues one frame if it fits whole, with a [`Event::Dropped`] frame first when
    /// `unreported` losses are pending and there is room for both.
    fn push_frame(&self, kind: u8, a: &[u8], b: &[u8], unreported: &mut u32) -> Queued {
        let size = HEADER + a.len() + b.len();
        let lost_size = if *unreported > 0 { HEADER + 4 } else { 0 };
        if a.len() > usize::from(u16::MAX)
            || b.len() > usize::from(u16::MAX)
            || self.pipe.free_capacity() < size + lost_size
        {
            return Queued::Full;
        }
        if *unreported > 0 {
            let mut scratch = [0u8; 4];
            let (kind, a, b) = encode(&Event::Dropped { count: *unreported }, &mut scratch);
            self.write_frame(kind, a, b);
            *unreported = 0;
        }
        self.write_frame(kind, a, b);
        Queued::Yes
    }

    fn write_frame(&self, kind: u8, a: &[u8], b: &[u8]) {
        // Lengths were checked to fit u16 by `push`.
        let [a0, a1] = (a.len() as u16).to_le_bytes();
        let [b0, b1] = (b.len() as u16).to_le_bytes();
        for part in [&[kind, a0, a1, b0, b1][..], a, b] {
            let mut rest = part;
            // Room was checked; the pipe takes a wrapped write in two pieces.
            while !rest.is_empty() {
                match self.pipe.try_write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(_) => return,
                }
            }
        }
    }

    /// Queues an event if it fits whole, with an [`Event::Dropped`] first when `unreported`
    /// losses are pending and there is room for both.
    pub(crate) fn push(&self, event: &Event<'_>, unreported: &mut u32) -> Queued {
        let mut scratch = [0u8; 4];
        let (kind, a, b) = encode(event, &mut scratch);
        self.push_frame(kind, a, b, unreported)
    }

    /// Whether the application has taken every queued event.
    pub(crate) fn is_empty(&self) -> bool {
        self.pipe.is_empty()
    }

    async fn read_exact(&self, mut buf: &mut [u8]) {
        while !buf.is_empty() {
            let n = self.pipe.read(buf).await;
            buf = &mut buf[n..];
        }
    }

    async fn skip(&self, mut n: usize) {
        let mut scratch = [0u8; 32];
        while n > 0 {
            let take = n.min(scratch.len());
            self.read_exact(&mut scratch[..take]).await;
            n -= take;
        }
    }
}

/// The application's end of the event queue. There is exactly one, returned by
/// [`crate::MqttModem::new`].
pub struct Events<'a, const N: usize = 2048> {
    queue: &'a EventQueue<N>,
}

impl<'a, const N: usize> Events<'a, N> {
    pub(crate) fn new(queue: &'a EventQueue<N>) -> Self {
        Self { queue }
    }

    /// Waits for the next event and copies it into `buf`, which should hold the largest topic
    /// plus payload the application expects.
    ///
    /// Cancel-safe: the runner queues each frame whole, so this future only ever waits before
    /// the first byte of a frame; once it has one it completes without waiting. It can be
    /// raced against a timer in a `select`.
    pub async fn next<'b>(&mut self, buf: &'b mut [u8]) -> Event<'b> {
        let mut header = [0u8; HEADER];
        self.queue.read_exact(&mut header).await;
        let [kind, a0, a1, b0, b1] = header;
        let a = usize::from(u16::from_le_bytes([a0, a1]));
        let b = usize::from(u16::from_le_bytes([b0, b1]));
        if a + b > buf.len() {
            self.queue.skip(a + b).await;
            return match kind {
                UNRECOGNISED => Event::Unrecognised(&buf[..0]),
                _ => Event::TooLargeForBuffer { len: a + b },
            };
        }
        let buf = &mut buf[..a + b];
        self.queue.read_exact(buf).await;
        let (a, b) = buf.split_at(a);
        decode(kind, a, b)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    /// The future's output, which must be ready at once (every event is queued already): a
    /// test fails instead of waiting for bytes that never come.
    fn block_on<F: core::future::Future>(f: F) -> F::Output {
        match embassy_futures::poll_once(f) {
            core::task::Poll::Ready(v) => v,
            core::task::Poll::Pending => panic!("would wait"),
        }
    }

    /// Every frame in the queue, read back.
    fn drain<const N: usize>(q: &EventQueue<N>) -> std::vec::Vec<std::string::String> {
        let mut events = Events::new(q);
        let mut out = std::vec::Vec::new();
        let mut buf = [0u8; 128];
        while !q.is_empty() {
            out.push(std::format!("{:?}", block_on(events.next(&mut buf))));
            assert!(out.len() <= 16, "no end: {out:?}");
        }
        out
    }

    /// An event larger than the buffer given to `next` is skipped whole and reported by its
    /// length (an unrecognised line as an empty one); the next event comes intact.
    #[test]
    fn an_event_larger_than_the_buffer_is_skipped() {
        let _deadline = crate::deadline::deadline(30);
        let q = EventQueue::<256>::new();
        let mut lost = 0;
        let payload = [b'p'; 40];
        let message = Event::Message(Message {
            topic: "topic",
            payload: &payload,
        });
        for e in [
            message,
            Event::Unrecognised(&payload),
            message,
            Event::Restarted,
        ] {
            assert_eq!(q.push(&e, &mut lost), Queued::Yes);
        }
        let mut events = Events::new(&q);
        let mut small = [0u8; 44];
        let mut exact = [0u8; 45];
        assert_eq!(
            block_on(events.next(&mut small)),
            Event::TooLargeForBuffer { len: 45 }
        );
        assert_eq!(
            block_on(events.next(&mut small[..39])),
            Event::Unrecognised(b"")
        );
        assert_eq!(block_on(events.next(&mut exact)), message);
        assert_eq!(block_on(events.next(&mut small[..0])), Event::Restarted);
        assert!(q.is_empty());
    }

    /// A frame that fits exactly is queued, one byte more is not; a pending loss report needs
    /// its own room (a header and a count) before the frame.
    #[test]
    fn a_frame_is_queued_only_whole_with_its_loss_report() {
        let _deadline = crate::deadline::deadline(30);
        let x = [b'x'; 64];
        let q = EventQueue::<32>::new();
        let mut lost = 0;
        assert_eq!(
            q.push(&Event::Unrecognised(&x[..27]), &mut lost),
            Queued::Yes
        );
        assert_eq!(drain(&q), [std::format!("Unrecognised({:?})", &x[..27])]);
        assert_eq!(
            q.push(&Event::Unrecognised(&x[..28]), &mut lost),
            Queued::Full
        );
        let mut lost = 3;
        assert_eq!(
            q.push(&Event::Unrecognised(&x[..19]), &mut lost),
            Queued::Full
        );
        assert_eq!(lost, 3, "counted by the caller, reported later");
        assert!(q.is_empty());
        assert_eq!(
            q.push(&Event::Unrecognised(&x[..18]), &mut lost),
            Queued::Yes
        );
        assert_eq!(lost, 0);
        assert_eq!(
            drain(&q),
            [
                std::format!("{:?}", Event::Dropped { count: 3 }),
                std::format!("Unrecognised({:?})", &x[..18])
            ]
        );
    }

    /// Each part of a frame holds at most 65535 bytes (its length is 16 bits).
    #[test]
    fn a_part_longer_than_16_bits_is_refused() {
        let _deadline = crate::deadline::deadline(30);
        let q = std::boxed::Box::new(EventQueue::<70_000>::new());
        let big = std::vec![b'x'; 65_536];
        let mut lost = 0;
        assert_eq!(q.push(&Event::Unrecognised(&big), &mut lost), Queued::Full);
        let message = |topic: &'static str, payload| Event::Message(Message { topic, payload });
        let long_topic: &'static str = std::boxed::Box::leak("t".repeat(65_536).into_boxed_str());
        assert_eq!(q.push(&message(long_topic, b"p"), &mut lost), Queued::Full);
        assert_eq!(q.push(&message("t", &big), &mut lost), Queued::Full);
        assert!(q.is_empty());
        assert_eq!(
            q.push(&Event::Unrecognised(&big[1..]), &mut lost),
            Queued::Yes
        );
        assert_eq!(
            q.push(&message("t", &big[4100..]), &mut lost),
            Queued::Full,
            "no room left"
        );
        let q = std::boxed::Box::new(EventQueue::<70_000>::new());
        assert_eq!(q.push(&message("t", &big[1..]), &mut lost), Queued::Yes);
    }

    /// Every kind of event comes out of the queue as it went in.
    #[test]
    fn every_event_round_trips() {
        let _deadline = crate::deadline::deadline(30);
        let events = [
            Event::Message(Message {
                topic: "a/b",
                payload: b"\0\r\n",
            }),
            Event::StateChanged(ConnectionState::Connected),
            Event::StateChanged(ConnectionState::Disconnected),
            Event::Disconnected,
            Event::Restarted,
            Event::Unrecognised(b"+X: 1"),
            Event::Dropped { count: 70_000 },
            Event::TooLargeForBuffer { len: 70_000 },
            Event::MessagesWaiting { count: 300 },
        ];
        let q = EventQueue::<512>::new();
        let mut lost = 0;
        for e in &events {
            assert_eq!(q.push(e, &mut lost), Queued::Yes);
        }
        let want: std::vec::Vec<_> = events.iter().map(|e| std::format!("{e:?}")).collect();
        assert_eq!(drain(&q), want);
    }

    /// A payload is shown up to 64 bytes; `…` says there were more.
    #[test]
    fn display_shows_64_bytes_then_an_ellipsis() {
        let _deadline = crate::deadline::deadline(30);
        let shown = |n: usize| {
            let payload = std::vec![b'x'; n];
            let e = Event::Message(Message {
                topic: "t",
                payload: &payload,
            });
            std::format!("{e}")
        };
        assert_eq!(
            shown(64),
            std::format!("message on t: 64 bytes \"{}\"", "x".repeat(64))
        );
        assert_eq!(
            shown(65),
            std::format!("message on t: 65 bytes \"{}\"…", "x".repeat(64))
        );
    }
}
