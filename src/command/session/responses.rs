//! What the session commands answer.

use atat::AtatResp;

use super::types::ConnectionState;
use crate::parse::{after_prefix, lines, number};

/// `+MQTTCONNECT:<code>`; the driver turns a non-zero code into an error before this is built,
/// so a value of this type always means "connected".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Connected;

impl AtatResp for Connected {}

pub(crate) fn parse_connected(resp: &[u8]) -> Result<Connected, atat::Error> {
    match lines(resp)
        .find_map(|l| after_prefix(l, b"+MQTTCONNECT"))
        .and_then(number)
    {
        Some(0) => Ok(Connected),
        _ => Err(atat::Error::Parse),
    }
}

/// `+MQTTSTATE:<state>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct State {
    /// The connection state.
    pub state: ConnectionState,
}

impl AtatResp for State {}

/// The manual's STATE example shows a bare `OK`; a missing line is an error, not a state.
pub(crate) fn parse_state(resp: &[u8]) -> Result<State, atat::Error> {
    lines(resp)
        .find_map(|l| after_prefix(l, b"+MQTTSTATE"))
        .and_then(number)
        .and_then(ConnectionState::from_wire)
        .map(|state| State { state })
        .ok_or(atat::Error::Parse)
}
