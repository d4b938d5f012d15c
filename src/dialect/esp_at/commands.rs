//! ESP-AT's MQTT commands: every line ends with CR LF; quoted strings escape `\`, `"` and `,`.

use super::responses::{
    ConnStatus, MfgValue, PubOutcome, parse_conn_status, parse_mfg_value, parse_pub_outcome,
};
use super::types::{LINK_ID, MAX_ALPN};
use crate::command::{Completion, Encode, ModemCommand, NoResponse, command, nothing};
use crate::encode::{Line, Param};
use crate::identity::Identification;
use crate::mqtt::Qos;
use crate::mqtt::Will;

command!(
    /// `AT`: checks that the module answers.
    derived struct At;
    at = "",
    end = "\r\n",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 300,
);

command!(
    /// `ATE0`: echo off.
    derived struct EchoOff;
    at = "E0",
    end = "\r\n",
    answer = NoResponse,
    parse = nothing,
    info = "",
    timeout_ms = 1000,
);

command!(
    /// `AT+GMR`: the firmware's versions, several bare lines.
    derived struct GetVersion;
    at = "+GMR",
    end = "\r\n",
    answer = Identification,
    parse = |resp| Ok(Identification::from_answer(resp, <Self as ModemCommand>::INFO_PREFIX)),
    bare = true,
    timeout_ms = 1000,
);

/// `AT+MQTTUSERCFG=0,<scheme>,"<client id>","<user>","<password>",0,0,""`: the scheme (1 plain
/// TCP, 2 to 5 TLS), certificate and CA ids 0 (the only ones), no path.
#[derive(Debug, Clone)]
pub struct SetUserConfig<'a> {
    /// 1 TCP; 2 TLS without verification; 3 verify the server; 4 client certificate; 5 both.
    pub scheme: u32,
    /// The MQTT client identifier.
    pub client_id: &'a [u8],
    /// The user name (may be empty).
    pub username: &'a [u8],
    /// The password (may be empty).
    pub password: &'a [u8],
}

impl Encode for SetUserConfig<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(LINK_ID),
                Param::Int(self.scheme),
                Param::QuotedComma(self.client_id),
                Param::QuotedComma(self.username),
                Param::QuotedComma(self.password),
                // `<cert_key_ID>,<CA_ID>,"<path>"`: fixed, one piece (a line holds 7 params).
                Param::Unquoted(b"0,0,\"\""),
            ],
        )
        .crlf()
    }
}

command!(
    encoded SetUserConfig<'a>,
    at = "+MQTTUSERCFG",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

/// `AT+MQTTLONGCLIENTID=0,<len>` (or `LONGUSERNAME`, `LONGPASSWORD`), then after `>` the
/// field's raw bytes.
#[derive(Debug, Clone)]
pub struct SetLongField<'a> {
    /// The command, `AT+MQTTLONGCLIENTID=` and so on.
    pub command: &'static [u8],
    /// The field's bytes.
    pub value: &'a [u8],
}

/// `AT+MQTTLONGCLIENTID=`.
pub const LONG_CLIENT_ID: &[u8] = b"AT+MQTTLONGCLIENTID=";
/// `AT+MQTTLONGUSERNAME=`.
pub const LONG_USERNAME: &[u8] = b"AT+MQTTLONGUSERNAME=";
/// `AT+MQTTLONGPASSWORD=`.
pub const LONG_PASSWORD: &[u8] = b"AT+MQTTLONGPASSWORD=";

impl Encode for SetLongField<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            self.command,
            &[Param::Int(LINK_ID), Param::Int(self.value.len() as u32)],
        )
        .crlf()
    }

    fn raw(&self) -> Option<&[u8]> {
        Some(self.value)
    }
}

command!(
    encoded SetLongField<'a>,
    at = "+MQTTLONG",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 2000,
);

/// `AT+MQTTSNI=0,"<name>"`: the server name sent in the TLS handshake.
#[derive(Debug, Clone)]
pub struct SetServerName<'a> {
    /// The server name.
    pub name: &'a [u8],
}

impl Encode for SetServerName<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[Param::Int(LINK_ID), Param::QuotedComma(self.name)],
        )
        .crlf()
    }
}

command!(
    encoded SetServerName<'a>,
    at = "+MQTTSNI",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

/// `AT+MQTTALPN=0,<n>,"<p1>",…`: the ALPN protocols (one to five), offered in the TLS
/// handshake.
#[derive(Debug, Clone)]
pub struct SetAlpn<'a> {
    /// The protocols, in the order offered; more than five are not written.
    pub protocols: &'a [&'a [u8]],
}

