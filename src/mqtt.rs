//! The MQTT vocabulary every dialect shares: the connection settings, quality of service, the
//! link's state, and the checks every topic and filter passes before a byte is written.

use core::fmt;

use crate::encode::{Empty, Quoting, check_string};
use crate::error::{Error, Feature, Field, Invalid};
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

/// How the module secures the broker connection, for [`MqttModem::set_tls`](crate::MqttModem::set_tls)
/// (and [`Supervisor::with_tls`](crate::Supervisor::with_tls)): plain TCP ([`Tls::off`]), TLS
/// verifying the broker with a root CA ([`Tls::root_ca`]), or, said so explicitly, TLS that
/// verifies nothing ([`Tls::unverified`]); then what the module presents and announces.
///
/// ```
/// # use mqtt_modem::Tls;
/// # const CA: &[u8] = b""; const CERT: &[u8] = b""; const KEY: &[u8] = b"";
/// // Verify the broker with this CA (PEM), and show it this certificate (PEM), proven with
/// // this key: every dialect.
/// let tls = Tls::root_ca(CA).client_cert(CERT, KEY);
/// // ESP-AT also takes a server name of its own and ALPN (AWS IoT Core on port 443).
/// let aws_443 = tls.server_name("xxxx-ats.iot.eu-west-1.amazonaws.com").alpn(&["x-amzn-mqtt-ca"]);
/// ```
///
/// Certificates and keys stream from these slices to the UART; the driver never copies them
/// whole. Where the module stores them and can say what it holds (ESP-AT's flash, Quectel's
/// file system), one it already holds with the same content is reused instead of written
/// again, unless [`Tls::upload_always`] asks otherwise; the UC8088 is given them at every
/// call. A module that cannot do a part refuses the whole setting with
/// [`Error::Unsupported`](crate::Error::Unsupported), naming the part, before a byte is
/// written. `Debug` shows only the lengths of the PEM texts, and nothing of the key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tls<'a> {
    pub(crate) enabled: bool,
    pub(crate) ca: Option<&'a [u8]>,
    pub(crate) client: Option<(&'a [u8], &'a [u8])>,
    pub(crate) server_name: Option<&'a str>,
    pub(crate) alpn: &'a [&'a str],
    pub(crate) upload_always: bool,
}

impl<'a> Tls<'a> {
    /// Plain TCP.
    pub const fn off() -> Self {
        Self {
            enabled: false,
            ca: None,
            client: None,
            server_name: None,
            alpn: &[],
            upload_always: false,
        }
    }

    /// TLS, verifying the broker's certificate with this root CA (PEM).
    pub const fn root_ca(pem: &'a [u8]) -> Self {
        Self {
            enabled: true,
            ca: Some(pem),
            ..Self::off()
        }
    }

    /// TLS that encrypts but does not verify the broker: anyone on the path can pretend to be
    /// it. For tests and closed networks only; refused by modules that always verify.
    pub const fn unverified() -> Self {
        Self {
            enabled: true,
            ..Self::off()
        }
    }

    /// Present this client certificate (PEM) to the broker, with its private key (PEM). The
    /// key never appears in logs or `Debug` output.
    #[must_use]
    pub const fn client_cert(mut self, cert: &'a [u8], key: &'a [u8]) -> Self {
        self.client = Some((cert, key));
        self
    }

    /// The server name the module sends in the TLS handshake (SNI), when it is not the host.
    #[must_use]
    pub const fn server_name(mut self, name: &'a str) -> Self {
        self.server_name = Some(name);
        self
    }

