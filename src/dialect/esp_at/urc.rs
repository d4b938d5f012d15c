//! What ESP-AT says unasked: `+MQTTSUBRECV:0,"<topic>",<len>,<payload>` (read by length),
//! `+MQTTCONNECTED:0,…` and `+MQTTDISCONNECTED:0`, and the `ready` banner.

use crate::events::Event;
use crate::grammar::MessageFrame;
use crate::mqtt::ConnectionState;

/// `+MQTTSUBRECV:<link id>,"<topic>",<len>,<payload>`.
pub(crate) const FRAMES: [MessageFrame; 1] = [MessageFrame {
    head: b"+MQTTSUBRECV:",
    blank: false,
    ids: 1,
    quoted_payload: false,
    pieces: None,
}];

/// `+MQTTDISCONNECTED:<link id>` (link lost) and `+MQTTCONNECTED:<link id>,…` (link up).
pub(crate) fn session(line: &[u8]) -> Option<Event<'static>> {
    if line.starts_with(b"+MQTTDISCONNECTED:") {
        Some(Event::Disconnected)
    } else if line.starts_with(b"+MQTTCONNECTED:") {
        Some(Event::StateChanged(ConnectionState::Connected))
    } else {
        None
    }
}
