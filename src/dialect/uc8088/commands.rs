//! The UC8088's MQTT commands (its manual's MQTT chapter): `AT+MQTTCONFIG`, `AT+MQTTTLS`,
//! `AT+MQTTCONNECT`, `AT+MQTTSTATE`, `AT+MQTTDISCONNECT`, `AT+MQTTPUB`, `AT+MQTTSUB`,
//! `AT+MQTTUNSUB`, and their query and test forms.
//!
//! Commands whose text atat's derive writes byte for byte as the manual does (no string
//! parameters) are derived. Commands with strings are written through the crate's encoder,
//! because atat escapes `"` as `\22` where the manual wants `\"`, and so that big parameters
//! stream from the caller's slice.

use super::responses::{
    Connected, State, StoredConfig, Subscriptions, TlsStatus, parse_connected, parse_state,
    parse_stored_config, parse_subscriptions, parse_tls_status,
};
use super::types::{CertKind, MAX_CERT_LEN};
use crate::command::{
    Encode, ModemCommand, NoResponse, Syntax, Wire, command, nothing, parse_syntax,
};
use crate::encode::{CertEncoding, Empty, Line, Param, Quoting, check_string, string_param};
use crate::error::{Error, Field, Invalid};
use crate::fmt::Redacted;
use crate::mqtt::{
    Config, MAX_CLIENT_ID_LEN, MAX_CREDENTIAL_LEN, MAX_HOST_LEN, MAX_PAYLOAD_LEN, MqttVersion, Qos,
    check_filter, check_topic,
};

/// `AT+MQTTCONFIG=<host>,<port>,<client id>,<clean>,<keepalive>,<user>,<password>`.
///
/// Strings are quoted and escaped by default; in [`Quoting::Unquoted`] mode they go bare, as
/// in the manual's OneNET example, and a field holding `,` or `"` is refused.
#[derive(Debug, Clone)]
pub struct SetConfig<'a> {
    config: Config<'a>,
}

impl<'a> SetConfig<'a> {
    /// Validates every field; nothing is written for a refused config.
    pub fn new(config: &Config<'a>) -> Result<Self, Error> {
        if config.will.is_some() {
            return Err(Error::Unsupported(crate::error::Feature::LastWill));
        }
        if config.version != MqttVersion::V3_1_1 {
            return Err(Error::Unsupported(crate::error::Feature::Mqtt31));
        }
        check_string(
            Field::Host,
            config.host.as_bytes(),
            MAX_HOST_LEN,
            Empty::Refused,
            config.quoting,
        )?;
        if config.port == 0 {
            return Err(Error::invalid(Field::Port, Invalid::OutOfRange));
        }
        check_string(
            Field::ClientId,
            config.client_id.as_bytes(),
            MAX_CLIENT_ID_LEN,
            Empty::Refused,
            config.quoting,
        )?;
        if config.keepalive_s == 0 {
            return Err(Error::invalid(Field::Keepalive, Invalid::OutOfRange));
        }
        check_string(
            Field::Username,
            config.username.as_bytes(),
            MAX_CREDENTIAL_LEN,
            Empty::Allowed,
            config.quoting,
        )?;
        check_string(
            Field::Password,
            config.password.as_bytes(),
            MAX_CREDENTIAL_LEN,
            Empty::Allowed,
            config.quoting,
        )?;
        Ok(Self { config: *config })
    }

    fn params(&self) -> [Param<'a>; 7] {
        let c = &self.config;
        let quoting = c.quoting;
        [
            string_param(c.host.as_bytes(), quoting),
            Param::Int(u32::from(c.port)),
            string_param(c.client_id.as_bytes(), quoting),
            Param::Int(u32::from(c.clean_session)),
            Param::Int(u32::from(c.keepalive_s)),
            string_param(c.username.as_bytes(), quoting),
            string_param(c.password.as_bytes(), quoting),
        ]
    }
}

