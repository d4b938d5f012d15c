//! Unsolicited session lines: the manual has no disconnect URC, so the driver also watches for
//! an unsolicited `+MQTTSTATE:<n>` and `+MQTTDISCONNECTED…` (docs/DIALECTS.md, UC8088 decision 2).

use super::types::ConnectionState;
use crate::dialect::SessionUrc;
use crate::parse::{after_prefix, number};

/// Recognises an unsolicited session line.
pub(crate) fn parse(line: &[u8]) -> Option<SessionUrc> {
    if line.starts_with(b"+MQTTDISCONNECTED") {
        return Some(SessionUrc::Disconnected);
    }
    after_prefix(line, b"+MQTTSTATE")
        .and_then(number)
        .and_then(ConnectionState::from_wire)
        .map(SessionUrc::State)
}
