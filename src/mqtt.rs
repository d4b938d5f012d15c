//! The MQTT vocabulary every dialect shares: the connection settings, quality of service, the
//! link's state, and the checks every topic and filter passes before a byte is written.

use core::fmt;

use crate::encode::{Empty, Quoting, check_string};
use crate::error::{Error, Field, Invalid};
use crate::fmt::Redacted;

/// The longest topic accepted, in bytes (MQTT allows 65535; modem line buffers do not).
pub const MAX_TOPIC_LEN: usize = 256;
/// The longest publish payload accepted, in bytes, in every dialect (before any escaping). A
/// module's firmware may take less; no manual read states a smaller limit.
pub const MAX_PAYLOAD_LEN: usize = 4096;

/// MQTT quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Qos {
    /// 0: at most once.
    #[default]
    AtMostOnce = 0,
    /// 1: at least once.
    AtLeastOnce = 1,
    /// 2: exactly once. Every dialect's manual lists it, but UC8088 firmware built on the AWS
    /// IoT MQTT library may refuse it (probably with code 3).
    ExactlyOnce = 2,
}

impl Qos {
    /// The QoS for a wire value 0–2.
    pub const fn from_wire(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            2 => Some(Self::ExactlyOnce),
            _ => None,
        }
    }
}

impl TryFrom<u8> for Qos {
    type Error = crate::Error;

    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Self::from_wire(u32::from(v)).ok_or(crate::Error::InvalidInput {
            field: crate::Field::Qos,
            reason: crate::Invalid::OutOfRange,
        })
    }
}

/// The longest host name accepted (a DNS name is at most 253 bytes).
pub const MAX_HOST_LEN: usize = 253;
/// The longest client identifier accepted. MQTT 3.1.1 obliges brokers to accept 23 bytes and
/// allows more; cloud brokers use longer ones, so the driver allows up to this.
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// The longest user name or password accepted (OneNET-style signed passwords are ~150 bytes).
pub const MAX_CREDENTIAL_LEN: usize = 256;

/// The broker to connect to and how: address, identity, credentials, session, keepalive, last
/// will. Build with [`Config::new`] and the chained setters; each dialect refuses, before a
/// byte is written, what its module cannot take.
///
/// `Debug` never shows the password.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Config<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) client_id: &'a str,
    pub(crate) clean_session: bool,
    pub(crate) keepalive_s: u16,
    pub(crate) username: &'a str,
    pub(crate) password: &'a str,
    pub(crate) quoting: Quoting,
    pub(crate) will: Option<Will<'a>>,
    pub(crate) version: MqttVersion,
}

/// The MQTT protocol version the module speaks to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MqttVersion {
    /// MQTT 3.1 (protocol name `MQIsdp`): Quectel only.
    V3_1,
    /// MQTT 3.1.1: every dialect.
    #[default]
    V3_1_1,
}

/// A last will: what the broker publishes for the client when its connection dies without a
/// DISCONNECT. Dialects without one (the UC8088) refuse a config that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Will<'a> {
    /// The topic it is published on.
    pub topic: &'a str,
    /// The message.
    pub payload: &'a [u8],
    /// Its quality of service.
    pub qos: Qos,
    /// Whether the broker retains it.
    pub retain: bool,
}

impl<'a> Config<'a> {
    /// Broker `host` (IP or name), `port`, and the MQTT client identifier. Defaults: clean
    /// session, keepalive 60 s, no credentials, quoted strings.
    pub const fn new(host: &'a str, port: u16, client_id: &'a str) -> Self {
        Self {
            host,
            port,
            client_id,
            clean_session: true,
            keepalive_s: 60,
            username: "",
            password: "",
            quoting: Quoting::Quoted,
            will: None,
            version: MqttVersion::V3_1_1,
        }
    }

    /// The MQTT version (3.1.1 by default; 3.1 is Quectel's only, the others refuse it).
    #[must_use]
    pub const fn mqtt_version(mut self, version: MqttVersion) -> Self {
        self.version = version;
        self
    }

    /// A last will (ESP-AT and Quectel; the UC8088 has none and refuses it).
    #[must_use]
    pub const fn will(mut self, will: Will<'a>) -> Self {
        self.will = Some(will);
        self
    }

    /// `false` resumes the broker-side session (`<clean>` 0); `true` starts a new one.
    #[must_use]
    pub const fn clean_session(mut self, clean: bool) -> Self {
        self.clean_session = clean;
        self
    }

    /// Keepalive in seconds (1–65535).
    #[must_use]
    pub const fn keepalive(mut self, seconds: u16) -> Self {
        self.keepalive_s = seconds;
        self
    }

    /// User name and password.
    #[must_use]
    pub const fn credentials(mut self, username: &'a str, password: &'a str) -> Self {
        self.username = username;
        self.password = password;
        self
    }

