//! Quectel's `AT+QMT*` command set (BG95/BG96/BG77, EC21/EG25/EG91, EC200/EC800):
//! docs/DIALECTS.md, Quectel QMT.
//!
//! Most operations are asynchronous: `OK` accepts the command, and a result URC keyed by the
//! client index (and message id) completes it. `configure` is four `AT+QMTCFG` settings; the
//! broker's address and the identity are kept for `connect`, which is `AT+QMTOPEN` then
//! `AT+QMTCONN`. Every payload goes through the `>` prompt of `AT+QMTPUBEX`, binary-safe.

pub mod commands;
pub mod responses;
pub mod types;
mod urc;

use embedded_io_async::Write;

use super::{Dialect, Grammar, Sealed, tolerated};
use crate::encode::{Empty, Quoting, check_string};
use crate::error::{Detail, Error, ErrorKind, Feature, Field, Invalid, link_down};
use crate::exchange::{Exchange, Staging};
use crate::mqtt::{
    Config, ConnectionState, MAX_CLIENT_ID_LEN, MAX_CREDENTIAL_LEN, MAX_PAYLOAD_LEN, MqttVersion,
    Qos, Tls, TlsOffer, check_filter, check_tls, check_topic, check_will, fingerprint,
};
use commands::{
    Connect, DeleteFile, Disconnect, GetConnection, ListFile, Open, Publish, SetCfg, SetSsl,
    SetWill, SslValue, Subscribe, Unsubscribe, Upload,
};
use responses::{FileSize, Numbers, upload_checksum};
use types::{
    MAX_HOST_LEN, MAX_KEEPALIVE_S, MAX_PEM_LEN, MAX_WILL_LEN, SSL_CONTEXT, STATE_CONNECTED,
};

/// Quectel's TLS: no server name of its own (`"sni"` is on or off), no ALPN.
const OFFER: TlsOffer = TlsOffer {
    unverified: true,
    server_name: false,
    alpn: 0,
    max_pem: MAX_PEM_LEN,
};

/// `AT+QMTCFG="ssl",0,<values>`.
fn ssl(values: &'static [u32]) -> SetCfg {
    SetCfg {
        key: b"ssl",
        values,
        value: None,
    }
}

/// A file's name: its fingerprint in eight hex digits, then `ext` (docs/DIALECTS.md,
/// Quectel, decision 10).
fn file_name<const N: usize>(pem: &[u8], ext: &[u8]) -> [u8; N] {
    let mut name = [0; N];
    let print = fingerprint(pem);
    for (i, digit) in name[..8].iter_mut().enumerate() {
        let nibble = (print >> (28 - 4 * i)) & 0xf;
        *digit = b"0123456789abcdef"[nibble as usize];
    }
    name[8..].copy_from_slice(ext);
    name
}

/// The content of a commit marker: one byte (a file cannot be empty).
const MARK: &[u8] = b"1";

