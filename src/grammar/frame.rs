//! Incoming-message URCs, framed by length, in every dialect's shape:
//! `<head>[<id>,…]<topic>,<len>,<payload>` with the payload optionally in quotes
//! (`+MQTTRECV:"t",5,hello`, `+MQTTSUBRECV:0,"t",5,hello`, `+QMTRECV: 0,7,"t",5,"hello"`). The
//! payload is read by length, never by line: it may hold CR, LF, commas, quotes and
//! `\r\nOK\r\n`.

use crate::mqtt::MAX_TOPIC_LEN;
use crate::parse::{RawField, Unclosed, closing_quote};

/// How one dialect frames its incoming-message URC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFrame {
    /// The head, colon included (`+MQTTRECV:`).
    pub head: &'static [u8],
    /// Whether one space follows the head (`+QMTRECV: 0,…`); where none does, a space there
    /// is the start of a bare topic.
    pub blank: bool,
    /// How many numeric fields (link id, client index, message id) come before the topic.
    pub ids: u8,
    /// Whether the payload stands between quotes that its length does not count (Quectel).
    pub quoted_payload: bool,
    /// Whether the message comes in lines of its own, announced by length (SIMCom); then the
    /// head's line carries the topic's and the payload's total lengths, not the message.
    pub pieces: Option<Pieces>,
}

/// A message sent as several lines, each piece announced with its length (SIMCom's
/// `+CMQTTRXSTART` … `+CMQTTRXEND`), each line closed by CRLF, each piece by an optional one:
///
/// ```text
/// <head>[ ]<ids>,<topic len>,<payload len>
/// <topic>[ ]<ids>,<n>        then n bytes of the topic    (once or more)
/// <payload>[ ]<ids>,<n>      then n bytes of the payload  (none, once or more)
/// <end>[ ]<ids>
/// ```
///
/// The pieces are joined in place, so the whole message must fit the ingress buffer, as an
/// inline message must; a larger one is dropped piece by piece as it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pieces {
    /// The head of a line announcing a piece of the topic, colon included.
    pub topic: &'static [u8],
    /// The head of a line announcing a piece of the payload.
    pub payload: &'static [u8],
    /// The head of the line that closes the message.
    pub end: &'static [u8],
}

impl MessageFrame {
    /// What closes a message after its payload.
    pub(crate) const fn trailer(&self) -> &'static [u8] {
        if self.quoted_payload {
            b"\"\r\n"
        } else {
            b"\r\n"
        }
    }

    /// Whether `rest` starts with this head, or is the start of it.
    pub(crate) fn starts(&self, rest: &[u8]) -> bool {
        rest.starts_with(self.head) || (!rest.is_empty() && self.head.starts_with(rest))
    }
}

/// The parsed header of an incoming-message URC; the payload follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecvHeader<'a> {
    /// The topic as sent (quoted fields keep their escapes).
    pub topic: RawField<'a>,
    /// Payload length announced.
    pub len: usize,
    /// Bytes of the header, up to and including the comma before the payload.
    pub header_len: usize,
}

/// Why a header could not be read (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// More bytes are needed.
    Incomplete,
    /// The bytes cannot be a header: the framing is broken.
    Invalid,
}

/// What [`scan_pieces`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The whole message, `total` bytes up to the end line's CRLF; when gathered, the topic's
    /// `topic` bytes and then the payload's `payload` bytes start where the message did.
    Done {
        total: usize,
        topic: usize,
        payload: usize,
    },
    /// More bytes are needed: the message is at least `at_least` bytes long, and its head line,
    /// if complete, is `line` bytes.
    Need { at_least: usize, line: usize },
    /// The framing broke after a head line of `line` bytes (0: before its end).
    Broken { line: usize },
}

