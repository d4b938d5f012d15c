//! Quectel's `AT+QMT*` commands for client 0. Strings are quoted with no escapes (a `"` is
//! refused before a byte is written); most commands answer `OK`, then a result URC.

use super::responses::{
    FileSize, Numbers, Uploaded, parse_file_size, parse_numbers, parse_uploaded,
};
use super::types::CLIENT;
use crate::command::{Completion, Encode, ModemCommand, NoResponse, command, nothing};
use crate::encode::{Line, Param};
use crate::mqtt::Qos;
use crate::mqtt::Will;

/// The key `0,<msgid>,` that ties a result URC to its command.
fn key(msgid: Option<u16>) -> ([u8; 8], usize) {
    let mut key = [0u8; 8];
    key[..2].copy_from_slice(b"0,");
    let mut at = 2;
    if let Some(id) = msgid {
        let mut digits = [0u8; 5];
        let mut n = 0;
        let mut v = id;
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for d in digits[..n].iter().rev() {
            key[at] = *d;
            at += 1;
        }
        key[at] = b',';
        at += 1;
    }
    (key, at)
}

/// The result URC `prefix: 0,[<msgid>,]…` after `OK`.
fn result_urc(prefix: &'static [u8], msgid: Option<u16>) -> Completion {
    let (key, len) = key(msgid);
    Completion::new(prefix, &key[..len], true)
}

/// `AT+QMTCFG="<key>",0,<values>`.
#[derive(Debug, Clone)]
pub struct SetCfg {
    /// The setting: `version`, `keepalive`, `session`, `recv/mode`, `ssl`.
    pub key: &'static [u8],
    /// Its values (one or two).
    pub values: &'static [u32],
    /// A value computed at run time, after `values` (keepalive, session flag).
    pub value: Option<u32>,
}

impl Encode for SetCfg {
    fn line(&self) -> Line<'_> {
        let mut params = [Param::Int(0); 4];
        params[0] = Param::QuotedRaw(self.key);
        params[1] = Param::Int(CLIENT);
        let mut n = 2;
        for v in self.values.iter().copied().chain(self.value) {
            if n < params.len() {
                params[n] = Param::Int(v);
                n += 1;
            }
        }
        Line::new(Self::AT, &params[..n])
    }
}

command!(
    encoded SetCfg,
    at = "+QMTCFG",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

/// `AT+QMTCFG="will",0,1,<qos>,<retain>,"<topic>","<message>"`, or `AT+QMTCFG="will",0,0`
/// without a will.
#[derive(Debug, Clone)]
pub struct SetWill<'a> {
    /// The last will, if any.
    pub will: Option<Will<'a>>,
}

impl Encode for SetWill<'_> {
    fn line(&self) -> Line<'_> {
        let head = [Param::QuotedRaw(b"will"), Param::Int(CLIENT)];
        match self.will {
            Some(w) => Line::new(
                Self::AT,
                &[
                    head[0],
                    head[1],
                    Param::Int(1),
                    Param::Int(w.qos as u32),
                    Param::Int(u32::from(w.retain)),
                    Param::QuotedRaw(w.topic.as_bytes()),
                    Param::QuotedRaw(w.payload),
                ],
            ),
            None => Line::new(Self::AT, &[head[0], head[1], Param::Int(0)]),
        }
    }
}

command!(
    encoded SetWill<'a>,
    at = "+QMTCFG",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

/// `AT+QMTOPEN=0,"<host>",<port>` → `OK`, then `+QMTOPEN: 0,<result>` (0 opened).
#[derive(Debug, Clone)]
pub struct Open<'a> {
    /// Broker host.
    pub host: &'a [u8],
    /// Broker port.
    pub port: u16,
}

impl Encode for Open<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(CLIENT),
                Param::QuotedRaw(self.host),
                Param::Int(u32::from(self.port)),
            ],
        )
    }

    fn done(&self) -> Option<Completion> {
        Some(result_urc(Self::HEAD, None))
    }
}

command!(
    encoded Open<'a>,
    at = "+QMTOPEN",
    answer = Numbers,
    parse = |r| parse_numbers(r, Self::HEAD),
    timeout_ms = 75000,
);