/// The size of a stored file, `None` when it is not listed (`+CME ERROR`, or no line).
async fn listed<W: Write, const R: usize, const E: usize>(
    x: &mut Exchange<'_, W, R, E, Quectel>,
    name: &[u8],
) -> Result<Option<u32>, Error> {
    match x.send(&ListFile { name }).await {
        Ok(FileSize(size)) => Ok(size),
        Err(Error::Module { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes a file that may not be there (its `+CME ERROR` is no failure).
async fn delete<W: Write, const R: usize, const E: usize>(
    x: &mut Exchange<'_, W, R, E, Quectel>,
    name: &[u8],
) -> Result<(), Error> {
    tolerated(x.send(&DeleteFile { name }).await)
}

/// Uploads `data` as `name` and checks what the module reports it stored (size, checksum); a
/// file that differs is deleted and reported.
async fn upload<W: Write, const R: usize, const E: usize>(
    x: &mut Exchange<'_, W, R, E, Quectel>,
    name: &[u8],
    data: &[u8],
) -> Result<(), Error> {
    let done = x.send(&Upload { name, data }).await?;
    if done.size != data.len() as u32 || done.checksum != upload_checksum(data) {
        delete(x, name).await?;
        return Err(Error::Protocol);
    }
    Ok(())
}

/// Makes sure the module stores `pem` as `name` (`<fingerprint>.pem`). A stored file counts
/// only with its commit marker (`<fingerprint>.ok`), written after the file was checked and
/// deleted before it is written again: a write cut short (padded with zeros to its announced
/// size) is never taken for the certificate.
async fn ensure_file<W: Write, const R: usize, const E: usize>(
    x: &mut Exchange<'_, W, R, E, Quectel>,
    name: &[u8],
    pem: &[u8],
    always: bool,
) -> Result<(), Error> {
    let mark: [u8; 11] = file_name(pem, b".ok");
    if !always
        && listed(x, &mark).await?.is_some()
        && listed(x, name).await? == Some(pem.len() as u32)
    {
        return Ok(());
    }
    delete(x, &mark).await?;
    // `AT+QFUPL` onto an existing name fails.
    delete(x, name).await?;
    upload(x, name, pem).await?;
    upload(x, &mark, MARK).await
}

/// What Quectel modules say unasked.
static GRAMMAR: Grammar = Grammar {
    messages: &urc::FRAMES,
    session: urc::session,
    banners: &[b"RDY"],
    urc_crlf: true,
};

/// A Quectel LTE or LPWA module with the `AT+QMT*` MQTT commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Quectel;

impl Sealed for Quectel {}

impl Staging for Quectel {
    const STAGED: bool = true;
}

/// What `connect` needs from `configure`, and the message-id counter.
#[derive(Debug, Default)]
pub struct State {
    host: heapless::String<MAX_HOST_LEN>,
    port: u16,
    client_id: heapless::String<MAX_CLIENT_ID_LEN>,
    username: heapless::String<MAX_CREDENTIAL_LEN>,
    password: heapless::String<MAX_CREDENTIAL_LEN>,
    msgid: u16,
}

impl State {
    /// The next message id, 1 to 65535.
    fn next_msgid(&mut self) -> u16 {
        self.msgid = self.msgid.checked_add(1).unwrap_or(1).max(1);
        self.msgid
    }
}

/// A quoted string Quectel can carry: no `"` (it has no escape), no CR, LF or NUL.
fn check_quoted(field: Field, s: &[u8], max: usize, empty: Empty) -> Result<(), Error> {
    check_string(field, s, max, empty, Quoting::Quoted)?;
    no_quote(field, s)
}

/// Refuses a `"` in a string already checked otherwise (a topic, a filter, a will).
fn no_quote(field: Field, s: &[u8]) -> Result<(), Error> {
    if memchr::memchr(b'"', s).is_some() {
        return Err(Error::invalid(field, Invalid::Quote));
    }
    Ok(())
}

/// Copies a checked string into the state.
fn keep<const N: usize>(into: &mut heapless::String<N>, s: &str) {
    into.clear();
    // Checked to fit.
    let _ = into.push_str(s);
}

/// Judges a result URC whose first number (after the client index, and the message id when
/// `msgid`) is the result: 0 succeeded; a failure reads as `kind_of` says.
fn result_of<W: Write, const R: usize, const E: usize>(
    x: &Exchange<'_, W, R, E, Quectel>,
    n: Numbers,
    msgid: bool,
    kind_of: fn(&Detail) -> ErrorKind,
) -> Result<Numbers, Error> {
    match n.get(usize::from(msgid)) {
        Some(0) => Ok(n),
        Some(result) => Err(x.failed(
            Detail::Result(i16::try_from(result).unwrap_or(i16::MAX)),
            kind_of,
        )),
        None => Err(Error::Protocol),
    }
}

/// `+QMTOPEN: 0,<result>`: 1 is a wrong parameter; −1 (network not opened), 3 (PDP context), 4
/// (domain name) and 5 (connection) say the broker was not reached. (2, the client index in
/// use, is taken as already open: `connect` goes on.)
fn open_failure(detail: &Detail) -> ErrorKind {
    match detail {
        Detail::Result(1) => ErrorKind::Input,
        _ => ErrorKind::Link,
    }
}

impl Dialect for Quectel {
    const GRAMMAR: &'static Grammar = &GRAMMAR;
    type State = State;

    async fn configure<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        config: &Config<'_>,
    ) -> Result<(), Error> {
        check_quoted(
            Field::Host,
            config.host.as_bytes(),
            MAX_HOST_LEN,
            Empty::Refused,
        )?;
        if config.port == 0 {
            return Err(Error::invalid(Field::Port, Invalid::OutOfRange));
        }
        if config.keepalive_s == 0 || config.keepalive_s > MAX_KEEPALIVE_S {
            return Err(Error::invalid(Field::Keepalive, Invalid::OutOfRange));
        }
        let id = config.client_id.as_bytes();
        check_quoted(Field::ClientId, id, MAX_CLIENT_ID_LEN, Empty::Refused)?;
        check_quoted(
            Field::Username,
            config.username.as_bytes(),
            MAX_CREDENTIAL_LEN,
            Empty::Allowed,
        )?;
        check_quoted(
            Field::Password,
            config.password.as_bytes(),
            MAX_CREDENTIAL_LEN,
            Empty::Allowed,
        )?;
        if let Some(will) = &config.will {
            check_will(will, MAX_WILL_LEN)?;
            no_quote(Field::WillTopic, will.topic.as_bytes())?;
            no_quote(Field::WillMessage, will.payload)?;
        }
        super::quoted_only(config)?;
        for cmd in [
            SetCfg {
                key: b"version",
                values: &[],
                value: Some(match config.version {
                    MqttVersion::V3_1 => 3,
                    _ => 4,
                }),
            },
            SetCfg {
                key: b"keepalive",
                values: &[],
                value: Some(u32::from(config.keepalive_s)),
            },
            SetCfg {
                key: b"session",
                values: &[],
                value: Some(u32::from(config.clean_session)),
            },
            SetCfg {
                key: b"recv/mode",
                values: &[0, 1],
                value: None,
            },
        ] {
            x.send(&cmd).await?;
        }
        x.send(&SetWill { will: config.will }).await?;
        let s = &mut *state;
        keep(&mut s.host, config.host);
        s.port = config.port;
        keep(&mut s.client_id, config.client_id);
        keep(&mut s.username, config.username);
        keep(&mut s.password, config.password);
        Ok(())
    }

    async fn set_tls<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
        tls: &Tls<'_>,
    ) -> Result<(), Error> {
        check_tls(tls, &OFFER)?;
        if !tls.enabled {
            return x.send(&ssl(&[0])).await.map(drop);
        }
        if tls.client.is_some() && tls.ca.is_none() {
            // `seclevel` 2, the one that presents a client certificate, verifies the server.
            return Err(Error::Unsupported(Feature::UnverifiedTls));
        }
        let (cert, key) = tls.client.unzip();
        let mut names = [None; 3];
        for (pem, name) in [tls.ca, cert, key].into_iter().zip(&mut names) {
            if let Some(pem) = pem {
                let file: [u8; 12] = file_name(pem, b".pem");
                ensure_file(x, &file, pem, tls.upload_always).await?;
                *name = Some(file);
            }
        }
        let level = match (tls.ca, tls.client) {
            (None, _) => 0,
            (Some(_), None) => 1,
            (Some(_), Some(_)) => 2,
        };
        let settings = [
            (b"sslversion".as_slice(), Some(SslValue::Int(4))),
            (b"ciphersuite", Some(SslValue::Bare(b"0XFFFF"))),
            (b"seclevel", Some(SslValue::Int(level))),
            (b"cacert", names[0].as_ref().map(|n| SslValue::File(n))),
            (b"clientcert", names[1].as_ref().map(|n| SslValue::File(n))),
            (b"clientkey", names[2].as_ref().map(|n| SslValue::File(n))),
        ];
        for (key, value) in settings {
            if let Some(value) = value {
                x.send(&SetSsl { key, value }).await?;
            }
        }
        // Firmware without the setting answers `ERROR`: it sends no server name, as before.
        tolerated(
            x.send(&SetSsl {
                key: b"sni",
                value: SslValue::Int(1),
            })
            .await,
        )?;
        x.send(&ssl(&[1, SSL_CONTEXT])).await.map(drop)
    }

    async fn connect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
    ) -> Result<(), Error> {
        if state.host.is_empty() {
            return Err(Error::NotConfigured);
        }
        let host = state.host.clone();
        let port = state.port;
        // 2: the client is open already (a reconnect after a lost session).
        let opened = x
            .send(&Open {
                host: host.as_bytes(),
                port,
            })
            .await?;
        if opened.get(0) != Some(2) {
            result_of(x, opened, false, open_failure)?;
        }
        let id = state.client_id.clone();
        let user = state.username.clone();
        let password = state.password.clone();
        let credentials = (!user.is_empty() || !password.is_empty())
            .then_some((user.as_bytes(), password.as_bytes()));
        let connected = x
            .send(&Connect {
                client_id: id.as_bytes(),
                credentials,
            })
            .await?;
        let connected = result_of(x, connected, false, link_down)?;
        match connected.get(1) {
            None | Some(0) => Ok(()),
            Some(code) => Err(Error::Module {
                kind: ErrorKind::Broker,
                detail: Detail::Connack(u8::try_from(code).unwrap_or(u8::MAX)),
            }),
        }
    }

    async fn state<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<ConnectionState, Error> {
        Ok(
            if x.send(&GetConnection).await?.get(0) == Some(STATE_CONNECTED) {
                ConnectionState::Connected
            } else {
                ConnectionState::Disconnected
            },
        )
    }

    async fn disconnect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<(), Error> {
        let done = x.send(&Disconnect).await?;
        result_of(x, done, false, link_down).map(drop)
    }

    async fn publish<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error> {
        check_topic(topic)?;
        no_quote(Field::Topic, topic.as_bytes())?;
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(Error::invalid(
                Field::Payload,
                Invalid::TooLong {
                    max: MAX_PAYLOAD_LEN,
                },
            ));
        }
        let msgid = if qos == Qos::AtMostOnce {
            0
        } else {
            state.next_msgid()
        };
        let cmd = Publish {
            msgid,
            qos,
            retain,
            topic: topic.as_bytes(),
            payload,
        };
        {
            let done = x.send(&cmd).await?;
            result_of(x, done, true, link_down)
        }
        .map(drop)
    }

    /// The MQTT rules, and no `"` (Quectel's quoted strings have no escape).
    fn check_filter(filter: &str) -> Result<(), Error> {
        check_filter(filter)?;
        no_quote(Field::TopicFilter, filter.as_bytes())
    }

    async fn subscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error> {
        Self::check_filter(filter)?;
        let msgid = state.next_msgid();
        let cmd = Subscribe {
            msgid,
            filter: filter.as_bytes(),
            qos,
        };
        let granted = {
            let done = x.send(&cmd).await?;
            result_of(x, done, true, link_down)
        }?;
        // 128: the broker refused the subscription.
        match granted.get(2) {
            Some(128) => Err(Error::Module {
                kind: ErrorKind::Broker,
                detail: Detail::Result(128),
            }),
            _ => Ok(()),
        }
    }

    async fn unsubscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        filter: &str,
    ) -> Result<(), Error> {
        check_filter(filter)?;
        no_quote(Field::TopicFilter, filter.as_bytes())?;
        let msgid = state.next_msgid();
        let cmd = Unsubscribe {
            msgid,
            filter: filter.as_bytes(),
        };
        {
            let done = x.send(&cmd).await?;
            result_of(x, done, true, link_down)
        }
        .map(drop)
    }
}
