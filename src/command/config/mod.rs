//! `AT+MQTTCONFIG`: broker address, client identity, session and credentials.

pub mod responses;
pub mod types;

use atat::atat_derive::AtatCmd;

use super::{fixed, hand_encoded};
use crate::encode::{Param, check_string, string_param};
use crate::error::{Error, Field, Invalid};
use responses::{StoredConfig, parse_stored_config};
use types::{Config, MAX_CLIENT_ID_LEN, MAX_CREDENTIAL_LEN, MAX_HOST_LEN, Quoting};

/// `AT+MQTTCONFIG=<host>,<port>,<client id>,<clean>,<keepalive>,<user>,<password>`.
///
/// Strings are quoted and escaped by default; in [`Quoting::Unquoted`] mode they go bare, as
/// in the manual's OneNET example, and a field holding `,` or `"` is refused.
#[derive(Debug, Clone)]
pub struct SetConfig<'a> {
    config: Config<'a>,
}

impl<'a> SetConfig<'a> {
    const LINE_PREFIX: &'static [u8] = b"AT+MQTTCONFIG=";

    /// Validates every field; nothing is written for a refused config.
    pub fn new(config: &Config<'a>) -> Result<Self, Error> {
        if config.will.is_some() {
            return Err(Error::Unsupported(crate::error::Feature::LastWill));
        }
        if config.version != types::MqttVersion::V3_1_1 {
            return Err(Error::Unsupported(crate::error::Feature::Mqtt31));
        }
        let quoted = config.quoting == Quoting::Quoted;
        check_string(
            Field::Host,
            config.host.as_bytes(),
            MAX_HOST_LEN,
            false,
            quoted,
        )?;
        if config.port == 0 {
            return Err(Error::invalid(Field::Port, Invalid::OutOfRange));
        }
        check_string(
            Field::ClientId,
            config.client_id.as_bytes(),
            MAX_CLIENT_ID_LEN,
            false,
            quoted,
        )?;
        if config.keepalive_s == 0 {
            return Err(Error::invalid(Field::Keepalive, Invalid::OutOfRange));
        }
        check_string(
            Field::Username,
            config.username.as_bytes(),
            MAX_CREDENTIAL_LEN,
            true,
            quoted,
        )?;
        check_string(
            Field::Password,
            config.password.as_bytes(),
            MAX_CREDENTIAL_LEN,
            true,
            quoted,
        )?;
        Ok(Self { config: *config })
    }

    fn params(&self) -> [Param<'a>; 7] {
        let c = &self.config;
        let quoted = c.quoting == Quoting::Quoted;
        [
            string_param(c.host.as_bytes(), quoted),
            Param::Int(u32::from(c.port)),
            string_param(c.client_id.as_bytes(), quoted),
            Param::Int(u32::from(c.clean_session)),
            Param::Int(u32::from(c.keepalive_s)),
            string_param(c.username.as_bytes(), quoted),
            string_param(c.password.as_bytes(), quoted),
        ]
    }
}

hand_encoded!(SetConfig, b"+MQTTCONFIG", code = true, timeout_ms = 2000);

/// `AT+MQTTCONFIG?`: reads the stored settings.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+MQTTCONFIG?", StoredConfig, timeout_ms = 1000, parse = parse_stored_config)]
pub struct GetConfig;

fixed!(GetConfig, b"AT+MQTTCONFIG?\r", info = b"+MQTTCONFIG");

super::test_form!(
    /// `AT+MQTTCONFIG=?`: the modem's syntax for `AT+MQTTCONFIG`.
    TestConfig,
    "+MQTTCONFIG=?",
    b"AT+MQTTCONFIG=?\r",
    b"+MQTTCONFIG"
);
