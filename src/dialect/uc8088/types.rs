//! The UC8088's limits, the values its commands take, and its MQTT result codes.

use core::fmt;

use crate::error::{Detail, ErrorKind};
use crate::mqtt::ConnectionState;

/// `<type>`: which credential a `AT+MQTTTLS` upload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CertKind {
    /// 0: the root CA that verifies the broker.
    RootCa = 0,
    /// 1: the client certificate.
    ClientCert = 1,
    /// 2: the client private key.
    ClientKey = 2,
}

/// The most certificate bytes the manual allows in one upload.
pub const MAX_CERT_LEN: usize = 1536;

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
}

impl fmt::Display for MqttCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.description(), self.value())
    }
}

/// `<state>` of `+MQTTSTATE`: 0 disconnected, 1 connected; anything else is a protocol error.
pub(crate) const fn state(v: u32) -> Option<ConnectionState> {
    match v {
        0 => Some(ConnectionState::Disconnected),
        1 => Some(ConnectionState::Connected),
        _ => None,
    }
}

/// What a UC8088 failure means: its `+MQTT…:<code>` codes are the AWS IoT SDK's
/// (docs/DIALECTS.md, "Errors"): 5 (network), 8 (timeout) and 10 (no PUBACK) say the link is
/// down, 9 that the broker refused, 3 that a parameter was refused; any other failure is the
/// modem's.
pub(crate) fn failure(detail: &Detail) -> ErrorKind {
    let Detail::Result(code) = *detail else {
        return ErrorKind::Modem;
    };
    match u16::try_from(code).ok().and_then(MqttCode::from_wire) {
        Some(MqttCode::NetworkError | MqttCode::Timeout | MqttCode::RetryNoResponse) => {
            ErrorKind::Link
        }
        Some(MqttCode::ServerRefused) => ErrorKind::Broker,
        Some(MqttCode::BadParameter) => ErrorKind::Input,
        _ => ErrorKind::Modem,
    }
}
