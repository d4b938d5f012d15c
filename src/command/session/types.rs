//! Values the session commands report.

/// `<state>` of `+MQTTSTATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConnectionState {
    /// 0: not connected (or the connection failed).
    Disconnected,
    /// 1: connected to the broker.
    Connected,
}

impl ConnectionState {
    /// Maps the wire value; anything but 0 or 1 is a protocol error.
    pub(crate) const fn from_wire(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Disconnected),
            1 => Some(Self::Connected),
            _ => None,
        }
    }
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
