//! UCchip's UC8088: the `AT+MQTT*` command set of `crate::command` (docs/DIALECTS.md, UC8088).

use super::Grammar;
use crate::command::publish::urc::FRAMES;
use crate::command::session::urc::parse as session;

/// What the UC8088 says unasked: `+MQTTRECV` (and ESP-AT's `+MQTTSUBRECV`) messages,
/// `+MQTTSTATE:<n>` / `+MQTTDISCONNECTED` lines, and the `RDY` boot banner.
pub(crate) static GRAMMAR: Grammar = Grammar {
    messages: &FRAMES,
    session,
    banners: &[b"RDY", b"READY", b"+READY"],
};
