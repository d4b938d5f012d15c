//! What ESP-AT's commands answer.

use atat::AtatResp;

use crate::parse::{RawField, fields, info_line};

/// `+MQTTCONN:<link id>,<state>,…`: states 4, 5 and 6 are connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnStatus {
    /// 0 not initialised, 1 user config set, 2 connection config set, 3 disconnected,
    /// 4 connected, 5 connected with no subscription, 6 connected with subscriptions.
    pub state: u8,
}

impl AtatResp for ConnStatus {}

impl ConnStatus {
    /// Whether the link is up.
    pub fn connected(self) -> bool {
        (4..=6).contains(&self.state)
    }
}

/// Reads `+MQTTCONN:0,<state>,…`.
pub(crate) fn parse_conn_status(resp: &[u8], prefix: &[u8]) -> Result<ConnStatus, atat::Error> {
    // No line: no client set up yet, which the driver reads as state 0 (docs/DIALECTS.md).
    let Some(line) = info_line(resp, prefix) else {
        return Ok(ConnStatus { state: 0 });
    };
    let mut f = fields(line);
    let _link = f.next();
    let state = f
        .next()
        .flatten()
        .and_then(RawField::number)
        .and_then(|n| u8::try_from(n).ok())
        .ok_or(atat::Error::Parse)?;
    Ok(ConnStatus { state })
}

/// `+MQTTPUB:OK` or `+MQTTPUB:FAIL` after a raw publish's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PubOutcome {
    /// `OK`: the message went out (and was acknowledged, for QoS 1 and 2).
    pub ok: bool,
}

impl AtatResp for PubOutcome {}

/// Reads `+MQTTPUB:OK|FAIL`; anything else is a parse error.
pub(crate) fn parse_pub_outcome(resp: &[u8], prefix: &[u8]) -> Result<PubOutcome, atat::Error> {
    match info_line(resp, prefix) {
        Some(b"OK") => Ok(PubOutcome { ok: true }),
        Some(b"FAIL") => Ok(PubOutcome { ok: false }),
        _ => Err(atat::Error::Parse),
    }
}

/// The value of `+SYSMFG:"<namespace>","<key>",<type>,…,<value>`: its last field, when that is
/// a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MfgValue(pub Option<u32>);

impl AtatResp for MfgValue {}

/// Reads the last field of the `+SYSMFG:` line; none when there is no line or it is not a
/// number (the value is not stored, or not as the driver wrote it).
pub(crate) fn parse_mfg_value(resp: &[u8], prefix: &[u8]) -> MfgValue {
    let value = info_line(resp, prefix)
        .and_then(|line| line.rsplit(|&b| b == b',').next())
        .and_then(crate::parse::number);
    MfgValue(value)
}
