//! `AT+MQTTCONNECT`, `AT+MQTTSTATE` and `AT+MQTTDISCONNECT`.

pub mod responses;
pub mod types;
pub(crate) mod urc;

use atat::atat_derive::AtatCmd;

use super::{NoResponse, fixed, nothing};
use responses::{Connected, State, parse_connected, parse_state};

/// `AT+MQTTCONNECT`: connects with the stored settings; answers `+MQTTCONNECT:<code>`.
///
/// The modem's own connect timeout is 5 s; the driver waits 5 s plus a 2 s margin.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+MQTTCONNECT", Connected, timeout_ms = 7000, parse = parse_connected)]
pub struct Connect;

fixed!(
    Connect,
    b"AT+MQTTCONNECT\r",
    info = b"+MQTTCONNECT",
    code = true,
    failure = crate::dialect::uc8088_failure
);

/// `AT+MQTTSTATE`: the only source of truth for the link (`+MQTTSTATE:<0|1>`).
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+MQTTSTATE", State, timeout_ms = 1000, parse = parse_state)]
pub struct GetState;

fixed!(GetState, b"AT+MQTTSTATE\r", info = b"+MQTTSTATE");

/// `AT+MQTTDISCONNECT`: closes the MQTT connection.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+MQTTDISCONNECT", NoResponse, parse = nothing, timeout_ms = 3000)]
pub struct Disconnect;

fixed!(
    Disconnect,
    b"AT+MQTTDISCONNECT\r",
    info = b"+MQTTDISCONNECT",
    code = true,
    failure = crate::dialect::uc8088_failure
);