/// Reads a [`Pieces`] message of `frame` at the start of `buf`. With `gather`, moves the pieces
/// together (topic, then payload, from the start of `buf`): only call it so once the message
/// is [`Scan::Done`], as the bytes it moves over are gone.
pub(crate) fn scan_pieces(frame: &MessageFrame, p: &Pieces, buf: &mut [u8], gather: bool) -> Scan {
    let (totals, mut at) = match numbers_line(frame, frame.head, 2, buf) {
        Ok(found) => found,
        Err(HeaderError::Incomplete) => {
            return Scan::Need {
                at_least: buf.len() + 1,
                line: 0,
            };
        }
        Err(HeaderError::Invalid) => return Scan::Broken { line: 0 },
    };
    let first = at;
    let broken = Scan::Broken { line: first };
    let need = |seen: [usize; 2], at: usize| Scan::Need {
        at_least: at + totals[0] + totals[1] - seen[0] - seen[1] + p.end.len() + 2,
        line: first,
    };
    if totals[0] == 0 || totals[0] > 2 * MAX_TOPIC_LEN {
        return broken;
    }
    let mut seen = [0usize; 2];
    let mut to = 0;
    loop {
        let rest = &buf[at..];
        let kind = if rest.starts_with(p.topic) || (seen[1] == 0 && p.topic.starts_with(rest)) {
            0
        } else if rest.starts_with(p.payload) || p.payload.starts_with(rest) {
            1
        } else if seen == totals && (rest.starts_with(p.end) || p.end.starts_with(rest)) {
            return match numbers_line(frame, p.end, 0, rest) {
                Ok((_, line)) => Scan::Done {
                    total: at + line,
                    topic: totals[0],
                    payload: totals[1],
                },
                Err(HeaderError::Incomplete) => need(seen, at),
                Err(HeaderError::Invalid) => broken,
            };
        } else {
            return broken;
        };
        let head = if kind == 0 { p.topic } else { p.payload };
        let (n, line) = match numbers_line(frame, head, 1, rest) {
            Ok(([n, _], line)) => (n, line),
            Err(HeaderError::Incomplete) => return need(seen, at),
            Err(HeaderError::Invalid) => return broken,
        };
        // Topic pieces come first, and no piece goes past its announced total.
        if (kind == 0 && seen[1] > 0)
            || (kind == 1 && seen[0] < totals[0])
            || n > totals[kind] - seen[kind]
        {
            return broken;
        }
        let body = at + line;
        // The piece's bytes, then (the manual is silent; the drivers read) a CRLF, which the
        // next head line tells apart from bytes that a wrong length took.
        let Some(crlf) = buf.get(body + n..body + n + 2).map(|c| c == b"\r\n") else {
            return need(seen, at);
        };
        if gather {
            shift_left(buf, body..body + n, to);
            to += n;
        }
        seen[kind] += n;
        at = body + n + if crlf { 2 } else { 0 };
    }
}