/// `AT+QMTCONN=0,"<client id>"[,"<user>","<password>"]` → `OK`, then
/// `+QMTCONN: 0,<result>,<ret_code>`.
#[derive(Debug, Clone)]
pub struct Connect<'a> {
    /// The MQTT client identifier.
    pub client_id: &'a [u8],
    /// User name and password, if any.
    pub credentials: Option<(&'a [u8], &'a [u8])>,
}

impl Encode for Connect<'_> {
    fn line(&self) -> Line<'_> {
        let id = [Param::Int(CLIENT), Param::QuotedRaw(self.client_id)];
        match self.credentials {
            Some((user, password)) => Line::new(
                Self::AT,
                &[
                    id[0],
                    id[1],
                    Param::QuotedRaw(user),
                    Param::QuotedRaw(password),
                ],
            ),
            None => Line::new(Self::AT, &id),
        }
    }

    fn done(&self) -> Option<Completion> {
        Some(result_urc(Self::HEAD, None))
    }
}

command!(
    encoded Connect<'a>,
    at = "+QMTCONN",
    answer = Numbers,
    parse = |r| parse_numbers(r, Self::HEAD),
    timeout_ms = 20000,
);

command!(
    /// `AT+QMTCONN?` → `+QMTCONN: 0,<state>` (3: connected), or a bare `OK` when the client is
    /// not open.
    derived struct GetConnection;
    at = "+QMTCONN?",
    answer = Numbers,
    parse = |resp| parse_numbers(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+QMTCONN",
    timeout_ms = 1000,
);

/// `AT+QMTDISC=0` → `OK`, then `+QMTDISC: 0,<result>`.
#[derive(Debug, Clone)]
pub struct Disconnect;

impl Encode for Disconnect {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &[Param::Int(CLIENT)])
    }

    fn done(&self) -> Option<Completion> {
        Some(result_urc(Self::HEAD, None))
    }
}

command!(
    encoded Disconnect,
    at = "+QMTDISC",
    answer = Numbers,
    parse = |r| parse_numbers(r, Self::HEAD),
    timeout_ms = 20000,
);

/// `AT+QMTPUBEX=0,<msgid>,<qos>,<retain>,"<topic>",<len>` → `>`, the payload's raw bytes,
/// `OK`, then `+QMTPUBEX: 0,<msgid>,<result>[,<value>]`.
#[derive(Debug, Clone)]
pub struct Publish<'a> {
    /// 0 for QoS 0, else 1 to 65535.
    pub msgid: u16,
    /// Quality of service.
    pub qos: Qos,
    /// Retain flag.
    pub retain: bool,
    /// The topic.
    pub topic: &'a [u8],
    /// The payload, any bytes.
    pub payload: &'a [u8],
}

impl Encode for Publish<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(CLIENT),
                Param::Int(u32::from(self.msgid)),
                Param::Int(self.qos as u32),
                Param::Int(u32::from(self.retain)),
                Param::QuotedRaw(self.topic),
                Param::Int(self.payload.len() as u32),
            ],
        )
    }

    fn raw(&self) -> Option<&[u8]> {
        Some(self.payload)
    }

    fn done(&self) -> Option<Completion> {
        Some(result_urc(Self::HEAD, Some(self.msgid)))
    }
}

command!(
    encoded Publish<'a>,
    at = "+QMTPUBEX",
    answer = Numbers,
    parse = |r| parse_numbers(r, Self::HEAD),
    timeout_ms = 20000,
);

/// `AT+QMTSUB=0,<msgid>,"<filter>",<qos>` → `OK`, then
/// `+QMTSUB: 0,<msgid>,<result>,<granted qos>`.
#[derive(Debug, Clone)]
pub struct Subscribe<'a> {
    /// 1 to 65535.
    pub msgid: u16,
    /// The topic filter.
    pub filter: &'a [u8],
    /// Quality of service.
    pub qos: Qos,
}

impl Encode for Subscribe<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(CLIENT),
                Param::Int(u32::from(self.msgid)),
                Param::QuotedRaw(self.filter),
                Param::Int(self.qos as u32),
            ],
        )
    }

    fn done(&self) -> Option<Completion> {
        Some(result_urc(Self::HEAD, Some(self.msgid)))
    }
}

command!(
    encoded Subscribe<'a>,
    at = "+QMTSUB",
    answer = Numbers,
    parse = |r| parse_numbers(r, Self::HEAD),
    timeout_ms = 20000,
);