impl Encode for SetAlpn<'_> {
    fn line(&self) -> Line<'_> {
        let mut params = [Param::Int(0); 7];
        params[0] = Param::Int(LINK_ID);
        let mut n = 2;
        for p in self.protocols.iter().take(MAX_ALPN) {
            params[n] = Param::QuotedComma(p);
            n += 1;
        }
        params[1] = Param::Int((n - 2) as u32);
        Line::new(Self::AT, &params[..n]).crlf()
    }
}

command!(
    encoded SetAlpn<'a>,
    at = "+MQTTALPN",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

/// `AT+SYSMFG=2,"<namespace>","<key>",8,<len>`: `OK`, `>`, then the value's raw bytes (a
/// certificate or key, as its PEM file holds it), then `OK`. `Debug` shows the value's length
/// only (it may be a private key).
#[derive(Clone)]
pub struct WriteBlob<'a> {
    /// The namespace (`mqtt_ca`, `mqtt_cert`, `mqtt_key`).
    pub namespace: &'static [u8],
    /// The key (named like the namespace).
    pub key: &'static [u8],
    /// The bytes stored.
    pub value: &'a [u8],
}

impl core::fmt::Debug for WriteBlob<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WriteBlob")
            .field("namespace", &self.namespace)
            .field("key", &self.key)
            .field("value", &crate::fmt::Redacted(self.value.len()))
            .finish()
    }
}

impl Encode for WriteBlob<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(2),
                Param::QuotedComma(self.namespace),
                Param::QuotedComma(self.key),
                Param::Int(8),
                Param::Int(self.value.len() as u32),
            ],
        )
        .crlf()
    }

    fn raw(&self) -> Option<&[u8]> {
        Some(self.value)
    }
}

command!(
    encoded WriteBlob<'a>,
    at = "+SYSMFG",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 10000,
);

/// `AT+SYSMFG=<op>,"<namespace>","<key>"[,5,<value>]`: reads (1), erases (0) or writes (2) a
/// u32 value; a read answers `+SYSMFG:"<namespace>","<key>",5,<value>`.
#[derive(Debug, Clone)]
pub struct MfgNumber {
    /// 0 erase, 1 read, 2 write.
    pub op: u32,
    /// The namespace.
    pub namespace: &'static [u8],
    /// The key.
    pub key: &'static [u8],
    /// The value written (op 2).
    pub value: u32,
}

impl Encode for MfgNumber {
    fn line(&self) -> Line<'_> {
        let params = [
            Param::Int(self.op),
            Param::QuotedComma(self.namespace),
            Param::QuotedComma(self.key),
            Param::Int(5),
            Param::Int(self.value),
        ];
        let n = if self.op == 2 { 5 } else { 3 };
        Line::new(Self::AT, &params[..n]).crlf()
    }
}

command!(
    encoded MfgNumber,
    at = "+SYSMFG",
    answer = MfgValue,
    parse = |r| Ok(parse_mfg_value(r, Self::HEAD)),
    timeout_ms = 2000,
);

/// `AT+MQTTCONNCFG=0,<keepalive>,<disable_clean_session>,"<lwt_topic>","<lwt_msg>",<lwt_qos>,<lwt_retain>`
/// (an empty will topic: no last will).
#[derive(Debug, Clone)]
pub struct SetConnConfig<'a> {
    /// Keepalive in seconds.
    pub keepalive_s: u16,
    /// Whether the broker keeps the session (`disable_clean_session` = 1).
    pub keep_session: bool,
    /// The last will, if any.
    pub will: Option<Will<'a>>,
}

impl Encode for SetConnConfig<'_> {
    fn line(&self) -> Line<'_> {
        let (topic, msg, qos, retain) = self.will.map_or((&b""[..], &b""[..], 0, false), |w| {
            (w.topic.as_bytes(), w.payload, w.qos as u32, w.retain)
        });
        Line::new(
            Self::AT,
            &[
                Param::Int(LINK_ID),
                Param::Int(u32::from(self.keepalive_s)),
                Param::Int(u32::from(self.keep_session)),
                Param::QuotedComma(topic),
                Param::QuotedComma(msg),
                Param::Int(qos),
                Param::Int(u32::from(retain)),
            ],
        )
        .crlf()
    }
}

command!(
    encoded SetConnConfig<'a>,
    at = "+MQTTCONNCFG",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

/// `AT+MQTTCONN=0,"<host>",<port>,0`: connects, without the module's own reconnection.
/// Answers `+MQTTCONNECTED:0,…` then `OK`, or `ERROR`.
#[derive(Debug, Clone)]
pub struct Connect<'a> {
    /// Broker host.
    pub host: &'a [u8],
    /// Broker port.
    pub port: u16,
}

impl Encode for Connect<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(LINK_ID),
                Param::QuotedComma(self.host),
                Param::Int(u32::from(self.port)),
                Param::Int(0),
            ],
        )
        .crlf()
    }
}

