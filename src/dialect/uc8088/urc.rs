//! What the UC8088 says unasked. Its manual documents no URC: docs/DIALECTS.md (UC8088
//! decisions 1 and 2) sets the incoming message `+MQTTRECV:"<topic>",<len>,<payload>`, read by
//! length (`grammar::frame`), and watches for an unsolicited `+MQTTSTATE:<n>` and
//! `+MQTTDISCONNECTED…`.

use super::types::state;
use crate::events::Event;
use crate::grammar::MessageFrame;
use crate::parse::{after_prefix, number};

/// `+MQTTRECV:"<topic>",<len>,<payload>`.
pub(crate) const FRAMES: [MessageFrame; 1] = [MessageFrame {
    head: b"+MQTTRECV:",
    blank: false,
    ids: 0,
    quoted_payload: false,
    pieces: None,
}];

/// Recognises an unsolicited session line.
pub(crate) fn session(line: &[u8]) -> Option<Event<'static>> {
    if line.starts_with(b"+MQTTDISCONNECTED") {
        return Some(Event::Disconnected);
    }
    after_prefix(line, b"+MQTTSTATE")
        .and_then(number)
        .and_then(state)
        .map(Event::StateChanged)
}