/// `AT+QMTUNS=0,<msgid>,"<filter>"` → `OK`, then `+QMTUNS: 0,<msgid>,<result>`.
#[derive(Debug, Clone)]
pub struct Unsubscribe<'a> {
    /// 1 to 65535.
    pub msgid: u16,
    /// The topic filter.
    pub filter: &'a [u8],
}

impl Encode for Unsubscribe<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(CLIENT),
                Param::Int(u32::from(self.msgid)),
                Param::QuotedRaw(self.filter),
            ],
        )
    }

    fn done(&self) -> Option<Completion> {
        Some(result_urc(Self::HEAD, Some(self.msgid)))
    }
}

command!(
    encoded Unsubscribe<'a>,
    at = "+QMTUNS",
    answer = Numbers,
    parse = |r| parse_numbers(r, Self::HEAD),
    timeout_ms = 20000,
);

/// `AT+QFLST="<name>"` → `+QFLST: "<name>",<size>` and `OK` when the file is stored.
#[derive(Debug, Clone)]
pub struct ListFile<'a> {
    /// The file's name.
    pub name: &'a [u8],
}

impl Encode for ListFile<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &[Param::QuotedRaw(self.name)])
    }
}

command!(
    encoded ListFile<'a>,
    at = "+QFLST",
    answer = FileSize,
    parse = |r| Ok(parse_file_size(r, Self::HEAD)),
    timeout_ms = 1000,
);

/// `AT+QFDEL="<name>"` → `OK`.
#[derive(Debug, Clone)]
pub struct DeleteFile<'a> {
    /// The file's name.
    pub name: &'a [u8],
}

impl Encode for DeleteFile<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &[Param::QuotedRaw(self.name)])
    }
}

command!(
    encoded DeleteFile<'a>,
    at = "+QFDEL",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

/// How long the module waits for a file's data after `CONNECT`, in seconds.
pub const UPLOAD_WAIT_S: u32 = 60;

/// `AT+QFUPL="<name>",<len>,60` → `CONNECT`, the file's raw bytes, then
/// `+QFUPL: <len>,<checksum>` and `OK`. `Debug` shows the data's length only (it may be a
/// private key).
#[derive(Clone)]
pub struct Upload<'a> {
    /// The file's name.
    pub name: &'a [u8],
    /// Its bytes.
    pub data: &'a [u8],
}

impl core::fmt::Debug for Upload<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("data", &crate::fmt::Redacted(self.data.len()))
            .finish()
    }
}

impl Encode for Upload<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::QuotedRaw(self.name),
                Param::Int(self.data.len() as u32),
                Param::Int(UPLOAD_WAIT_S),
            ],
        )
    }

    fn raw(&self) -> Option<&[u8]> {
        Some(self.data)
    }
}

command!(
    encoded Upload<'a>,
    at = "+QFUPL",
    answer = Uploaded,
    parse = |r| parse_uploaded(r, Self::HEAD),
    prompt = b"CONNECT",
    timeout_ms = 10000,
);

/// A value of `AT+QSSLCFG`.
#[derive(Debug, Clone, Copy)]
pub enum SslValue<'a> {
    /// A number.
    Int(u32),
    /// A bare token (`0XFFFF`).
    Bare(&'static [u8]),
    /// A file name, quoted.
    File(&'a [u8]),
}

/// `AT+QSSLCFG="<setting>",<ctx>,<value>` for SSL context [`SSL_CONTEXT`](super::types::SSL_CONTEXT) → `OK`.
#[derive(Debug, Clone)]
pub struct SetSsl<'a> {
    /// `sslversion`, `ciphersuite`, `seclevel`, `cacert`, `clientcert`, `clientkey`, `sni`.
    pub key: &'static [u8],
    /// Its value.
    pub value: SslValue<'a>,
}

impl Encode for SetSsl<'_> {
    fn line(&self) -> Line<'_> {
        let value = match self.value {
            SslValue::Int(n) => Param::Int(n),
            SslValue::Bare(t) => Param::Unquoted(t),
            SslValue::File(name) => Param::QuotedRaw(name),
        };
        Line::new(
            Self::AT,
            &[
                Param::QuotedRaw(self.key),
                Param::Int(super::types::SSL_CONTEXT),
                value,
            ],
        )
    }
}

command!(
    encoded SetSsl<'a>,
    at = "+QSSLCFG",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);
