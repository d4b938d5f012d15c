//! The seam between the one driver (digester, runner, exchange engine, event queue, supervisor)
//! and each module's own AT command set.
//!
//! A dialect supplies a [`Grammar`] (how its unsolicited lines look: the incoming-message
//! frames, the session lines, the boot banners), and the commands of each API call.

pub(crate) mod frame;
pub(crate) mod uc8088;

pub use frame::MessageFrame;

use crate::command::session::types::ConnectionState;

/// How the runner recognises a dialect's unsolicited output.
#[derive(Debug)]
pub struct Grammar {
    /// The incoming-message URCs, read by length.
    pub messages: &'static [MessageFrame],
    /// Recognises an unsolicited session line (state change, link loss).
    pub session: fn(&[u8]) -> Option<SessionUrc>,
    /// Boot banners: the modem restarted and forgot its settings.
    pub banners: &'static [&'static [u8]],
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
}

/// An unsolicited session event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUrc {
    /// The link's state, reported unasked.
    State(ConnectionState),
    /// The link is gone.
    Disconnected,
}