/// Reads a line `<head>[ ]<ids…>,<n1>,…\r\n` at the start of `buf`: the `want` (at most 2)
/// numbers after the frame's id fields, and the line's length with its CRLF.
pub(crate) fn numbers_line(
    frame: &MessageFrame,
    head: &[u8],
    want: usize,
    buf: &[u8],
) -> Result<([usize; 2], usize), HeaderError> {
    let mut at = expect(buf, 0, head)?;
    if frame.blank && buf.get(at) == Some(&b' ') {
        at += 1;
    }
    let fields = usize::from(frame.ids) + want;
    let mut out = [0usize; 2];
    for i in 0..fields {
        let digits = buf[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > MAX_LEN_DIGITS {
            return Err(HeaderError::Invalid);
        }
        if at + digits == buf.len() {
            return Err(HeaderError::Incomplete);
        }
        if digits == 0 {
            return Err(HeaderError::Invalid);
        }
        let n = crate::parse::number(&buf[at..at + digits]).ok_or(HeaderError::Invalid)? as usize;
        if let Some(slot) = (i + want).checked_sub(fields).and_then(|k| out.get_mut(k)) {
            *slot = n;
        }
        at = expect(
            buf,
            at + digits,
            if i + 1 < fields { b"," } else { b"\r\n" },
        )?;
    }
    if fields == 0 {
        at = expect(buf, at, b"\r\n")?;
    }
    Ok((out, at))
}

/// Where `buf` goes on after `sep` at `at`.
fn expect(buf: &[u8], at: usize, sep: &[u8]) -> Result<usize, HeaderError> {
    match buf.get(at..at + sep.len()) {
        Some(s) if s == sep => Ok(at + sep.len()),
        None if sep.starts_with(&buf[at..]) => Err(HeaderError::Incomplete),
        _ => Err(HeaderError::Invalid),
    }
}

/// The most digits a payload length may have.
const MAX_LEN_DIGITS: usize = 6;
/// The most digits an id field (link id, client index, message id) may have.
const MAX_ID_DIGITS: usize = 5;

/// Reads the header of a `frame` message at the start of `buf`, which starts with its head
/// (or a prefix of it, which is [`HeaderError::Incomplete`]). With a quoted payload the header
/// includes the opening quote.
pub(crate) fn parse_header<'b>(
    frame: &MessageFrame,
    buf: &'b [u8],
) -> Result<RecvHeader<'b>, HeaderError> {
    let mut at = expect(buf, 0, frame.head)?;
    if frame.blank {
        match buf.get(at) {
            None => return Err(HeaderError::Incomplete),
            Some(b' ') => at += 1,
            Some(_) => {}
        }
    }
    for _ in 0..frame.ids {
        let digits = take_digits(&buf[at..], MAX_ID_DIGITS)?;
        at += digits + 1;
    }
    let topic_start = at;
    let topic = match buf.get(at) {
        None => return Err(HeaderError::Incomplete),
        Some(b'"') => {
            let body = at + 1;
            let i = match closing_quote(&buf[body..]) {
                // No topic is this long, escaped: the framing is broken.
                Ok(n) if n > 2 * MAX_TOPIC_LEN => return Err(HeaderError::Invalid),
                Ok(n) => body + n,
                Err(Unclosed::Short(n)) => return Err(too_long_or_incomplete(n)),
                Err(Unclosed::LineEnd) => return Err(HeaderError::Invalid),
            };
            at = i + 1;
            match buf.get(at) {
                None => return Err(HeaderError::Incomplete),
                Some(b',') => at += 1,
                Some(_) => return Err(HeaderError::Invalid),
            }
            RawField::Quoted(&buf[body..i])
        }
        Some(_) => {
            let rest = &buf[at..];
            let end = match rest.iter().position(|&b| matches!(b, b',' | b'\r' | b'\n')) {
                // No topic is this long: the framing is broken.
                Some(end) if end > 2 * MAX_TOPIC_LEN => return Err(HeaderError::Invalid),
                Some(end) if rest[end] == b',' => end,
                Some(_) => return Err(HeaderError::Invalid),
                None => return Err(too_long_or_incomplete(rest.len())),
            };
            at += end + 1;
            RawField::Bare(&rest[..end])
        }
    };
    if at - topic_start < 2 && matches!(topic, RawField::Bare(b"")) {
        return Err(HeaderError::Invalid);
    }
    let digits = take_digits(&buf[at..], MAX_LEN_DIGITS)?;
    let len = crate::parse::number(&buf[at..at + digits]).ok_or(HeaderError::Invalid)? as usize;
    at += digits + 1;
    if frame.quoted_payload {
        match buf.get(at) {
            None => return Err(HeaderError::Incomplete),
            Some(b'"') => at += 1,
            Some(_) => return Err(HeaderError::Invalid),
        }
    }
    Ok(RecvHeader {
        topic,
        len,
        header_len: at,
    })
}

fn too_long_or_incomplete(seen: usize) -> HeaderError {
    if seen > 2 * MAX_TOPIC_LEN {
        HeaderError::Invalid
    } else {
        HeaderError::Incomplete
    }
}

/// Counts the digits before a comma (at least one, at most `max`).
fn take_digits(buf: &[u8], max: usize) -> Result<usize, HeaderError> {
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'0'..=b'9' if i < max => {}
            b',' if i > 0 => return Ok(i),
            _ => return Err(HeaderError::Invalid),
        }
    }
    Err(HeaderError::Incomplete)
}

/// Moves `buf[from]` down to `buf[to..]` (`to <= from.start`), as `copy_within` would, but
/// with plain `memcpy`s, so that a firmware links no `memmove` (1.5 KiB on a Cortex-M4).
/// Pieces no longer than the gap never overlap and are copied straight; with a gap shorter than
/// [`STEP`] and more to move (the CR LF before a line), [`STEP`] bytes at a time go through the
/// stack, each piece read whole before it is written.
pub(crate) fn shift_left(buf: &mut [u8], from: core::ops::Range<usize>, to: usize) {
    let gap = from.start - to;
    let (mut src, mut dst) = (from.start, to);
    while gap > 0 && src < from.end {
        let rest = from.end - src;
        let n = if gap >= rest {
            rest
        } else if gap >= STEP {
            gap
        } else {
            STEP.min(rest)
        };
        if n <= gap {
            let (head, tail) = buf.split_at_mut(src);
            head[dst..dst + n].copy_from_slice(&tail[..n]);
        } else {
            let mut step = [0u8; STEP];
            step[..n].copy_from_slice(&buf[src..src + n]);
            // Opaque to the optimiser, which would otherwise fuse the two copies into the
            // very `memmove` this avoids.
            let step = core::hint::black_box(&step);
            buf[dst..dst + n].copy_from_slice(&step[..n]);
        }
        src += n;
        dst += n;
    }
}

