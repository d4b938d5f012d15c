//! What `AT+MQTTSUB?` answers.

use atat::AtatResp;
use heapless::{String, Vec};

use super::types::Qos;
use crate::parse::{after_prefix, fields, lines};

/// One `+MQTTSUB:<topic>,<qos>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Subscription<const T: usize> {
    /// The topic filter.
    pub filter: String<T>,
    /// The granted QoS.
    pub qos: Qos,
}

/// Every subscription the modem reports, at most `N`, filters of at most `T` bytes.
pub type Subscriptions<const N: usize, const T: usize> = Vec<Subscription<T>, N>;

impl<const T: usize> AtatResp for Subscription<T> {}

pub(crate) fn parse_subscriptions<const N: usize, const T: usize>(
    resp: &[u8],
) -> Result<Subscriptions<N, T>, atat::Error> {
    let mut out = Vec::new();
    for text in lines(resp).filter_map(|l| after_prefix(l, b"+MQTTSUB")) {
        let mut f = fields(text);
        let filter = f
            .next()
            .flatten()
            .and_then(crate::parse::RawField::to_string)
            .ok_or(atat::Error::Parse)?;
        let qos = f
            .next()
            .flatten()
            .and_then(crate::parse::RawField::number)
            .and_then(Qos::from_wire)
            .ok_or(atat::Error::Parse)?;
        out.push(Subscription { filter, qos })
            .map_err(|_| atat::Error::Parse)?;
    }
    Ok(out)
}
