//! What `AT+MQTTTLS?` answers.

use atat::AtatResp;

use crate::parse::{after_prefix, fields, lines};

/// `+MQTTTLS:<tls>`. The manual's table claims more fields; its example shows only this one,
/// and any further fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TlsStatus {
    /// 0 = plain TCP, 1 = TLS.
    pub tls: u8,
}

impl AtatResp for TlsStatus {}

pub(crate) fn parse_tls_status(resp: &[u8]) -> Result<TlsStatus, atat::Error> {
    lines(resp)
        .find_map(|l| after_prefix(l, b"+MQTTTLS"))
        .and_then(|text| fields(text).next().flatten())
        .and_then(crate::parse::RawField::number)
        .and_then(|n| u8::try_from(n).ok())
        .map(|tls| TlsStatus { tls })
        .ok_or(atat::Error::Parse)
}

impl TlsStatus {
    /// Whether TLS is on.
    pub fn enabled(&self) -> bool {
        self.tls == 1
    }
}
