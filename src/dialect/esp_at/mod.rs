//! Espressif's ESP-AT firmware (ESP32, ESP32-C3, ESP8266): `AT+MQTTUSERCFG`, `AT+MQTTCONN`,
//! `AT+MQTTPUBRAW`, `AT+MQTTSUB`, `+MQTTSUBRECV` (docs/DIALECTS.md, ESP-AT).
//!
//! One API call may be several commands: `configure` is `AT+MQTTUSERCFG` (with
//! `AT+MQTTLONG*` through a `>` prompt when the line would be too long; its scheme says TLS or
//! not), `AT+MQTTSNI` and `AT+MQTTALPN` when `set_tls` gave them, and `AT+MQTTCONNCFG`; the
//! broker's address is kept for `AT+MQTTCONN`. `set_tls` writes the certificates
//! (`AT+SYSMFG`) at once, and the rest at the next `configure`: until then `connect` is
//! refused ([`Error::NotConfigured`]). Every payload goes
//! through the prompt of `AT+MQTTPUBRAW`, binary-safe and streamed from the caller's slice.

pub mod commands;
pub mod responses;
pub mod types;
mod urc;

use embedded_io_async::Write;

use super::{Dialect, Grammar, Sealed, tolerated};
use crate::command::ModemCommand;
use crate::encode::{Empty, Quoting, check_string};
use crate::error::{Detail, Error, Feature, Field, Invalid, link_down};
use crate::exchange::{Exchange, Staging};
use crate::identity::Identification;
use crate::identity::Identity;
use crate::mqtt::{
    Config, ConnectionState, MAX_PAYLOAD_LEN, MqttVersion, Qos, Tls, TlsOffer, check_filter,
    check_tls, check_topic, check_will, fingerprint,
};
use commands::{
    At, Clean, Connect, EchoOff, GetConnection, GetVersion, LONG_CLIENT_ID, LONG_PASSWORD,
    LONG_USERNAME, MfgNumber, PublishEmpty, PublishRaw, SetAlpn, SetConnConfig, SetLongField,
    SetServerName, SetUserConfig, Subscribe, Unsubscribe, WriteBlob,
};
use responses::MfgValue;
use types::{
    MAX_ALPN, MAX_ALPN_LEN, MAX_HOST_LEN, MAX_KEEPALIVE_S, MAX_LINE_LEN, MAX_LONG_FIELD_LEN,
    MAX_PEM_LEN, MAX_SERVER_NAME_LEN, MAX_TOPIC_LEN, MAX_USERCFG_CREDENTIAL_LEN,
};

/// What ESP-AT says unasked.
static GRAMMAR: Grammar = Grammar {
    messages: &urc::FRAMES,
    session: urc::session,
    banners: &[b"ready"],
    urc_crlf: false,
};

/// Espressif's ESP-AT firmware on an ESP32-class chip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EspAt;

impl Sealed for EspAt {}

impl Staging for EspAt {
    const STAGED: bool = true;
}

/// The broker address `configure` gave, for `AT+MQTTCONN`, and the TLS choices `set_tls` gave,
/// for `configure` (which sends them with and after `AT+MQTTUSERCFG`).
#[derive(Debug)]
pub struct State {
    host: heapless::String<MAX_HOST_LEN>,
    port: u16,
    scheme: u32,
    server_name: heapless::String<MAX_SERVER_NAME_LEN>,
    /// The ALPN protocols, NUL between them (NUL is refused in a name).
    alpn: heapless::String<MAX_ALPN_LEN>,
    /// A TLS setting `configure` has not sent yet: `connect` would use the old one.
    tls_pending: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            host: heapless::String::new(),
            port: 0,
            scheme: SCHEME_TCP,
            server_name: heapless::String::new(),
            alpn: heapless::String::new(),
            tls_pending: false,
        }
    }
}

/// `AT+MQTTUSERCFG`'s scheme for plain TCP.
const SCHEME_TCP: u32 = 1;

