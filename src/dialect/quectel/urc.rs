//! What Quectel modules say unasked: `+QMTRECV: 0,<msgid>,"<topic>",<len>,"<payload>"` (with
//! `recv/mode` `0,1`: read by length between the quotes), `+QMTSTAT: 0,<err>` (link lost), and
//! the `RDY` banner.

use crate::events::Event;
use crate::grammar::MessageFrame;

/// `+QMTRECV: <client>,<msgid>,"<topic>",<len>,"<payload>"`.
pub(crate) const FRAMES: [MessageFrame; 1] = [MessageFrame {
    head: b"+QMTRECV:",
    blank: true,
    ids: 2,
    quoted_payload: true,
    pieces: None,
}];

/// `+QMTSTAT: <client>,<err>`: the client closed the connection.
pub(crate) fn session(line: &[u8]) -> Option<Event<'static>> {
    line.starts_with(b"+QMTSTAT:")
        .then_some(Event::Disconnected)
}