command!(
    encoded Connect<'a>,
    at = "+MQTTCONN",
    answer = NoResponse,
    parse = nothing,
    info = "+MQTTCONNECTED",
    // ERROR: not connected, or the broker unreachable (docs/DIALECTS.md, "Errors").
    failure = crate::error::link_down,
    timeout_ms = 30000,
);

command!(
    /// `AT+MQTTCONN?`: the link's state.
    derived struct GetConnection;
    at = "+MQTTCONN?",
    end = "\r\n",
    answer = ConnStatus,
    parse = |resp| parse_conn_status(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTCONN",
    timeout_ms = 1000,
);

/// `AT+MQTTPUBRAW=0,"<topic>",<len>,<qos>,<retain>`: `OK`, `>`, the payload's raw bytes, then
/// `+MQTTPUB:OK` or `+MQTTPUB:FAIL`.
#[derive(Debug, Clone)]
pub struct PublishRaw<'a> {
    /// The topic.
    pub topic: &'a [u8],
    /// The payload, any bytes.
    pub payload: &'a [u8],
    /// Quality of service.
    pub qos: Qos,
    /// Retain flag.
    pub retain: bool,
}

impl Encode for PublishRaw<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(LINK_ID),
                Param::QuotedComma(self.topic),
                Param::Int(self.payload.len() as u32),
                Param::Int(self.qos as u32),
                Param::Int(u32::from(self.retain)),
            ],
        )
        .crlf()
    }

    fn raw(&self) -> Option<&[u8]> {
        Some(self.payload)
    }

    fn done(&self) -> Option<Completion> {
        Some(Completion::new(
            <Self as ModemCommand>::INFO_PREFIX,
            b"",
            false,
        ))
    }
}

command!(
    encoded PublishRaw<'a>,
    at = "+MQTTPUBRAW",
    answer = PubOutcome,
    parse = |resp| parse_pub_outcome(resp, <Self as ModemCommand>::INFO_PREFIX),
    info = "+MQTTPUB",
    // ERROR: not connected, or the broker unreachable (docs/DIALECTS.md, "Errors").
    failure = crate::error::link_down,
    timeout_ms = 10000,
);

/// `AT+MQTTPUB=0,"<topic>","",<qos>,<retain>`: an empty message (the raw form needs a length
/// of at least 1).
#[derive(Debug, Clone)]
pub struct PublishEmpty<'a> {
    /// The topic.
    pub topic: &'a [u8],
    /// Quality of service.
    pub qos: Qos,
    /// Retain flag.
    pub retain: bool,
}

impl Encode for PublishEmpty<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[
                Param::Int(LINK_ID),
                Param::QuotedComma(self.topic),
                Param::QuotedComma(b""),
                Param::Int(self.qos as u32),
                Param::Int(u32::from(self.retain)),
            ],
        )
        .crlf()
    }
}

command!(
    encoded PublishEmpty<'a>,
    at = "+MQTTPUB",
    answer = NoResponse,
    parse = nothing,
    // ERROR: not connected, or the broker unreachable (docs/DIALECTS.md, "Errors").
    failure = crate::error::link_down,
    timeout_ms = 10000,
);

/// `AT+MQTTSUB=0,"<filter>",<qos>`; `ALREADY SUBSCRIBE` before `OK` is success.
#[derive(Debug, Clone)]
pub struct Subscribe<'a> {
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
                Param::Int(LINK_ID),
                Param::QuotedComma(self.filter),
                Param::Int(self.qos as u32),
            ],
        )
        .crlf()
    }
}

command!(
    encoded Subscribe<'a>,
    at = "+MQTTSUB",
    answer = NoResponse,
    parse = nothing,
    bare = true,
    timeout_ms = 10000,
);

/// `AT+MQTTUNSUB=0,"<filter>"`; `NO UNSUBSCRIBE` before `OK` is success.
#[derive(Debug, Clone)]
pub struct Unsubscribe<'a> {
    /// The topic filter.
    pub filter: &'a [u8],
}

impl Encode for Unsubscribe<'_> {
    fn line(&self) -> Line<'_> {
        Line::new(
            Self::AT,
            &[Param::Int(LINK_ID), Param::QuotedComma(self.filter)],
        )
        .crlf()
    }
}

command!(
    encoded Unsubscribe<'a>,
    at = "+MQTTUNSUB",
    answer = NoResponse,
    parse = nothing,
    bare = true,
    timeout_ms = 10000,
);

/// `AT+MQTTCLEAN=0`: closes the connection and frees the link.
#[derive(Debug, Clone)]
pub struct Clean;

impl Encode for Clean {
    fn line(&self) -> Line<'_> {
        Line::new(Self::AT, &[Param::Int(LINK_ID)]).crlf()
    }
}

command!(
    encoded Clean,
    at = "+MQTTCLEAN",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 5000,
);