/// ESP-AT's TLS: every part but a client certificate larger than its store.
const OFFER: TlsOffer = TlsOffer {
    unverified: true,
    server_name: true,
    alpn: MAX_ALPN,
    max_pem: MAX_PEM_LEN,
};

/// Where one certificate or key lives in the manufacturing NVS, and the key of the
/// fingerprint the driver keeps of it (docs/DIALECTS.md, ESP-AT, decision 10).
struct Stored {
    /// Namespace and key (named alike).
    namespace: &'static [u8],
    /// The fingerprint's key in [`MARKS`].
    mark: &'static [u8],
}

const CA: Stored = Stored {
    namespace: b"mqtt_ca",
    mark: b"ca",
};
const CERT: Stored = Stored {
    namespace: b"mqtt_cert",
    mark: b"cert",
};
const KEY: Stored = Stored {
    namespace: b"mqtt_key",
    mark: b"key",
};
/// The driver's own namespace for the fingerprints of what it stored.
const MARKS: &[u8] = b"mqtt_modem";

/// The ALPN protocols kept in the state, as the slices `AT+MQTTALPN` takes.
fn alpn_list(joined: &str) -> heapless::Vec<&[u8], MAX_ALPN> {
    joined
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::as_bytes)
        .take(MAX_ALPN)
        .collect()
}

/// Stores `pem` unless the module holds it already (its fingerprint matches), and then its
/// fingerprint; the old fingerprint is erased first, so a write cut short is never trusted.
async fn store<W: Write, const R: usize, const E: usize>(
    x: &mut Exchange<'_, W, R, E, EspAt>,
    slot: &Stored,
    pem: &[u8],
    always: bool,
) -> Result<(), Error> {
    let print = fingerprint(pem);
    let mark = |op, value| MfgNumber {
        op,
        namespace: MARKS,
        key: slot.mark,
        value,
    };
    if !always {
        match x.send(&mark(1, 0)).await {
            Ok(MfgValue(Some(v))) if v == print => return Ok(()),
            other => tolerated(other)?,
        }
    }
    tolerated(x.send(&mark(0, 0)).await)?;
    x.send(&WriteBlob {
        namespace: slot.namespace,
        key: slot.namespace,
        value: pem,
    })
    .await?;
    // Without it, the next bring-up writes the PEM again: no reason to fail.
    tolerated(x.send(&mark(2, print)).await)
}

/// Refuses a command whose line would be longer than ESP-AT takes, naming `field`.
fn fits<C: ModemCommand>(cmd: &C, field: Field, max: usize) -> Result<(), Error> {
    if cmd.wire().len() >= MAX_LINE_LEN {
        return Err(Error::invalid(field, Invalid::TooLong { max }));
    }
    Ok(())
}

/// A topic or filter ESP-AT takes: at most 128 bytes.
fn short_topic(field: Field, topic: &str) -> Result<(), Error> {
    if topic.len() > MAX_TOPIC_LEN {
        return Err(Error::invalid(
            field,
            Invalid::TooLong { max: MAX_TOPIC_LEN },
        ));
    }
    Ok(())
}

impl Dialect for EspAt {
    const GRAMMAR: &'static Grammar = &GRAMMAR;
    // With reconnect 0, `AT+MQTTCONN` cannot re-establish a link that dropped until
    // `AT+MQTTCLEAN` and the configuration are sent again (docs/DIALECTS.md, ESP-AT [E1]).
    const RECONNECT_CONFIGURES: bool = true;
    type State = State;

    async fn init<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<(), Error> {
        x.sync(&At).await?;
        x.send(&EchoOff).await.map(drop)
    }

    async fn identify<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<Identity, Error> {
        Ok(Identity {
            manufacturer: Identification::default(),
            model: Identification::default(),
            revision: x.send(&GetVersion).await?,
        })
    }

