//! The incoming-message URC. The manual documents none; docs/DIALECTS.md (UC8088 decision 1) sets the
//! default `+MQTTRECV:"<topic>",<len>,<payload>` and also accepts ESP-AT's
//! `+MQTTSUBRECV:<link id>,"<topic>",<len>,<payload>`. The payload is read by length, never by
//! line: it may hold CR, LF, commas, quotes and `\r\nOK\r\n`.

use super::types::MAX_TOPIC_LEN;
use crate::parse::RawField;

/// The prefixes of the incoming-message URCs.
pub(crate) const RECV: &[u8] = b"+MQTTRECV:";
pub(crate) const SUBRECV: &[u8] = b"+MQTTSUBRECV:";

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

/// The longest a header can be: prefix, link id, an escaped topic, quotes, length, commas.
const MAX_HEADER: usize = SUBRECV.len() + 4 + 2 * MAX_TOPIC_LEN + 2 + 8 + 3;
/// The most digits a payload length may have.
const MAX_LEN_DIGITS: usize = 6;

/// Reads an incoming-message header at the start of `buf`, which starts with [`RECV`] or
/// [`SUBRECV`] (or a prefix of one, which is [`HeaderError::Incomplete`]).
pub(crate) fn parse_header(buf: &[u8]) -> Result<RecvHeader<'_>, HeaderError> {
    let (mut at, link_id) = if buf.starts_with(RECV) {
        (RECV.len(), false)
    } else if buf.starts_with(SUBRECV) {
        (SUBRECV.len(), true)
    } else if RECV.starts_with(buf) || SUBRECV.starts_with(buf) {
        return Err(HeaderError::Incomplete);
    } else {
        return Err(HeaderError::Invalid);
    };
    if link_id {
        let digits = take_digits(&buf[at..], 2)?;
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
    debug_assert!(at <= MAX_HEADER);
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
    }
}
