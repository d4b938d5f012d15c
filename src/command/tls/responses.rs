//! What `AT+MQTTTLS?` answers.

use atat::atat_derive::AtatResp;

/// `+MQTTTLS:<tls>`. The manual's table claims more fields; its example shows only this one,
/// and any further fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, AtatResp)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TlsStatus {
    /// 0 = plain TCP, 1 = TLS.
    pub tls: u8,
}

impl TlsStatus {
    /// Whether TLS is on.
    pub fn enabled(&self) -> bool {
        self.tls == 1
    }
}
