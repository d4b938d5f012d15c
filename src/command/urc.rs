//! The one URC enum: everything the modem may say unasked.

use super::session::types::ConnectionState;

/// An unsolicited result code, borrowed from the ingress buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urc<'a> {
    /// `+MQTTRECV:"<topic>",<len>,<payload>` or `+MQTTSUBRECV:<id>,"<topic>",<len>,<payload>`.
    Message {
        /// The topic as sent: escapes still in place when `quoted`.
        topic: &'a [u8],
        /// Whether the topic was quoted (and so may hold `\"` and `\\` escapes).
        quoted: bool,
        /// Exactly the announced number of payload bytes.
        payload: &'a [u8],
    },
    /// An unsolicited `+MQTTSTATE:<n>`.
    State(ConnectionState),
    /// A line starting with `+MQTTDISCONNECTED`.
    Disconnected,
    /// A boot banner (`RDY`, `READY`): the modem restarted and forgot its settings.
    Restarted,
    /// The modem holds this many incoming messages until they are read (pull dialects).
    Waiting(u16),
    /// Any other unsolicited line starting with `+`, passed on raw so that a user on real
    /// firmware sees what the firmware actually sends.
    Unrecognised(&'a [u8]),
}

impl Urc<'_> {
    /// Resolves a quoted topic's escapes into `out`; the topic as UTF-8, or `None` if it does not
    /// fit or is not UTF-8. For other URCs, `None`.
    pub fn topic_into<'b>(&self, out: &'b mut [u8]) -> Option<&'b str> {
        let Urc::Message { topic, quoted, .. } = *self else {
            return None;
        };
        let field = if quoted {
            crate::parse::RawField::Quoted(topic)
        } else {
            crate::parse::RawField::Bare(topic)
        };
        let n = field.unescape_into(out)?;
        core::str::from_utf8(&out[..n]).ok()
    }
}