impl Encode for SetConfig<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &self.params())
    }
}

command!(
    encoded SetConfig<'a>,
    at = "+MQTTCONFIG",
    answer = NoResponse,
    parse = nothing,
    code = true,
    failure = super::types::failure,
    timeout_ms = 2000,
);

command!(
    /// `AT+MQTTCONFIG?`: reads the stored settings.
    derived struct GetConfig;
    at = "+MQTTCONFIG?",
    answer = StoredConfig,
    parse = |resp| parse_stored_config(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTCONFIG",
    timeout_ms = 1000,
);

command!(
    /// `AT+MQTTCONFIG=?`: the modem's syntax for `AT+MQTTCONFIG`.
    derived struct TestConfig;
    at = "+MQTTCONFIG=?",
    answer = Syntax,
    parse = |resp| parse_syntax(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTCONFIG",
    timeout_ms = 1000,
);

/// `AT+MQTTTLS=<tls>,<type>,"<content>",<size>`: uploads one credential and switches TLS on,
/// or (with [`SetTls::off`]) switches it off as `AT+MQTTTLS=0,0,"",0`.
///
/// The content streams from the caller's slice. Its line breaks are encoded per
/// [`CertEncoding`]; `<size>` is the length as given (escaped newlines) or as sent (stripped).
/// `Debug` shows the content's length only: it may be a private key.
#[derive(Clone)]
pub struct SetTls<'a> {
    enabled: bool,
    kind: CertKind,
    content: &'a [u8],
    encoding: CertEncoding,
}

impl core::fmt::Debug for SetTls<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SetTls")
            .field("enabled", &self.enabled)
            .field("kind", &self.kind)
            .field("content", &Redacted(self.content.len()))
            .field("encoding", &self.encoding)
            .finish()
    }
}

impl<'a> SetTls<'a> {
    /// TLS on, uploading `content` (PEM text, at most 1536 bytes, no NUL).
    pub fn upload(
        kind: CertKind,
        content: &'a [u8],
        encoding: CertEncoding,
    ) -> Result<Self, Error> {
        if content.is_empty() {
            return Err(Error::invalid(Field::Certificate, Invalid::Empty));
        }
        if content.len() > MAX_CERT_LEN {
            return Err(Error::invalid(
                Field::Certificate,
                Invalid::TooLong { max: MAX_CERT_LEN },
            ));
        }
        // CR and LF are encoded, never sent raw; NUL has no encoding.
        if content.contains(&0) {
            return Err(Error::invalid(Field::Certificate, Invalid::LineBreakOrNul));
        }
        let cmd = Self {
            enabled: true,
            kind,
            content,
            encoding,
        };
        // Only line breaks, stripped, would go out as `""`: the form that clears a slot.
        if cmd.size() == 0 {
            return Err(Error::invalid(Field::Certificate, Invalid::Empty));
        }
        Ok(cmd)
    }

    /// TLS off (plain TCP).
    pub fn off() -> Self {
        Self {
            enabled: false,
            kind: CertKind::RootCa,
            content: b"",
            encoding: CertEncoding::EscapedNewlines,
        }
    }

    /// The `<size>` field.
    fn size(&self) -> usize {
        match self.encoding {
            CertEncoding::EscapedNewlines => self.content.len(),
            CertEncoding::StrippedNewlines => self
                .content
                .iter()
                .filter(|&&b| b != b'\r' && b != b'\n')
                .count(),
        }
    }

    fn params(&self) -> [Param<'a>; 4] {
        [
            Param::Int(u32::from(self.enabled)),
            Param::Int(self.kind as u32),
            Param::Cert(self.content, self.encoding),
            // Bounded by MAX_CERT_LEN, so it fits u32.
            Param::Int(self.size() as u32),
        ]
    }
}

impl Encode for SetTls<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &self.params())
    }
}

