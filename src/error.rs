//! The one error type of the driver, and the modem's MQTT result codes.

use core::fmt;

/// An MQTT result code the modem reports in an information line such as `+MQTTCONNECT:9`.
///
/// The values are those of the AWS IoT Device SDK's `IotMqttError_t`, which the UC8088
/// firmware embeds. Codes outside 1–11 are kept as [`MqttCode::Other`], never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MqttCode {
    /// 1: the operation was queued and its result is pending.
    Pending,
    /// 2: the MQTT library failed to initialise.
    InitFailed,
    /// 3: a parameter was invalid (real firmware also answers this to QoS 2).
    BadParameter,
    /// 4: the modem ran out of memory.
    NoMemory,
    /// 5: the network is unusable (host unreachable, TCP or TLS failure).
    NetworkError,
    /// 6: the operation could not be scheduled (send queue full).
    SchedulingError,
    /// 7: a malformed packet was received from the network.
    BadResponse,
    /// 8: a blocking operation timed out.
    Timeout,
    /// 9: the server refused the CONNECT or a subscription.
    ServerRefused,
    /// 10: a QoS 1 PUBLISH got no PUBACK within the retry limit.
    RetryNoResponse,
    /// 11: the MQTT library was used before it was initialised.
    NotInitialized,
    /// Any other non-zero code, preserved as the modem sent it.
    Other(u16),
}

impl MqttCode {
    /// Maps a non-zero wire value to its code; `0` (success) is not an error and gives `None`.
    pub const fn from_wire(value: u16) -> Option<Self> {
        Some(match value {
            0 => return None,
            1 => Self::Pending,
            2 => Self::InitFailed,
            3 => Self::BadParameter,
            4 => Self::NoMemory,
            5 => Self::NetworkError,
            6 => Self::SchedulingError,
            7 => Self::BadResponse,
            8 => Self::Timeout,
            9 => Self::ServerRefused,
            10 => Self::RetryNoResponse,
            11 => Self::NotInitialized,
            other => Self::Other(other),
        })
    }

    /// The number the modem sent.
    pub const fn value(self) -> u16 {
        match self {
            Self::Pending => 1,
            Self::InitFailed => 2,
            Self::BadParameter => 3,
            Self::NoMemory => 4,
            Self::NetworkError => 5,
            Self::SchedulingError => 6,
            Self::BadResponse => 7,
            Self::Timeout => 8,
            Self::ServerRefused => 9,
            Self::RetryNoResponse => 10,
            Self::NotInitialized => 11,
            Self::Other(v) => v,
        }
    }

    /// A short human description, as a CLI would print it.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Pending => "operation pending",
            Self::InitFailed => "initialisation failed",
            Self::BadParameter => "invalid parameter",
            Self::NoMemory => "out of memory",
            Self::NetworkError => "network unusable",
            Self::SchedulingError => "could not be scheduled",
            Self::BadResponse => "malformed packet from the network",
            Self::Timeout => "operation timed out in the modem",
            Self::ServerRefused => "server refused",
            Self::RetryNoResponse => "no PUBACK within the retry limit",
            Self::NotInitialized => "MQTT library not initialised",
            Self::Other(_) => "unknown MQTT code",
        }
    }

    /// Whether this code is evidence of a lost link (codes 5, 8 and 10, per docs/DIALECTS.md).
    pub const fn means_link_lost(self) -> bool {
        matches!(
            self,
            Self::NetworkError | Self::Timeout | Self::RetryNoResponse
        )
    }
}

impl fmt::Display for MqttCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.description(), self.value())
    }
}

/// The input field a validation error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Field {
    /// The broker host name or IP address.
    Host,
    /// The broker port.
    Port,
    /// The MQTT client identifier.
    ClientId,
    /// The keepalive interval.
    Keepalive,
    /// The user name.
    Username,
    /// The password.
    Password,
    /// A publish topic.
    Topic,
    /// A subscription topic filter.
    TopicFilter,
    /// A publish payload.
    Payload,
    /// Certificate or key text.
    Certificate,
    /// The quality of service.
    Qos,
    /// The last will's topic.
    WillTopic,
    /// The last will's message.
    WillMessage,
}

impl Field {
    /// The field's name, as an error message shows it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Port => "port",
            Self::ClientId => "client id",
            Self::Keepalive => "keepalive",
            Self::Username => "username",
            Self::Password => "password",
            Self::Topic => "topic",
            Self::TopicFilter => "topic filter",
            Self::Payload => "payload",
            Self::Certificate => "certificate",
            Self::Qos => "qos",
            Self::WillTopic => "will topic",
            Self::WillMessage => "will message",
        }
    }
}

/// Why an input was refused before a byte was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Invalid {
    /// The field must not be empty.
    Empty,
    /// The field is longer than the limit given.
    TooLong {
        /// The largest accepted length in bytes.
        max: usize,
    },
    /// The field holds CR, LF or NUL, which could end the command line early.
    LineBreakOrNul,
    /// An unquoted field holds `,` or `"` (which would shift or open a parameter), or starts or
    /// ends with a blank (which the modem may trim).
    NeedsQuoting,
    /// A publish topic holds the wildcard `+` or `#`.
    Wildcard,
    /// A topic filter uses `+` or `#` where MQTT does not allow it.
    MisplacedWildcard,
    /// The value is outside the accepted range.
    OutOfRange,
    /// The field holds `"`, which this dialect cannot escape inside a quoted string.
    Quote,
}