    async fn configure<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        config: &Config<'_>,
    ) -> Result<(), Error> {
        let host = config.host.as_bytes();
        check_string(
            Field::Host,
            host,
            MAX_HOST_LEN,
            Empty::Refused,
            Quoting::Quoted,
        )?;
        if config.port == 0 {
            return Err(Error::invalid(Field::Port, Invalid::OutOfRange));
        }
        if config.keepalive_s == 0 || config.keepalive_s > MAX_KEEPALIVE_S {
            return Err(Error::invalid(Field::Keepalive, Invalid::OutOfRange));
        }
        let fields = [
            (Field::ClientId, config.client_id.as_bytes(), Empty::Refused),
            (Field::Username, config.username.as_bytes(), Empty::Allowed),
            (Field::Password, config.password.as_bytes(), Empty::Allowed),
        ];
        for (field, value, empty) in fields {
            check_string(field, value, MAX_LONG_FIELD_LEN, empty, Quoting::Quoted)?;
        }
        if let Some(will) = &config.will {
            check_will(will, MAX_TOPIC_LEN)?;
        }
        if config.version != MqttVersion::V3_1_1 {
            return Err(Error::Unsupported(Feature::Mqtt31));
        }
        super::quoted_only(config)?;
        // A link that was up and dropped takes no new connection before it is cleaned; on a
        // fresh module there is nothing to clean and the answer is `ERROR`: either is fine.
        match x.send(&Clean).await {
            Ok(_)
            | Err(Error::Module {
                detail: Detail::Error,
                ..
            }) => {}
            Err(e) => return Err(e),
        }
        let user = SetUserConfig {
            scheme: state.scheme,
            client_id: fields[0].1,
            username: fields[1].1,
            password: fields[2].1,
        };
        if user.wire().len() < MAX_LINE_LEN
            && user.username.len() <= MAX_USERCFG_CREDENTIAL_LEN
            && user.password.len() <= MAX_USERCFG_CREDENTIAL_LEN
        {
            x.send(&user).await?;
        } else {
            // Too long for one line, or a credential over 64 bytes: the strings go through the
            // prompted LONG* commands.
            x.send(&SetUserConfig {
                scheme: state.scheme,
                client_id: b"",
                username: b"",
                password: b"",
            })
            .await?;
            for (command, value) in [
                (LONG_CLIENT_ID, user.client_id),
                (LONG_USERNAME, user.username),
                (LONG_PASSWORD, user.password),
            ] {
                if !value.is_empty() {
                    x.send(&SetLongField { command, value }).await?;
                }
            }
        }
        if !state.server_name.is_empty() {
            x.send(&SetServerName {
                name: state.server_name.as_bytes(),
            })
            .await?;
        }
        if !state.alpn.is_empty() {
            x.send(&SetAlpn {
                protocols: &alpn_list(&state.alpn),
            })
            .await?;
        }
        x.send(&SetConnConfig {
            keepalive_s: config.keepalive_s,
            keep_session: !config.clean_session,
            will: config.will,
        })
        .await?;
        state.host.clear();
        // The host was checked to fit.
        let _ = state.host.push_str(config.host);
        state.port = config.port;
        state.tls_pending = false;
        Ok(())
    }

    async fn set_tls<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        tls: &Tls<'_>,
    ) -> Result<(), Error> {
        check_tls(tls, &OFFER)?;
        // The names `configure` sends after `AT+MQTTUSERCFG`, checked before a byte is written.
        let mut server_name = heapless::String::new();
        if let Some(name) = tls.server_name {
            check_string(
                Field::ServerName,
                name.as_bytes(),
                MAX_SERVER_NAME_LEN,
                Empty::Refused,
                Quoting::Quoted,
            )?;
            let _ = server_name.push_str(name); // checked to fit
        }
        let mut alpn = heapless::String::new();
        for p in tls.alpn {
            check_string(
                Field::Alpn,
                p.as_bytes(),
                MAX_ALPN_LEN,
                Empty::Refused,
                Quoting::Quoted,
            )?;
            let joined = if alpn.is_empty() {
                Ok(())
            } else {
                alpn.push('\0')
            };
            joined
                .and_then(|()| alpn.push_str(p))
                .map_err(|_| Error::invalid(Field::Alpn, Invalid::TooLong { max: MAX_ALPN_LEN }))?;
        }
        fits(
            &SetAlpn {
                protocols: &alpn_list(&alpn),
            },
            Field::Alpn,
            MAX_ALPN_LEN,
        )?;
        fits(
            &SetServerName {
                name: server_name.as_bytes(),
            },
            Field::ServerName,
            MAX_SERVER_NAME_LEN,
        )?;
        let (cert, key) = tls.client.unzip();
        for (pem, slot) in [(tls.ca, &CA), (cert, &CERT), (key, &KEY)] {
            if let Some(pem) = pem {
                store(x, slot, pem, tls.upload_always).await?;
            }
        }
        state.scheme = match (tls.enabled, tls.ca.is_some(), tls.client.is_some()) {
            (false, _, _) => SCHEME_TCP,
            (true, false, false) => 2,
            (true, true, false) => 3,
            (true, false, true) => 4,
            (true, true, true) => 5,
        };
        state.server_name = server_name;
        state.alpn = alpn;
        state.tls_pending = true;
        Ok(())
    }

    async fn connect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
    ) -> Result<(), Error> {
        if state.host.is_empty() || state.tls_pending {
            return Err(Error::NotConfigured);
        }
        let host = state.host.clone();
        let port = state.port;
        x.send(&Connect {
            host: host.as_bytes(),
            port,
        })
        .await
        .map(drop)
    }

    async fn state<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<ConnectionState, Error> {
        Ok(if x.send(&GetConnection).await?.connected() {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected
        })
    }

    async fn disconnect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<(), Error> {
        x.send(&Clean).await.map(drop)
    }

    async fn publish<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error> {
        check_topic(topic)?;
        short_topic(Field::Topic, topic)?;
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(Error::invalid(
                Field::Payload,
                Invalid::TooLong {
                    max: MAX_PAYLOAD_LEN,
                },
            ));
        }
        let topic = topic.as_bytes();
        if payload.is_empty() {
            let cmd = PublishEmpty { topic, qos, retain };
            fits(&cmd, Field::Topic, MAX_TOPIC_LEN)?;
            return x.send(&cmd).await.map(drop);
        }
        let cmd = PublishRaw {
            topic,
            payload,
            qos,
            retain,
        };
        fits(&cmd, Field::Topic, MAX_TOPIC_LEN)?;
        if x.send(&cmd).await?.ok {
            Ok(())
        } else {
            // `+MQTTPUB:FAIL`: the broker was not reached.
            Err(x.failed(Detail::Result(-1), link_down))
        }
    }

    fn check_filter(filter: &str) -> Result<(), Error> {
        check_filter(filter)?;
        short_topic(Field::TopicFilter, filter)?;
        // The QoS digit does not change the line's length.
        let cmd = Subscribe {
            filter: filter.as_bytes(),
            qos: Qos::AtMostOnce,
        };
        fits(&cmd, Field::TopicFilter, MAX_TOPIC_LEN)
    }

    async fn subscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error> {
        Self::check_filter(filter)?;
        x.send(&Subscribe {
            filter: filter.as_bytes(),
            qos,
        })
        .await
        .map(drop)
    }

    async fn unsubscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        filter: &str,
    ) -> Result<(), Error> {
        check_filter(filter)?;
        short_topic(Field::TopicFilter, filter)?;
        let cmd = Unsubscribe {
            filter: filter.as_bytes(),
        };
        fits(&cmd, Field::TopicFilter, MAX_TOPIC_LEN)?;
        x.send(&cmd).await.map(drop)
    }
}
