//! What the UC8088's MQTT commands answer.

use core::fmt;

use atat::AtatResp;
use heapless::{String, Vec};

use super::types::state;
use crate::mqtt::{
    Config, ConnectionState, MAX_CLIENT_ID_LEN, MAX_CREDENTIAL_LEN, MAX_HOST_LEN, Qos,
};
use crate::parse::{RawField, after_prefix, fields, info_line, info_number, lines};

/// `+MQTTCONFIG:<host>,<port>,<client id>,<clean>,<keepalive>,<user>,<password>`, as the modem
/// stores it. The modem echoes the fields bare; the password is taken as everything after the
/// sixth comma, so a password holding commas still reads back whole. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredConfig {
    /// Broker host.
    pub host: String<MAX_HOST_LEN>,
    /// Broker port.
    pub port: u16,
    /// Client identifier.
    pub client_id: String<MAX_CLIENT_ID_LEN>,
    /// Clean session flag.
    pub clean_session: bool,
    /// Keepalive in seconds.
    pub keepalive_s: u16,
    /// User name.
    pub username: String<MAX_CREDENTIAL_LEN>,
    /// Password, as stored in the modem.
    pub password: String<MAX_CREDENTIAL_LEN>,
}

impl AtatResp for StoredConfig {}

impl StoredConfig {
    /// The stored settings as a [`Config`], e.g. to apply them again after a restart.
    pub fn as_config(&self) -> Config<'_> {
        Config::new(&self.host, self.port, &self.client_id)
            .clean_session(self.clean_session)
            .keepalive(self.keepalive_s)
            .credentials(&self.username, &self.password)
    }
}

/// Shows the fields as [`Config`]'s `Debug` does, password redacted.
impl fmt::Debug for StoredConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stored{:?}", self.as_config())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for StoredConfig {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "Stored{}", self.as_config());
    }
}

pub(crate) fn parse_stored_config(resp: &[u8], prefix: &[u8]) -> Result<StoredConfig, atat::Error> {
    let text = info_line(resp, prefix).ok_or(atat::Error::Parse)?;
    let mut f = fields(text);
    let mut next = || f.next().flatten().ok_or(atat::Error::Parse);
    let host = next()?.to_string().ok_or(atat::Error::Parse)?;
    let port = small(next()?)?;
    let client_id = next()?.to_string().ok_or(atat::Error::Parse)?;
    let clean_session = match next()?.number() {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(atat::Error::Parse),
    };
    let keepalive_s = small(next()?)?;
    let username = next()?.to_string().ok_or(atat::Error::Parse)?;
    let tail = f.remainder().unwrap_or(b"");
    // A quoted password is unescaped; a bare one is taken whole, commas included.
    let password = match fields(tail).next().flatten() {
        Some(q @ RawField::Quoted(_)) if tail.ends_with(b"\"") => q,
        _ => RawField::Bare(tail),
    }
    .to_string()
    .ok_or(atat::Error::Parse)?;
    Ok(StoredConfig {
        host,
        port,
        client_id,
        clean_session,
        keepalive_s,
        username,
        password,
    })
}

fn small(field: RawField<'_>) -> Result<u16, atat::Error> {
    field
        .number()
        .and_then(|n| u16::try_from(n).ok())
        .ok_or(atat::Error::Parse)
}

/// `+MQTTTLS:<tls>`. The manual's table claims more fields; its example shows only this one,
/// and any further fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TlsStatus {
    /// 0 = plain TCP, 1 = TLS.
    pub tls: u8,
}

impl AtatResp for TlsStatus {}

pub(crate) fn parse_tls_status(resp: &[u8], prefix: &[u8]) -> Result<TlsStatus, atat::Error> {
    info_line(resp, prefix)
        .and_then(|text| fields(text).next().flatten())
        .and_then(crate::parse::RawField::number)
        .and_then(|n| u8::try_from(n).ok())
        .map(|tls| TlsStatus { tls })
        .ok_or(atat::Error::Parse)
}

impl TlsStatus {
    /// Whether TLS is on.
    pub fn enabled(&self) -> bool {
        self.tls == 1
    }
}

/// `+MQTTCONNECT:<code>`; the driver turns a non-zero code into an error before this is built,
/// so a value of this type always means "connected".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Connected;

impl AtatResp for Connected {}

pub(crate) fn parse_connected(resp: &[u8], prefix: &[u8]) -> Result<Connected, atat::Error> {
    match info_number(resp, prefix) {
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
pub(crate) fn parse_state(resp: &[u8], prefix: &[u8]) -> Result<State, atat::Error> {
    info_number(resp, prefix)
        .and_then(state)
        .map(|state| State { state })
        .ok_or(atat::Error::Parse)
}

/// One `+MQTTSUB:<topic>,<qos>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Subscription<const T: usize> {
    /// The topic filter.
    pub filter: String<T>,
    /// The granted QoS.
    pub qos: Qos,
}

/// Every subscription the modem reports, at most `N`, filters of at most `T` bytes.
pub type Subscriptions<const N: usize, const T: usize> = Vec<Subscription<T>, N>;

impl<const T: usize> AtatResp for Subscription<T> {}

pub(crate) fn parse_subscriptions<const N: usize, const T: usize>(
    resp: &[u8],
    prefix: &[u8],
) -> Result<Subscriptions<N, T>, atat::Error> {
    let mut out = Vec::new();
    for text in lines(resp).filter_map(|l| after_prefix(l, prefix)) {
        let mut f = fields(text);
        let filter = f
            .next()
            .flatten()
            .and_then(crate::parse::RawField::to_string)
            .ok_or(atat::Error::Parse)?;
        let qos = f
            .next()
            .flatten()
            .and_then(crate::parse::RawField::number)
            .and_then(Qos::from_wire)
            .ok_or(atat::Error::Parse)?;
        out.push(Subscription { filter, qos })
            .map_err(|_| atat::Error::Parse)?;
    }
    Ok(out)
}
