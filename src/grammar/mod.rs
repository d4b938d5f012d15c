//! How the runner reads a module's unsolicited output: the grammar each dialect supplies (its
//! incoming-message frames, its session lines, its boot banners), read by the one digester.

pub(crate) mod frame;

pub use frame::{MessageFrame, Pieces};

use crate::events::Event;

/// How the runner recognises a dialect's unsolicited output.
#[derive(Debug)]
pub struct Grammar {
    /// The incoming-message URCs, read by length.
    pub messages: &'static [MessageFrame],
    /// Recognises an unsolicited session line (state change, link loss).
    pub session: fn(&[u8]) -> Option<Event<'static>>,
    /// Boot banners: the modem restarted and forgot its settings.
    pub banners: &'static [&'static [u8]],
    /// Whether a URC brings its own leading CRLF (`\r\n+MQTTRECV:…\r\n`, as V.25ter frames
    /// it); ESP-AT writes `+MQTTSUBRECV:…\r\n` straight after the previous line's end.
    pub urc_crlf: bool,
}

impl Grammar {
    /// The message frame whose head `rest` starts with (or is the start of).
    pub(crate) fn message_at(&self, rest: &[u8]) -> Option<&'static MessageFrame> {
        self.messages.iter().find(|f| f.starts(rest))
    }

    /// Whether `line` starts with a message head (a message whose framing broke).
    pub(crate) fn is_message_line(&self, line: &[u8]) -> bool {
        self.messages.iter().any(|f| line.starts_with(f.head))
    }

    /// Whether a message frame comes in [`Pieces`] (a constant of each dialect, which compiles
    /// their reading out where none does).
    pub(crate) const fn has_pieces(&self) -> bool {
        let mut i = 0;
        while i < self.messages.len() {
            if self.messages[i].pieces.is_some() {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The first message frame sent in [`Pieces`], if any.
    pub(crate) fn pieces(&self) -> Option<(&'static MessageFrame, &'static Pieces)> {
        self.messages
            .iter()
            .find_map(|f| f.pieces.as_ref().map(|p| (f, p)))
    }

    /// Whether `line` is a piece or the end of a [`Pieces`] message.
    pub(crate) fn is_piece_line(&self, line: &[u8]) -> bool {
        self.pieces().is_some_and(|(_, p)| {
            [p.topic, p.payload, p.end]
                .iter()
                .any(|h| line.starts_with(h))
        })
    }
}
