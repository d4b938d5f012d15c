//! Values `AT+MQTTPUB` takes.

/// The longest topic accepted, in bytes (MQTT allows 65535; modem line buffers do not).
pub const MAX_TOPIC_LEN: usize = 256;
/// The longest publish payload accepted, in bytes, before escaping. Firmware may have a smaller
/// line limit; the manual does not state one.
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
    /// 2: exactly once. The manual lists it, but firmware built on the AWS IoT MQTT library
    /// may refuse it (probably with code 3).
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