/// A feature that one module's command set lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Feature {
    /// Uploading a certificate or key over AT commands (the module reads them from its own
    /// flash or file system).
    CertificateUpload,
    /// A last will.
    LastWill,
    /// MQTT 3.1 (the module speaks 3.1.1 only).
    Mqtt31,
    /// Bare (unquoted) strings, [`Quoting::Unquoted`](crate::Quoting): the module's commands
    /// take quoted strings only.
    UnquotedStrings,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CertificateUpload => "certificate upload",
            Self::LastWill => "last will",
            Self::Mqtt31 => "MQTT 3.1",
            Self::UnquotedStrings => "unquoted strings",
        })
    }
}

/// What is wrong, in words (`must not be empty`, `longer than 256 bytes`, …).
impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("must not be empty"),
            Self::TooLong { max } => write!(f, "longer than {max} bytes"),
            Self::LineBreakOrNul => f.write_str("holds CR, LF or NUL"),
            Self::NeedsQuoting => f.write_str(
                "holds `,` or `\"`, or starts or ends with a blank, which an unquoted field cannot",
            ),
            Self::Wildcard => f.write_str("holds the wildcard `+` or `#`"),
            Self::MisplacedWildcard => f.write_str("uses `+` or `#` where MQTT does not allow it"),
            Self::OutOfRange => f.write_str("out of range"),
            Self::Quote => f.write_str("holds `\"`, which this module cannot escape"),
        }
    }
}

/// Everything that can go wrong in a driver call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The modem reported a non-zero MQTT code, whatever its final line said.
    Mqtt(MqttCode),
    /// The modem answered `+CME ERROR: <n>`.
    Cme(u16),
    /// The modem answered `+CME ERROR: <text>`; the text is cut to 32 bytes.
    CmeText(heapless::String<32>),
    /// The modem answered `+EXT ERROR: <n>`.
    Ext(u16),
    /// The modem answered a plain `ERROR`.
    Modem,
    /// No final result arrived before the command's deadline.
    Timeout,
    /// The serial port failed.
    Io(embedded_io::ErrorKind),
    /// The modem's answer could not be parsed as the command's response.
    Protocol,
    /// The response was larger than the response buffer of [`Resources`](crate::Resources).
    ResponseTooLarge,
    /// The link is down (per the [`Supervisor`](crate::Supervisor)); nothing was sent.
    NotConnected,
    /// The module's command set lacks this feature; nothing was written.
    Unsupported(Feature),
    /// The modem reported, in its own result line or URC, that the operation failed (ESP-AT
    /// `+MQTTPUB:FAIL`, Quectel `+QMTPUBEX: 0,5,2`): the result code as sent, or −1 when the
    /// line carries none. Codes per dialect are in docs/DIALECTS.md.
    Failed {
        /// The result code.
        result: i16,
    },
    /// The broker refused the connection with this CONNACK return code (1 to 5), as the
    /// modem reported it (Quectel `+QMTCONN: 0,0,5`).
    Refused(u8),
    /// An input was refused before anything was written; nothing reached the modem.
    InvalidInput {
        /// The field at fault.
        field: Field,
        /// What is wrong with it.
        reason: Invalid,
    },
}

impl Error {
    /// Whether the error is evidence that the MQTT link is lost (codes 5, 8 and 10).
    pub const fn means_link_lost(&self) -> bool {
        match self {
            Self::Mqtt(code) => code.means_link_lost(),
            _ => false,
        }
    }

    pub(crate) const fn invalid(field: Field, reason: Invalid) -> Self {
        Self::InvalidInput { field, reason }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mqtt(code) => write!(f, "{code}"),
            Self::Cme(n) => write!(f, "modem error +CME ERROR: {n}"),
            Self::CmeText(t) => write!(f, "modem error +CME ERROR: {t}"),
            Self::Ext(n) => write!(f, "modem error +EXT ERROR: {n}"),
            Self::Modem => f.write_str("modem answered ERROR"),
            Self::Timeout => f.write_str("no answer from the modem before the deadline"),
            Self::Io(kind) => write!(f, "serial I/O error: {kind:?}"),
            Self::Protocol => f.write_str("unparseable answer from the modem"),
            Self::ResponseTooLarge => f.write_str("response larger than the response buffer"),
            Self::NotConnected => f.write_str("not connected"),
            Self::Unsupported(feature) => write!(f, "this module has no {feature}"),
            Self::Failed { result } => write!(f, "the modem reported failure (result {result})"),
            Self::Refused(code) => write!(f, "the broker refused the connection (CONNACK {code})"),
            Self::InvalidInput { field, reason } => {
                write!(f, "invalid {}: {reason}", field.name())
            }
        }
    }
}

impl core::error::Error for Error {}
