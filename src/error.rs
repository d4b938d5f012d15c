//! The one error type of the driver, and the dialect-neutral reading of a failure.

use core::fmt;

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
    /// The TLS server name (SNI).
    ServerName,
    /// An ALPN protocol name.
    Alpn,
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
            Self::ServerName => "server name",
            Self::Alpn => "ALPN protocol",
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
    /// A TLS part given with TLS off ([`Tls::off`](crate::Tls::off)).
    TlsOff,
}

/// A feature that one module's command set lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Feature {
    /// TLS without verifying the broker's certificate ([`Tls::unverified`](crate::Tls::unverified)).
    UnverifiedTls,
    /// A TLS server name (SNI) other than the host.
    ServerName,
    /// ALPN protocols.
    Alpn,
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
            Self::UnverifiedTls => "TLS without verifying the server",
            Self::ServerName => "TLS server name (SNI)",
            Self::Alpn => "ALPN",
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
            Self::TlsOff => f.write_str("given with TLS off"),
        }
    }
}

/// What the application can do about an error, the same in every dialect: each dialect maps
/// its own codes to a kind (the table per dialect is in docs/DIALECTS.md, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The call's input was refused, by the driver before a byte was written or by the modem
    /// (a parameter it does not take, a feature it lacks, an answer larger than the
    /// [`Resources`](crate::Resources)): fix the call; repeating it will not help.
    Input,
    /// The broker refused (a CONNACK refusal, a refused subscription): the link works, but the
    /// broker does not accept what was asked; check the credentials or the filter.
    Broker,
    /// The link to the broker is down or unusable (not connected, host unreachable, TCP or
    /// TLS failure, no acknowledgement): reconnect, with backoff.
    Link,
    /// The modem failed the command, or answered what cannot be parsed: bring it up again.
    Modem,
    /// No answer before the command's deadline: the modem may be busy, silent or gone.
    Timeout,
    /// The serial port failed.
    Io,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Input => "input refused",
            Self::Broker => "broker refused",
            Self::Link => "link down",
            Self::Modem => "modem failed",
            Self::Timeout => "timeout",
            Self::Io => "serial I/O",
        })
    }
}

/// How the module said that a command failed, as it said it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Detail {
    /// A plain `ERROR`.
    Error,
    /// `+CME ERROR: <n>`.
    Cme(u16),
    /// `+CME ERROR: <text>`, its first 16 bytes (cut at a character boundary). The driver asks
    /// for numeric codes (`AT+CMEE=1`); text is what a module sends despite it. Kept short on
    /// purpose: every call's result carries an `Error`'s room, and 16 bytes more of it cost
    /// about 1.5 KiB of flash and 50 bytes of RAM on a Cortex-M4.
    CmeText(heapless::String<16, u8>),
    /// `+EXT ERROR: <n>`.
    Ext(u16),
    /// A failure code in the command's own result line, as sent (UC8088 `+MQTTCONNECT:5`,
    /// whose codes [`MqttCode`](crate::MqttCode) names; Quectel `+QMTPUBEX: 0,5,2`), or −1 when the line
    /// carries none (ESP-AT `+MQTTPUB:FAIL`). Codes per dialect are in docs/DIALECTS.md.
    Result(i16),
    /// The broker's CONNACK return code (1 to 5), as the module reported it (Quectel
    /// `+QMTCONN: 0,0,5`).
    Connack(u8),
}

/// The reading of a failure for a command that says nothing more specific: the modem failed it.
pub(crate) fn modem_failed(_: &Detail) -> ErrorKind {
    ErrorKind::Modem
}

/// The reading of a failure for a command that fails only when the link to the broker is down
/// (not connected, unreachable, no acknowledgement).
pub(crate) fn link_down(_: &Detail) -> ErrorKind {
    ErrorKind::Link
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error => f.write_str("ERROR"),
            Self::Cme(n) => write!(f, "+CME ERROR: {n}"),
            Self::CmeText(t) => write!(f, "+CME ERROR: {t}"),
            Self::Ext(n) => write!(f, "+EXT ERROR: {n}"),
            Self::Result(n) => write!(f, "result {n}"),
            Self::Connack(n) => write!(f, "CONNACK {n}"),
        }
    }
}

