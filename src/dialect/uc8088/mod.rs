//! UCchip's UC8088: its `AT+MQTT*` command set (docs/DIALECTS.md, UC8088).
//! Each API call is one command; results come in an information line before `OK`.

pub mod commands;
pub mod responses;
pub mod types;
mod urc;

use embedded_io_async::Write;

use super::{Dialect, Grammar, Sealed};
use crate::error::Error;
use crate::exchange::{Exchange, Staging};
use crate::mqtt::{Config, ConnectionState, Qos, Tls, TlsOffer, check_tls};
use commands::{
    Connect, Disconnect, GetConfig, GetState, GetSubscriptions, GetTls, Publish, SetConfig, SetTls,
    Subscribe, Unsubscribe,
};
use responses::{StoredConfig, Subscriptions};
use types::{CertKind, MAX_CERT_LEN};
use urc::{FRAMES, session};

/// What the UC8088 says unasked: `+MQTTRECV` messages,
/// `+MQTTSTATE:<n>` / `+MQTTDISCONNECTED` lines, and the `RDY` boot banner.
pub(crate) static GRAMMAR: Grammar = Grammar {
    messages: &FRAMES,
    session,
    banners: &[b"RDY", b"READY", b"+READY"],
    urc_crlf: true,
};

/// `AT+MQTTCONFIG?`: the settings the modem holds.
pub(crate) async fn config<W: Write, const R: usize, const E: usize>(
    x: &mut Exchange<'_, W, R, E, Uc8088>,
) -> Result<StoredConfig, Error> {
    x.send(&GetConfig).await
}

/// `AT+MQTTTLS?`: whether TLS is on.
pub(crate) async fn tls<W: Write, const R: usize, const E: usize>(
    x: &mut Exchange<'_, W, R, E, Uc8088>,
) -> Result<bool, Error> {
    Ok(x.send(&GetTls).await?.enabled())
}

/// `AT+MQTTSUB?`: at most `N` subscriptions with filters of at most `T` bytes.
pub(crate) async fn subscriptions<
    W: Write,
    const R: usize,
    const E: usize,
    const N: usize,
    const T: usize,
>(
    x: &mut Exchange<'_, W, R, E, Uc8088>,
) -> Result<Subscriptions<N, T>, Error> {
    x.send(&GetSubscriptions::<N, T>).await
}

/// UCchip's UC8088 GPRS module (`AT+MQTTCONFIG`, `AT+MQTTCONNECT`, `AT+MQTTPUB`, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Uc8088;

impl Sealed for Uc8088 {}

impl Staging for Uc8088 {
    const STAGED: bool = false;
}

/// `AT+MQTTTLS` takes a root CA, a client certificate and a key (each at most 1536 bytes),
/// and nothing else: no way to skip verification, no server name, no ALPN.
const OFFER: TlsOffer = TlsOffer {
    unverified: false,
    server_name: false,
    alpn: 0,
    max_pem: MAX_CERT_LEN,
};

impl Dialect for Uc8088 {
    const GRAMMAR: &'static Grammar = &GRAMMAR;
    type State = ();

    async fn configure<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        config: &Config<'_>,
    ) -> Result<(), Error> {
        x.send(&SetConfig::new(config)?).await.map(drop)
    }

    async fn set_tls<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        tls: &Tls<'_>,
    ) -> Result<(), Error> {
        check_tls(tls, &OFFER)?;
        let enc = x.options().cert_encoding;
        let Some(ca) = tls.ca else {
            return x.send(&SetTls::off()).await.map(drop);
        };
        // Every credential is checked before the first is written.
        let ca = SetTls::upload(CertKind::RootCa, ca, enc)?;
        let client = match tls.client {
            Some((cert, key)) => Some((
                SetTls::upload(CertKind::ClientCert, cert, enc)?,
                SetTls::upload(CertKind::ClientKey, key, enc)?,
            )),
            None => None,
        };
        x.send(&ca).await?;
        if let Some((cert, key)) = client {
            x.send(&cert).await?;
            x.send(&key).await?;
        }
        Ok(())
    }

    async fn connect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<(), Error> {
        x.send(&Connect).await.map(drop)
    }

    async fn state<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<ConnectionState, Error> {
        Ok(x.send(&GetState).await?.state)
    }

    async fn disconnect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<(), Error> {
        x.send(&Disconnect).await.map(drop)
    }

    async fn publish<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error> {
        x.send(&Publish::new(topic, payload, qos, retain)?)
            .await
            .map(drop)
    }

    async fn subscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error> {
        // `Subscribe::new` checks the filter as the default `Dialect::check_filter` does.
        x.send(&Subscribe::new(filter, qos)?).await.map(drop)
    }

    async fn unsubscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        filter: &str,
    ) -> Result<(), Error> {
        x.send(&Unsubscribe::new(filter)?).await.map(drop)
    }
}
