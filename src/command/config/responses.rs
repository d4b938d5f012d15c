//! What `AT+MQTTCONFIG?` answers.

use core::fmt;

use atat::AtatResp;
use heapless::String;

use super::types::{Config, MAX_CLIENT_ID_LEN, MAX_CREDENTIAL_LEN, MAX_HOST_LEN};
use crate::parse::{RawField, after_prefix, fields, lines};

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

pub(crate) fn parse_stored_config(resp: &[u8]) -> Result<StoredConfig, atat::Error> {
    let text = lines(resp)
        .find_map(|l| after_prefix(l, b"+MQTTCONFIG"))
        .ok_or(atat::Error::Parse)?;
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