    /// The application protocols offered in the handshake (ALPN), e.g. `&["mqtt"]` (AWS IoT
    /// Core on port 443 needs `x-amzn-mqtt-ca`).
    #[must_use]
    pub const fn alpn(mut self, protocols: &'a [&'a str]) -> Self {
        self.alpn = protocols;
        self
    }

    /// Write the certificates and key to the module even when it already stores the same
    /// ones (by default, a module that can say what it holds is given them only when they
    /// are missing or different).
    #[must_use]
    pub const fn upload_always(mut self) -> Self {
        self.upload_always = true;
        self
    }

    /// Whether TLS is on.
    pub const fn is_on(&self) -> bool {
        self.enabled
    }
}

impl core::fmt::Debug for Tls<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if !self.enabled {
            return f.write_str("Tls::off");
        }
        f.debug_struct("Tls")
            .field("ca_len", &self.ca.map(<[u8]>::len))
            .field("cert_len", &self.client.map(|(c, _)| c.len()))
            .field("key", &self.client.map(|(_, k)| Redacted(k.len())))
            .field("server_name", &self.server_name)
            .field("alpn", &self.alpn)
            .field("upload_always", &self.upload_always)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Tls<'_> {
    fn format(&self, f: defmt::Formatter) {
        if !self.enabled {
            return defmt::write!(f, "Tls::off");
        }
        defmt::write!(
            f,
            "Tls {{ ca_len: {}, cert_len: {}, key: {}, server_name: {}, alpn: {}, upload_always: {} }}",
            self.ca.map(<[u8]>::len),
            self.client.map(|(c, _)| c.len()),
            self.client.map(|(_, k)| Redacted(k.len())),
            self.server_name,
            self.alpn,
            self.upload_always
        );
    }
}

/// What a module's TLS offers beyond the root CA and the client certificate, which every
/// dialect takes; [`check_tls`] refuses a setting that asks for more.
pub(crate) struct TlsOffer {
    /// TLS without verifying the broker.
    pub unverified: bool,
    /// A server name (SNI) of its own.
    pub server_name: bool,
    /// How many ALPN protocols it takes (0: no ALPN).
    pub alpn: usize,
    /// The longest certificate or key it stores.
    pub max_pem: usize,
}

/// Checks a TLS setting against what the module offers, before a byte is written: the parts it
/// lacks are refused by name, certificates and keys must hold something and fit.
pub(crate) fn check_tls(tls: &Tls<'_>, offer: &TlsOffer) -> Result<(), Error> {
    if !tls.enabled {
        // A part given with TLS off would be dropped without a word.
        let given = [
            (tls.client.is_some(), Field::Certificate),
            (tls.server_name.is_some(), Field::ServerName),
            (!tls.alpn.is_empty(), Field::Alpn),
        ];
        return match given.into_iter().find(|(set, _)| *set) {
            Some((_, field)) => Err(Error::invalid(field, Invalid::TlsOff)),
            None => Ok(()),
        };
    }
    let lacks = |missing: bool, feature| {
        if missing {
            Err(Error::Unsupported(feature))
        } else {
            Ok(())
        }
    };
    lacks(
        tls.ca.is_none() && !offer.unverified,
        Feature::UnverifiedTls,
    )?;
    lacks(
        tls.server_name.is_some() && !offer.server_name,
        Feature::ServerName,
    )?;
    lacks(!tls.alpn.is_empty() && offer.alpn == 0, Feature::Alpn)?;
    if tls.alpn.len() > offer.alpn {
        return Err(Error::invalid(Field::Alpn, Invalid::OutOfRange));
    }
    let (cert, key) = tls.client.unzip();
    for pem in [tls.ca, cert, key].into_iter().flatten() {
        if pem.is_empty() {
            return Err(Error::invalid(Field::Certificate, Invalid::Empty));
        }
        if pem.len() > offer.max_pem {
            return Err(Error::invalid(
                Field::Certificate,
                Invalid::TooLong { max: offer.max_pem },
            ));
        }
    }
    Ok(())
}

/// The 32-bit FNV-1a hash of `bytes`: how the driver recognises a certificate it stored on the
/// module before (docs/DIALECTS.md).
pub(crate) fn fingerprint(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h: u32, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
