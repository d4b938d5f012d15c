//! UCchip's UC8088: the `AT+MQTT*` command set of [`crate::command`] (docs/DIALECTS.md, UC8088).
//! Each API call is one command; results come in an information line before `OK`.

use embedded_io_async::Write;

use super::{Dialect, Grammar, Sealed};
use crate::client::{Identity, MqttModem, Tls};
use crate::command::config::SetConfig;
use crate::command::config::types::Config;
use crate::command::publish::Publish;
use crate::command::publish::types::Qos;
use crate::command::publish::urc::FRAMES;
use crate::command::session::types::ConnectionState;
use crate::command::session::urc::parse as session;
use crate::command::session::{Connect, Disconnect, GetState};
use crate::command::subscribe::{Subscribe, Unsubscribe};
use crate::command::tls::SetTls;
use crate::command::tls::types::CertKind;
use crate::error::{Detail, Error, ErrorKind, MqttCode};

/// What the UC8088 says unasked: `+MQTTRECV` (and ESP-AT's `+MQTTSUBRECV`) messages,
/// `+MQTTSTATE:<n>` / `+MQTTDISCONNECTED` lines, and the `RDY` boot banner.
pub(crate) static GRAMMAR: Grammar = Grammar {
    messages: &FRAMES,
    session,
    banners: &[b"RDY", b"READY", b"+READY"],
    urc_crlf: true,
};

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

/// UCchip's UC8088 GPRS module (`AT+MQTTCONFIG`, `AT+MQTTCONNECT`, `AT+MQTTPUB`, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Uc8088;

impl Sealed for Uc8088 {}

impl Dialect for Uc8088 {
    const GRAMMAR: &'static Grammar = &GRAMMAR;
    const STAGED: bool = false;
    type State = ();

    async fn init<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<(), Error> {
        super::init_3gpp(m).await
    }

    async fn identify<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<Identity, Error> {
        super::identify_3gpp(m).await
    }

    async fn configure<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        config: &Config<'_>,
    ) -> Result<(), Error> {
        m.send(&SetConfig::new(config)?).await.map(drop)
    }

    async fn set_tls<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        tls: Tls<'_>,
    ) -> Result<(), Error> {
        let enc = m.options.cert_encoding;
        let cmd = match tls {
            Tls::Off => SetTls::off(),
            Tls::RootCa(pem) => SetTls::upload(CertKind::RootCa, pem, enc)?,
            Tls::ClientCert(pem) => SetTls::upload(CertKind::ClientCert, pem, enc)?,
            Tls::ClientKey(pem) => SetTls::upload(CertKind::ClientKey, pem, enc)?,
        };
        m.send(&cmd).await.map(drop)
    }

    async fn connect<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<(), Error> {
        m.send(&Connect).await.map(drop)
    }

    async fn state<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<ConnectionState, Error> {
        Ok(m.send(&GetState).await?.state)
    }

    async fn disconnect<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<(), Error> {
        m.send(&Disconnect).await.map(drop)
    }

    async fn publish<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error> {
        m.send(&Publish::new(topic, payload, qos, retain)?)
            .await
            .map(drop)
    }

    async fn subscribe<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error> {
        m.send(&Subscribe::new(filter, qos)?).await.map(drop)
    }

    async fn unsubscribe<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        filter: &str,
    ) -> Result<(), Error> {
        m.send(&Unsubscribe::new(filter)?).await.map(drop)
    }
}