/// Everything that can go wrong in a driver call. [`Error::kind`] says what to do about it in
/// any dialect; the variant keeps the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The module reported that the command failed: what that means for the application (its
    /// dialect's reading of the code), and the module's own words.
    Module {
        /// What the application can do about it.
        kind: ErrorKind,
        /// What the module said.
        detail: Detail,
    },
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
    /// [`MqttModem::connect`](crate::MqttModem::connect) without the settings it needs: no
    /// [`configure`](crate::MqttModem::configure) yet, or (ESP-AT, which takes the TLS choice
    /// with the connection settings) a [`set_tls`](crate::MqttModem::set_tls) since the last
    /// one. Configure, then connect; nothing was written.
    NotConfigured,
    /// [`MqttModem::configure`](crate::MqttModem::configure) while a session is open: the
    /// module would keep the old one. Disconnect first; no setting was written.
    StillConnected,
    /// No [`Runner`](crate::Runner) is reading the UART (never spawned, or dropped), so no
    /// answer could arrive: spawn [`Runner::run`](crate::Runner::run) in its own task. Returned
    /// at the command's deadline (300 ms for `init`'s first `AT`), in place of
    /// [`Error::Timeout`]. Its kind is [`ErrorKind::Io`]: a [`Supervisor`](crate::Supervisor)
    /// reports it as a failed attempt and keeps retrying.
    NoRunner,
    /// The module answers `AT` but refuses the dialect's own state query (with the detail
    /// given): it does not speak the dialect chosen ([`MqttModem::with_dialect`](crate::MqttModem::with_dialect)), or its
    /// firmware has no MQTT.
    WrongDialect(Detail),
    /// An input was refused before anything was written; nothing reached the modem.
    InvalidInput {
        /// The field at fault.
        field: Field,
        /// What is wrong with it.
        reason: Invalid,
    },
}

impl Error {
    /// What the application can do about this error, the same in every dialect.
    #[inline(never)]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::Module { kind, .. } => *kind,
            Self::Timeout => ErrorKind::Timeout,
            Self::Io(_) | Self::NoRunner => ErrorKind::Io,
            Self::Protocol => ErrorKind::Modem,
            Self::NotConnected => ErrorKind::Link,
            Self::StillConnected
            | Self::NotConfigured
            | Self::ResponseTooLarge
            | Self::Unsupported(_)
            | Self::WrongDialect(_)
            | Self::InvalidInput { .. } => ErrorKind::Input,
        }
    }

    /// A failure the module reported, read by `kind_of` (the command's table).
    pub(crate) fn module(detail: Detail, kind_of: fn(&Detail) -> ErrorKind) -> Self {
        Self::Module {
            kind: kind_of(&detail),
            detail,
        }
    }

    pub(crate) const fn invalid(field: Field, reason: Invalid) -> Self {
        Self::InvalidInput { field, reason }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Module { kind, detail } => write!(f, "{kind}: the modem answered {detail}"),
            Self::Timeout => f.write_str("no answer from the modem before the deadline"),
            Self::Io(kind) => write!(f, "serial I/O error: {kind:?}"),
            Self::Protocol => f.write_str("unparseable answer from the modem"),
            Self::ResponseTooLarge => f.write_str("response larger than the response buffer"),
            Self::NotConnected => f.write_str("not connected"),
            Self::StillConnected => {
                f.write_str("a session is open: disconnect before configuring another")
            }
            Self::NotConfigured => {
                f.write_str("not configured (or TLS set since): configure before connecting")
            }
            Self::NoRunner => f.write_str(
                "no runner is reading the serial port: spawn `Runner::run` in its own task",
            ),
            Self::WrongDialect(detail) => write!(
                f,
                "the module answers AT but refuses this dialect's commands ({detail}): wrong dialect chosen?"
            ),
            Self::Unsupported(feature) => write!(f, "this module has no {feature}"),
            Self::InvalidInput { field, reason } => {
                write!(f, "invalid {}: {reason}", field.name())
            }
        }
    }
}

impl core::error::Error for Error {}