command!(
    encoded SetTls<'a>,
    at = "+MQTTTLS",
    answer = NoResponse,
    parse = nothing,
    code = true,
    failure = super::types::failure,
    timeout_ms = 5000,
);

command!(
    /// `AT+MQTTTLS?`: reads whether TLS is on.
    derived struct GetTls;
    at = "+MQTTTLS?",
    answer = TlsStatus,
    parse = |resp| parse_tls_status(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTTLS",
    timeout_ms = 1000,
);

command!(
    /// `AT+MQTTTLS=?`: the modem's syntax for `AT+MQTTTLS`.
    derived struct TestTls;
    at = "+MQTTTLS=?",
    answer = Syntax,
    parse = |resp| parse_syntax(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTTLS",
    timeout_ms = 1000,
);

command!(
    /// `AT+MQTTCONNECT`: connects with the stored settings; answers `+MQTTCONNECT:<code>`.
    ///
    /// The modem's own connect timeout is 5 s; the driver waits 5 s plus a 2 s margin.
    derived struct Connect;
    at = "+MQTTCONNECT",
    answer = Connected,
    parse = |resp| parse_connected(resp, <Self as ModemCommand>::INFO_PREFIX),
    code = true,
    failure = super::types::failure,
    timeout_ms = 7000,
);

command!(
    /// `AT+MQTTSTATE`: the only source of truth for the link (`+MQTTSTATE:<0|1>`).
    derived struct GetState;
    at = "+MQTTSTATE",
    answer = State,
    parse = |resp| parse_state(resp, <Self as ModemCommand>::INFO_PREFIX),
    timeout_ms = 1000,
);

command!(
    /// `AT+MQTTDISCONNECT`: closes the MQTT connection.
    derived struct Disconnect;
    at = "+MQTTDISCONNECT",
    answer = NoResponse,
    parse = nothing,
    code = true,
    failure = super::types::failure,
    timeout_ms = 3000,
);

/// `AT+MQTTPUB="<topic>",<qos>,<retain>,"<message>"`, topic and message quoted with `\"` and
/// `\\` escapes, as in the manual's `{\"id\":123}` example.
///
/// The payload streams from the caller's slice to the UART. It may hold any byte but CR, LF
/// and NUL (which could end the line): those are refused before a byte is written.
#[derive(Debug, Clone)]
pub struct Publish<'a> {
    topic: &'a str,
    payload: &'a [u8],
    qos: Qos,
    retain: bool,
}

impl<'a> Publish<'a> {
    /// Validates the topic (non-empty, no wildcards) and the payload.
    pub fn new(topic: &'a str, payload: &'a [u8], qos: Qos, retain: bool) -> Result<Self, Error> {
        check_topic(topic)?;
        check_string(
            Field::Payload,
            payload,
            MAX_PAYLOAD_LEN,
            Empty::Allowed,
            Quoting::Quoted,
        )?;
        Ok(Self {
            topic,
            payload,
            qos,
            retain,
        })
    }

    /// Bytes this command takes on the wire, CR included.
    pub fn encoded_len(&self) -> usize {
        self.line().encoded_len()
    }

    fn params(&self) -> [Param<'a>; 4] {
        [
            Param::Quoted(self.topic.as_bytes()),
            Param::Int(self.qos as u32),
            Param::Int(u32::from(self.retain)),
            Param::Quoted(self.payload),
        ]
    }
}

impl Encode for Publish<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &self.params())
    }
}

command!(
    encoded Publish<'a>,
    at = "+MQTTPUB",
    answer = NoResponse,
    parse = nothing,
    code = true,
    failure = super::types::failure,
    timeout_ms = 10000,
);

command!(
    /// `AT+MQTTPUB=?`: the modem's syntax for `AT+MQTTPUB` (note the manual's `;`).
    derived struct TestPublish;
    at = "+MQTTPUB=?",
    answer = Syntax,
    parse = |resp| parse_syntax(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTPUB",
    timeout_ms = 1000,
);

/// `AT+MQTTSUB="<filter>",<qos>` (manual example: `AT+MQTTSUB="topic1",1`).
#[derive(Debug, Clone)]
pub struct Subscribe<'a> {
    filter: &'a str,
    qos: Qos,
}