    /// How strings go on the wire (UC8088 only; see [`Quoting`]).
    #[must_use]
    pub const fn quoting(mut self, quoting: Quoting) -> Self {
        self.quoting = quoting;
        self
    }

    /// The keepalive in seconds.
    pub const fn keepalive_secs(&self) -> u16 {
        self.keepalive_s
    }

    /// The broker host.
    pub const fn host(&self) -> &'a str {
        self.host
    }

    /// The broker port.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The client identifier.
    pub const fn client_id(&self) -> &'a str {
        self.client_id
    }
}

impl fmt::Debug for Config<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("clean_session", &self.clean_session)
            .field("keepalive_s", &self.keepalive_s)
            .field("username", &self.username)
            .field("password", &Redacted(self.password.len()))
            .field("quoting", &self.quoting)
            .field("will", &self.will)
            .field("version", &self.version)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Config<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(
            f,
            "Config {{ host: {=str}, port: {}, client_id: {=str}, clean_session: {}, keepalive_s: {}, username: {=str}, password: {} }}",
            self.host,
            self.port,
            self.client_id,
            self.clean_session,
            self.keepalive_s,
            self.username,
            Redacted(self.password.len())
        );
    }
}

/// A will a dialect can send in a quoted string: its topic as a publish topic of at most `max`
/// bytes, its message of at most `max` bytes, neither holding CR, LF or NUL.
pub(crate) fn check_will(will: &Will<'_>, max: usize) -> Result<(), crate::error::Error> {
    use crate::error::{Error, Field};
    check_topic(will.topic).map_err(|e| match e {
        Error::InvalidInput { reason, .. } => Error::invalid(Field::WillTopic, reason),
        other => other,
    })?;
    check_string(
        Field::WillTopic,
        will.topic.as_bytes(),
        max,
        Empty::Refused,
        Quoting::Quoted,
    )?;
    check_string(
        Field::WillMessage,
        will.payload,
        max,
        Empty::Allowed,
        Quoting::Quoted,
    )
}

/// Whether the module is connected to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConnectionState {
    /// 0: not connected (or the connection failed).
    Disconnected,
    /// 1: connected to the broker.
    Connected,
}

/// `connected` or `disconnected`.
impl core::fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Disconnected => "disconnected",
            Self::Connected => "connected",
        })
    }
}

/// A publish topic: non-empty, within length, no `+` or `#`, no CR/LF/NUL.
pub(crate) fn check_topic(topic: &str) -> Result<(), Error> {
    check_string(
        Field::Topic,
        topic.as_bytes(),
        MAX_TOPIC_LEN,
        Empty::Refused,
        Quoting::Quoted,
    )?;
    if crate::encode::find2(b'+', b'#', topic.as_bytes()).is_some() {
        return Err(Error::invalid(Field::Topic, Invalid::Wildcard));
    }
    Ok(())
}

/// A topic filter: non-empty, within length, no CR/LF/NUL; `+` only as a whole level, `#`
/// only as the whole last level.
pub(crate) fn check_filter(filter: &str) -> Result<(), Error> {
    check_string(
        Field::TopicFilter,
        filter.as_bytes(),
        MAX_TOPIC_LEN,
        Empty::Refused,
        Quoting::Quoted,
    )?;
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        let ok = match level {
            "+" => true,
            "#" => last,
            _ => !level.contains(['+', '#']),
        };
        if !ok {
            return Err(Error::invalid(
                Field::TopicFilter,
                Invalid::MisplacedWildcard,
            ));
        }
    }
    Ok(())
}

/// A TLS setting for [`MqttModem::set_tls`](crate::MqttModem::set_tls). `Debug` shows only the lengths of the PEM texts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tls<'a> {
    /// Plain TCP.
    Off,
    /// TLS on, with this root CA (PEM) to verify the broker.
    RootCa(&'a [u8]),
    /// TLS on, with this client certificate (PEM).
    ClientCert(&'a [u8]),
    /// TLS on, with this client private key (PEM). Never logged.
    ClientKey(&'a [u8]),
}

impl core::fmt::Debug for Tls<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
            Self::RootCa(p) => write!(f, "RootCa({} bytes)", p.len()),
            Self::ClientCert(p) => write!(f, "ClientCert({} bytes)", p.len()),
            Self::ClientKey(p) => write!(f, "ClientKey({:?})", Redacted(p.len())),
        }
    }
}

#[cfg(feature = "defmt")]
#[allow(clippy::match_same_arms)]
impl defmt::Format for Tls<'_> {
    fn format(&self, f: defmt::Formatter) {
        match self {
            Self::Off => defmt::write!(f, "Off"),
            Self::RootCa(p) => defmt::write!(f, "RootCa({} bytes)", p.len()),
            Self::ClientCert(p) => defmt::write!(f, "ClientCert({} bytes)", p.len()),
            Self::ClientKey(p) => defmt::write!(f, "ClientKey({})", Redacted(p.len())),
        }
    }
}
