//! `AT+MQTTPUB`, and the incoming-message URC.

pub mod types;
pub(crate) mod urc;

use super::hand_encoded;
use crate::encode::{Param, check_string};
use crate::error::{Error, Field, Invalid};
use types::{MAX_PAYLOAD_LEN, MAX_TOPIC_LEN, Qos};

/// `AT+MQTTPUB="<topic>",<qos>,<retain>,"<message>"`, topic and message quoted with `\"` and
/// `\\` escapes, as in the manual's `{\"id\":123}` example.
///
/// The payload streams from the caller's slice to the UART. It may hold any byte but CR, LF
/// and NUL (which could end the line): those are refused before a byte is written.
#[derive(Debug, Clone)]
pub struct Publish<'a> {
    topic: &'a str,
    payload: &'a [u8],
    qos: Qos,
    retain: bool,
}

impl<'a> Publish<'a> {
    const LINE_PREFIX: &'static [u8] = b"AT+MQTTPUB=";

    /// Validates the topic (non-empty, no wildcards) and the payload.
    pub fn new(topic: &'a str, payload: &'a [u8], qos: Qos, retain: bool) -> Result<Self, Error> {
        check_topic(topic)?;
        check_string(Field::Payload, payload, MAX_PAYLOAD_LEN, true, true)?;
        Ok(Self {
            topic,
            payload,
            qos,
            retain,
        })
    }

    /// Bytes this command takes on the wire, CR included.
    pub fn encoded_len(&self) -> usize {
        self.line().encoded_len()
    }

    fn params(&self) -> [Param<'a>; 4] {
        [
            Param::Quoted(self.topic.as_bytes()),
            Param::Int(self.qos as u32),
            Param::Int(u32::from(self.retain)),
            Param::Quoted(self.payload),
        ]
    }
}

hand_encoded!(Publish, b"+MQTTPUB", code = true, timeout_ms = 10000);

/// A publish topic: non-empty, within length, no `+` or `#`, no CR/LF/NUL.
pub(crate) fn check_topic(topic: &str) -> Result<(), Error> {
    check_string(Field::Topic, topic.as_bytes(), MAX_TOPIC_LEN, false, true)?;
    if memchr::memchr2(b'+', b'#', topic.as_bytes()).is_some() {
        return Err(Error::invalid(Field::Topic, Invalid::Wildcard));
    }
    Ok(())
}

super::test_form!(
    /// `AT+MQTTPUB=?`: the modem's syntax for `AT+MQTTPUB` (note the manual's `;`).
    TestPublish,
    "+MQTTPUB=?",
    b"AT+MQTTPUB=?\r",
    b"+MQTTPUB"
);