impl<'a> Subscribe<'a> {
    /// Validates the filter: wildcards only where MQTT allows them.
    pub fn new(filter: &'a str, qos: Qos) -> Result<Self, Error> {
        check_filter(filter)?;
        Ok(Self { filter, qos })
    }

    fn params(&self) -> [Param<'a>; 2] {
        [
            Param::Quoted(self.filter.as_bytes()),
            Param::Int(self.qos as u32),
        ]
    }
}

impl Encode for Subscribe<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &self.params())
    }
}

command!(
    encoded Subscribe<'a>,
    at = "+MQTTSUB",
    answer = NoResponse,
    parse = nothing,
    code = true,
    failure = super::types::failure,
    timeout_ms = 7000,
);

/// `AT+MQTTUNSUB="<filter>"`.
#[derive(Debug, Clone)]
pub struct Unsubscribe<'a> {
    filter: &'a str,
}

impl<'a> Unsubscribe<'a> {
    /// Validates the filter as [`Subscribe::new`] does.
    pub fn new(filter: &'a str) -> Result<Self, Error> {
        check_filter(filter)?;
        Ok(Self { filter })
    }

    fn params(&self) -> [Param<'a>; 1] {
        [Param::Quoted(self.filter.as_bytes())]
    }
}

impl Encode for Unsubscribe<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &self.params())
    }
}

command!(
    encoded Unsubscribe<'a>,
    at = "+MQTTUNSUB",
    answer = NoResponse,
    parse = nothing,
    code = true,
    failure = super::types::failure,
    timeout_ms = 7000,
);

/// `AT+MQTTSUB?`: the current subscriptions, one `+MQTTSUB:<topic>,<qos>` line each; at most
/// `N` of them with filters of at most `T` bytes, else a parse error.
///
/// The one command written without `command!`: its answer's capacity is a type parameter, which
/// neither atat's derive nor the macro take. Its head is still written once, below.
#[derive(Debug, Clone, Default)]
pub struct GetSubscriptions<const N: usize, const T: usize>;

impl<const N: usize, const T: usize> GetSubscriptions<N, T> {
    /// The line, terminator included.
    const LINE: &'static [u8] = b"AT+MQTTSUB?\r";
}

impl<const N: usize, const T: usize> atat::AtatCmd for GetSubscriptions<N, T> {
    type Response = Subscriptions<N, T>;
    const MAX_TIMEOUT_MS: u32 = 1000;

    fn write(&self, buf: &mut [u8]) -> usize {
        match buf.get_mut(..Self::LINE.len()) {
            Some(dst) => {
                dst.copy_from_slice(Self::LINE);
                Self::LINE.len()
            }
            None => 0,
        }
    }

    fn parse(
        &self,
        resp: Result<&[u8], atat::InternalError>,
    ) -> Result<Self::Response, atat::Error> {
        parse_subscriptions(
            resp.map_err(atat::Error::from)?,
            <Self as ModemCommand>::INFO_PREFIX,
        )
    }
}

impl<const N: usize, const T: usize> ModemCommand for GetSubscriptions<N, T> {
    // The line's head without `AT` and `?`.
    const INFO_PREFIX: &'static [u8] = Self::LINE.split_at(2).1.split_at(8).0;

    fn wire(&self) -> Wire<'_> {
        Wire::fixed_static(Self::LINE)
    }
}

command!(
    /// `AT+MQTTSUB=?`: the modem's syntax for `AT+MQTTSUB`.
    derived struct TestSubscribe;
    at = "+MQTTSUB=?",
    answer = Syntax,
    parse = |resp| parse_syntax(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTSUB",
    timeout_ms = 1000,
);
