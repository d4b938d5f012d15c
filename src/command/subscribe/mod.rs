//! `AT+MQTTSUB` and `AT+MQTTUNSUB`.

pub mod responses;
pub mod types;

use super::{ModemCommand, hand_encoded};
use crate::encode::{Param, check_string};
use crate::error::{Error, Field, Invalid};
use responses::{Subscriptions, parse_subscriptions};
use types::{MAX_TOPIC_LEN, Qos};

/// `AT+MQTTSUB="<filter>",<qos>` (manual example: `AT+MQTTSUB="topic1",1`).
#[derive(Debug, Clone)]
pub struct Subscribe<'a> {
    filter: &'a str,
    qos: Qos,
}

impl<'a> Subscribe<'a> {
    const LINE_PREFIX: &'static [u8] = b"AT+MQTTSUB=";

    /// Validates the filter: wildcards only where MQTT allows them.
    pub fn new(filter: &'a str, qos: Qos) -> Result<Self, Error> {
        check_filter(filter)?;
        Ok(Self { filter, qos })
    }

    fn params(&self) -> [Param<'a>; 2] {
        [
            Param::Quoted(self.filter.as_bytes()),
            Param::Int(self.qos as u32),
        ]
    }
}

hand_encoded!(Subscribe, b"+MQTTSUB", code = true, timeout_ms = 7000);

/// `AT+MQTTUNSUB="<filter>"`.
#[derive(Debug, Clone)]
pub struct Unsubscribe<'a> {
    filter: &'a str,
}

impl<'a> Unsubscribe<'a> {
    const LINE_PREFIX: &'static [u8] = b"AT+MQTTUNSUB=";

    /// Validates the filter as [`Subscribe::new`] does.
    pub fn new(filter: &'a str) -> Result<Self, Error> {
        check_filter(filter)?;
        Ok(Self { filter })
    }

    fn params(&self) -> [Param<'a>; 1] {
        [Param::Quoted(self.filter.as_bytes())]
    }
}

hand_encoded!(Unsubscribe, b"+MQTTUNSUB", code = true, timeout_ms = 7000);

/// A topic filter: non-empty, within length, no CR/LF/NUL; `+` only as a whole level, `#`
/// only as the whole last level.
pub(crate) fn check_filter(filter: &str) -> Result<(), Error> {
    check_string(
        Field::TopicFilter,
        filter.as_bytes(),
        MAX_TOPIC_LEN,
        false,
        true,
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

/// `AT+MQTTSUB?`: the current subscriptions, one `+MQTTSUB:<topic>,<qos>` line each; at most
/// `N` of them with filters of at most `T` bytes, else a parse error.
#[derive(Debug, Clone, Default)]
pub struct GetSubscriptions<const N: usize, const T: usize>;

impl<const N: usize, const T: usize> atat::AtatCmd for GetSubscriptions<N, T> {
    type Response = Subscriptions<N, T>;
    const MAX_TIMEOUT_MS: u32 = 1000;

    fn write(&self, buf: &mut [u8]) -> usize {
        const LINE: &[u8] = b"AT+MQTTSUB?\r";
        match buf.get_mut(..LINE.len()) {
            Some(dst) => {
                dst.copy_from_slice(LINE);
                LINE.len()
            }
            None => 0,
        }
    }

    fn parse(
        &self,
        resp: Result<&[u8], atat::InternalError>,
    ) -> Result<Self::Response, atat::Error> {
        parse_subscriptions(resp.map_err(atat::Error::from)?)
    }
}

impl<const N: usize, const T: usize> ModemCommand for GetSubscriptions<N, T> {
    const INFO_PREFIX: &'static [u8] = b"+MQTTSUB";

    fn wire(&self) -> super::Wire<'_> {
        super::Wire::fixed_static(b"AT+MQTTSUB?\r")
    }
}

super::test_form!(
    /// `AT+MQTTSUB=?`: the modem's syntax for `AT+MQTTSUB`.
    TestSubscribe,
    "+MQTTSUB=?",
    b"AT+MQTTSUB=?\r",
    b"+MQTTSUB"
);
