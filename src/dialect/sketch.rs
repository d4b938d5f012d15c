//! The grammars of the two dialects sketched in docs/DIALECTS.md ("SIMCom" and "u-blox"), as
//! tables the one digester reads: the seam's [`Pieces`] and pull patterns, tested and fuzzed
//! before a dialect uses them. Not dialects: no commands go with them.

use super::{Grammar, MessageFrame, Pieces, SessionUrc};
use crate::parse::number;

/// SIMCom's `AT+CMQTT*`: a message in pieces (`+CMQTTRXSTART: 0,<topic len>,<payload len>`,
/// `+CMQTTRXTOPIC`, `+CMQTTRXPAYLOAD`, `+CMQTTRXEND`), `+CMQTTCONNLOST` for a lost link.
pub static SIMCOM: Grammar = Grammar {
    messages: &[MessageFrame {
        head: b"+CMQTTRXSTART:",
        blank: true,
        ids: 1,
        quoted_payload: false,
        pieces: Some(Pieces {
            topic: b"+CMQTTRXTOPIC:",
            payload: b"+CMQTTRXPAYLOAD:",
            end: b"+CMQTTRXEND:",
        }),
    }],
    session: simcom_session,
    banners: &[],
    urc_crlf: true,
};

fn simcom_session(line: &[u8]) -> Option<SessionUrc> {
    line.starts_with(b"+CMQTTCONNLOST:")
        .then_some(SessionUrc::Disconnected)
}

/// u-blox's `AT+UMQTTC`: `+UUMQTTC: 6,<n>` announces held messages; `AT+UMQTTC=6,1` reads one
/// as `+UMQTTC: 6,<qos>,<topic and message length>,<topic length>,"<topic>",<len>,"<msg>"`;
/// `+UUMQTTC: 0,<reason>` is a lost link.
pub static UBLOX: Grammar = Grammar {
    messages: &[MessageFrame {
        head: b"+UMQTTC: 6,",
        blank: false,
        ids: 3,
        quoted_payload: true,
        pieces: None,
    }],
    session: ublox_session,
    banners: &[],
    urc_crlf: true,
};

fn ublox_session(line: &[u8]) -> Option<SessionUrc> {
    if let Some(n) = line.strip_prefix(b"+UUMQTTC: 6,") {
        return number(n)
            .and_then(|n| u16::try_from(n).ok())
            .map(SessionUrc::Waiting);
    }
    line.starts_with(b"+UUMQTTC: 0,")
        .then_some(SessionUrc::Disconnected)
}