/// The piece [`shift_left`] moves through the stack when the gap is smaller.
const STEP: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    const RECV: MessageFrame = MessageFrame {
        head: b"+MQTTRECV:",
        blank: false,
        ids: 0,
        quoted_payload: false,
        pieces: None,
    };
    const SUBRECV: MessageFrame = MessageFrame {
        head: b"+MQTTSUBRECV:",
        blank: false,
        ids: 1,
        quoted_payload: false,
        pieces: None,
    };
    const QMTRECV: MessageFrame = MessageFrame {
        head: b"+QMTRECV:",
        blank: true,
        ids: 2,
        quoted_payload: true,
        pieces: None,
    };

    fn parse_header(buf: &[u8]) -> Result<RecvHeader<'_>, HeaderError> {
        let frame = if SUBRECV.starts(buf) { &SUBRECV } else { &RECV };
        super::parse_header(frame, buf)
    }

    #[test]
    fn quoted_payload_header() {
        // closing_quote loops over an index: a mutant that stops it must fail, not hang.
        let _deadline = crate::deadline::deadline(30);
        let buf = b"+QMTRECV: 0,65535,\"a/b\",5,\"hello\"\r\n";
        let h = super::parse_header(&QMTRECV, buf).unwrap();
        assert_eq!((h.topic, h.len), (RawField::Quoted(b"a/b"), 5));
        assert_eq!(&buf[h.header_len..h.header_len + 5], b"hello");
        assert_eq!(
            super::parse_header(&QMTRECV, b"+QMTRECV: 0,1,\"t\",5,h"),
            Err(HeaderError::Invalid)
        );
        assert_eq!(
            super::parse_header(&QMTRECV, b"+QMTRECV: 0,123456,\"t\",5,\""),
            Err(HeaderError::Invalid)
        );
        assert_eq!(
            super::parse_header(&QMTRECV, b"+QMTRECV: 0,1,\"t\",5,"),
            Err(HeaderError::Incomplete)
        );
    }

    #[test]
    fn headers() {
        // closing_quote loops over an index: a mutant that stops it must fail, not hang.
        let _deadline = crate::deadline::deadline(30);
        let h = parse_header(b"+MQTTRECV:\"a/b\",5,hello").unwrap();
        assert_eq!(h.topic, RawField::Quoted(b"a/b"));
        assert_eq!(h.len, 5);
        assert_eq!(&b"+MQTTRECV:\"a/b\",5,hello"[h.header_len..], b"hello");
        let h = parse_header(b"+MQTTSUBRECV:0,\"t\",2,hi").unwrap();
        assert_eq!((h.topic, h.len), (RawField::Quoted(b"t"), 2));
        let h = parse_header(b"+MQTTRECV:bare/t,1,x").unwrap();
        assert_eq!(h.topic, RawField::Bare(b"bare/t"));
        assert_eq!(parse_header(b"+MQTTRE"), Err(HeaderError::Incomplete));
        assert_eq!(parse_header(b"+MQTTRECV:\"t"), Err(HeaderError::Incomplete));
        assert_eq!(
            parse_header(b"+MQTTRECV:\"t\",12"),
            Err(HeaderError::Incomplete)
        );
        assert_eq!(
            parse_header(b"+MQTTRECV:\"t\",1x,"),
            Err(HeaderError::Invalid)
        );
        assert_eq!(parse_header(b"+MQTTRECV:\"t\"x"), Err(HeaderError::Invalid));
        assert_eq!(
            parse_header(b"+MQTTRECV:\"t\",1234567,"),
            Err(HeaderError::Invalid)
        );
        assert_eq!(parse_header(b"+MQTTRECV:,1,x"), Err(HeaderError::Invalid));
        // A bare topic longer than any topic, found by fuzzing (it tripped a debug assertion).
        let mut long = b"+MQTTRECV:".to_vec();
        long.extend_from_slice(&[b'S'; 600]);
        long.extend_from_slice(b",1,x");
        assert_eq!(parse_header(&long), Err(HeaderError::Invalid));
    }
}
