//! Incoming-message URCs, framed by length, in every dialect's shape:
//! `<head>[<id>,…]<topic>,<len>,<payload>` with the payload optionally in quotes
//! (`+MQTTRECV:"t",5,hello`, `+MQTTSUBRECV:0,"t",5,hello`, `+QMTRECV: 0,7,"t",5,"hello"`). The
//! payload is read by length, never by line: it may hold CR, LF, commas, quotes and
//! `\r\nOK\r\n`.

use crate::command::publish::types::MAX_TOPIC_LEN;
use crate::parse::RawField;

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
    if !buf.starts_with(frame.head) {
        return Err(if frame.head.starts_with(buf) {
            HeaderError::Incomplete
        } else {
            HeaderError::Invalid
        });
    }
    let mut at = frame.head.len();
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
            let mut i = body;
            loop {
                match buf.get(i) {
                    None => return Err(too_long_or_incomplete(i - body)),
                    Some(b'\\') => i += 2,
                    Some(b'"') => break,
                    Some(b'\r' | b'\n') => return Err(HeaderError::Invalid),
                    Some(_) => i += 1,
                }
                if i - body > 2 * MAX_TOPIC_LEN {
                    return Err(HeaderError::Invalid);
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    const RECV: MessageFrame = MessageFrame {
        head: b"+MQTTRECV:",
        blank: false,
        ids: 0,
        quoted_payload: false,
    };
    const SUBRECV: MessageFrame = MessageFrame {
        head: b"+MQTTSUBRECV:",
        blank: false,
        ids: 1,
        quoted_payload: false,
    };
    const QMTRECV: MessageFrame = MessageFrame {
        head: b"+QMTRECV:",
        blank: true,
        ids: 2,
        quoted_payload: true,
    };

    fn parse_header(buf: &[u8]) -> Result<RecvHeader<'_>, HeaderError> {
        let frame = if SUBRECV.starts(buf) { &SUBRECV } else { &RECV };
        super::parse_header(frame, buf)
    }

    #[test]
    fn quoted_payload_header() {
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
