//! ESP-AT's reading of a command line (docs/DIALECTS.md, "ESP-AT", general rules and
//! decisions), written independently of the driver.
//!
//! Strings must be quoted and integers must not; inside quotes a backslash takes the next byte
//! literally (`\\`, `\"`, `\,`), and an unescaped comma ends the parameter, so an unterminated
//! quote refuses the line. A line of 256 bytes or more is refused, as is a NUL byte anywhere.
//! It never panics.

// Taken in by path, not by a crate path, for the fuzz crate's sake (see lex.rs); so the
// simulator compiles these files once per parser.
#[path = "../../lex.rs"]
#[allow(clippy::duplicate_mod)]
mod lex;
#[path = "../param.rs"]
#[allow(clippy::duplicate_mod)]
mod param;

use self::lex::Line;
pub use self::param::Param;
use self::param::{bytes, int, nonempty, string};
use crate::at::AtError;

/// Longest command line accepted, terminator excluded ("less than 256 bytes").
pub const MAX_LINE_LEN: usize = 255;
/// Longest host name of `AT+MQTTCONN`.
pub const MAX_HOST: usize = 128;
/// Longest topic of `AT+MQTTPUB`, `PUBRAW`, `SUB`, `UNSUB` and of the last will.
pub const MAX_TOPIC: usize = 128;
/// Longest `<length>` of `AT+MQTTLONGCLIENTID`/`USERNAME`/`PASSWORD`.
pub const MAX_LONG: usize = 1024;
/// Longest `<length>` of `AT+MQTTPUBRAW` ("limited by available memory": 1 MiB here).
pub const MAX_RAW: usize = 1 << 20;
/// Longest keepalive, in seconds.
pub const MAX_KEEPALIVE: u32 = 7200;
/// Longest namespace or key of the manufacturing NVS (NVS names are 15 bytes at most).
pub const MAX_MFG_NAME: usize = 15;
/// Longest string or binary value of `AT+SYSMFG` (the manual names no limit: 64 KiB here).
pub const MAX_MFG_LEN: usize = 1 << 16;
/// Most ALPN protocols of `AT+MQTTALPN`.
pub const MAX_ALPN: usize = 5;

/// `AT+SYSMFG` value types.
pub mod mfg_type {
    /// `u8`
    pub const U8: u8 = 1;
    /// `i8`
    pub const I8: u8 = 2;
    /// `u16`
    pub const U16: u8 = 3;
    /// `i16`
    pub const I16: u8 = 4;
    /// `u32`
    pub const U32: u8 = 5;
    /// `i32`
    pub const I32: u8 = 6;
    /// Text string (written through the prompt).
    pub const STRING: u8 = 7;
    /// Binary data: certificates, keys (written through the prompt).
    pub const BINARY: u8 = 8;
}

/// What `AT+SYSMFG=2` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfgValue {
    /// An integer of type 1..=6, within its type's range.
    Int(u8, i64),
    /// A string (7) or binary (8) value of this many bytes, sent after the prompt.
    Prompted(u8, usize),
}

/// Which field an `AT+MQTTLONG*` command sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongField {
    /// `AT+MQTTLONGCLIENTID`
    ClientId,
    /// `AT+MQTTLONGUSERNAME`
    Username,
    /// `AT+MQTTLONGPASSWORD`
    Password,
}

/// `AT+MQTTUSERCFG` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCfg {
    /// 1 TCP, 2..5 TLS variants, 6 WebSocket, 7..10 secure WebSocket variants.
    pub scheme: u8,
    /// MQTT client id (at most 256 bytes).
    pub client_id: String,
    /// User name (at most 64 bytes; empty = none).
    pub username: String,
    /// Password (at most 64 bytes; empty = none).
    pub password: String,
    /// WebSocket path (at most 32 bytes).
    pub path: String,
}

/// `AT+MQTTCONNCFG` fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnCfg {
    /// Keepalive in seconds as sent (0 means 120).
    pub keepalive: u16,
    /// `<disable_clean_session>`: 1 resumes the session.
    pub disable_clean_session: bool,
    /// Last-will topic; empty = no last will.
    pub lwt_topic: String,
    /// Last-will message.
    pub lwt_msg: Vec<u8>,
    /// Last-will QoS.
    pub lwt_qos: u8,
    /// Last-will retain flag.
    pub lwt_retain: bool,
}

/// A fully parsed ESP-AT command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `AT`
    Attention,
    /// `ATE0` / `ATE1`
    Echo(bool),
    /// `AT+GMR`
    Version,
    /// `AT+RST`
    Restart,
    /// `AT+MQTTUSERCFG=0,<scheme>,"<client_id>","<username>","<password>",0,0,"<path>"`
    UserCfg(UserCfg),
    /// `AT+MQTTLONGCLIENTID=0,<length>` (and USERNAME, PASSWORD)
    Long(LongField, usize),
    /// `AT+MQTTCONNCFG=0,<keepalive>,<disable_clean_session>,"<lwt_topic>","<lwt_msg>",<lwt_qos>,<lwt_retain>`
    ConnCfg(ConnCfg),
    /// `AT+MQTTCONN=0,"<host>",<port>,<reconnect>`
    Conn {
        /// Broker host name or address.
        host: String,
        /// Broker port (1..=65535).
        port: u16,
        /// Automatic reconnection asked for.
        reconnect: bool,
    },
    /// `AT+MQTTCONN?`
    ConnQuery,
    /// `AT+MQTTPUB=0,"<topic>","<data>",<qos>,<retain>`
    Pub {
        /// Topic name (no wildcards).
        topic: String,
        /// Payload, unescaped.
        data: Vec<u8>,
        /// 0, 1 or 2.
        qos: u8,
        /// Retain flag.
        retain: bool,
    },
    /// `AT+MQTTPUBRAW=0,"<topic>",<length>,<qos>,<retain>`
    PubRaw {
        /// Topic name (no wildcards).
        topic: String,
        /// How many raw bytes follow the prompt.
        len: usize,
        /// 0, 1 or 2.
        qos: u8,
        /// Retain flag.
        retain: bool,
    },
    /// `AT+MQTTSUB=0,"<topic>",<qos>`
    Sub {
        /// Topic filter.
        topic: String,
        /// Requested QoS.
        qos: u8,
    },
    /// `AT+MQTTSUB?`
    SubQuery,
    /// `AT+MQTTUNSUB=0,"<topic>"`
    Unsub(String),
    /// `AT+MQTTCLEAN=0`
    Clean,
    /// `AT+MQTTSNI=0,"<sni>"`
    Sni(String),
    /// `AT+MQTTALPN=0,<n>[,"<alpn>"...]` (no protocol: cleared).
    Alpn(Vec<Vec<u8>>),
    /// `AT+SYSMFG?`: the namespaces.
    MfgQuery,
    /// `AT+SYSMFG=0,"<namespace>"[,"<key>"]`: erase a key, or the whole namespace.
    MfgErase {
        /// Namespace.
        namespace: String,
        /// Key; `None`: every key of the namespace.
        key: Option<String>,
    },
    /// `AT+SYSMFG=1,"<namespace>"[,"<key>"[,<offset>,<length>]]`: read a key, or list the
    /// namespace's keys.
    MfgRead {
        /// Namespace.
        namespace: String,
        /// Key; `None`: list the keys.
        key: Option<String>,
        /// Offset and length of a string or binary value's part.
        range: Option<(usize, usize)>,
    },
    /// `AT+SYSMFG=2,"<namespace>","<key>",<type>,<value>` (types 1..=6) or
    /// `AT+SYSMFG=2,"<namespace>","<key>",<type>,<length>` (types 7 and 8, then the prompt).
    MfgWrite {
        /// Namespace.
        namespace: String,
        /// Key.
        key: String,
        /// The value, or how it follows.
        value: MfgValue,
    },
}

/// Split the text after `=` into parameters.
pub fn split_params(s: &[u8]) -> Result<Vec<Param>, AtError> {
    param::split(s, false, quoted)
}

/// A quoted string from just after its opening quote: a backslash takes the next byte
/// literally; a bare comma inside the quotes (it must be escaped) or no closing quote refuses
/// the line.
fn quoted(s: &[u8], mut i: usize) -> Result<(Vec<u8>, usize), AtError> {
    let mut text = Vec::new();
    loop {
        match s.get(i) {
            None | Some(b',') => return Err(AtError::InvalidParameter),
            Some(b'\\') => {
                let Some(&b) = s.get(i + 1) else {
                    return Err(AtError::InvalidParameter);
                };
                text.push(b);
                i += 2;
            }
            Some(b'"') => return Ok((text, i)),
            Some(&b) => {
                text.push(b);
                i += 1;
            }
        }
    }
}

/// An integer that may be omitted (then `default`).
fn int_or(p: &Param, max: u32, default: u32) -> Result<u32, AtError> {
    match p {
        Param::Omitted => Ok(default),
        p => int(p, 0, max),
    }
}

fn link_id(p: &Param) -> Result<(), AtError> {
    int(p, 0, 0).map(drop) // "currently only supports link ID 0"
}

fn topic(p: &Param) -> Result<String, AtError> {
    nonempty(p, MAX_TOPIC)
}

/// A topic to publish to: also no wildcards.
fn topic_name(p: &Param) -> Result<String, AtError> {
    param::topic_name(p, MAX_TOPIC)
}

/// Parse one command line (without its line end).
pub fn parse(line: &[u8]) -> Result<Command, AtError> {
    if line.len() > MAX_LINE_LEN || line.contains(&0) {
        return Err(AtError::InvalidParameter);
    }
    let (name, tail) = match lex::split(line)? {
        Line::Attention => return Ok(Command::Attention),
        Line::Basic(basic) => return lex::echo(&basic, false).map(Command::Echo),
        Line::Extended(name, tail) => (name, tail),
    };
    use Command as C;
    let known = matches!(
        name.as_slice(),
        b"+GMR"
            | b"+RST"
            | b"+MQTTUSERCFG"
            | b"+MQTTLONGCLIENTID"
            | b"+MQTTLONGUSERNAME"
            | b"+MQTTLONGPASSWORD"
            | b"+MQTTCONNCFG"
            | b"+MQTTCONN"
            | b"+MQTTPUB"
            | b"+MQTTPUBRAW"
            | b"+MQTTSUB"
            | b"+MQTTUNSUB"
            | b"+MQTTCLEAN"
            | b"+MQTTSNI"
            | b"+MQTTALPN"
            | b"+SYSMFG"
    );
    if !known {
        return Err(AtError::Unknown);
    }
    let cmd = match (name.as_slice(), tail) {
        (b"+GMR", b"") => C::Version,
        (b"+RST", b"") => C::Restart,
        (b"+MQTTCONN", b"?") => C::ConnQuery,
        (b"+MQTTSUB", b"?") => C::SubQuery,
        (b"+SYSMFG", b"?") => C::MfgQuery,
        (b"+SYSMFG", [b'=', args @ ..]) if !args.is_empty() && args != b"?" => sysmfg(args)?,
        (_, [b'=', args @ ..]) if !args.is_empty() && args != b"?" => {
            set(&name, &split_params(args)?)?
        }
        _ => return Err(AtError::InvalidParameter), // known name, unsupported form
    };
    Ok(cmd)
}

fn set(name: &[u8], p: &[Param]) -> Result<Command, AtError> {
    use Command as C;
    Ok(match (name, p) {
        (b"+MQTTUSERCFG", [link, scheme, id, user, pass, cert, ca, path]) => {
            link_id(link)?;
            int(cert, 0, 0)?;
            int(ca, 0, 0)?;
            C::UserCfg(UserCfg {
                scheme: int(scheme, 1, 10)? as u8,
                client_id: string(id, 256)?,
                username: string(user, 64)?,
                password: string(pass, 64)?,
                path: string(path, 32)?,
            })
        }
        (b"+MQTTLONGCLIENTID" | b"+MQTTLONGUSERNAME" | b"+MQTTLONGPASSWORD", [link, len]) => {
            link_id(link)?;
            let field = match name {
                b"+MQTTLONGCLIENTID" => LongField::ClientId,
                b"+MQTTLONGUSERNAME" => LongField::Username,
                _ => LongField::Password,
            };
            C::Long(field, int(len, 1, MAX_LONG as u32)? as usize)
        }
        (
            b"+MQTTCONNCFG",
            [
                link,
                keepalive,
                disable_clean,
                lwt_topic,
                lwt_msg,
                lwt_qos,
                lwt_retain,
            ],
        ) => {
            link_id(link)?;
            C::ConnCfg(ConnCfg {
                keepalive: int(keepalive, 0, MAX_KEEPALIVE)? as u16,
                disable_clean_session: int(disable_clean, 0, 1)? == 1,
                lwt_topic: string(lwt_topic, MAX_TOPIC)?,
                lwt_msg: bytes(lwt_msg, MAX_TOPIC)?,
                lwt_qos: int_or(lwt_qos, 2, 0)? as u8,
                lwt_retain: int_or(lwt_retain, 1, 0)? == 1,
            })
        }
        (b"+MQTTCONN", [link, host, port, reconnect]) => {
            link_id(link)?;
            C::Conn {
                host: nonempty(host, MAX_HOST)?,
                port: int(port, 1, 65535)? as u16,
                reconnect: int(reconnect, 0, 1)? == 1,
            }
        }
        (b"+MQTTPUB", [link, t, data, qos, retain]) => {
            link_id(link)?;
            C::Pub {
                topic: topic_name(t)?,
                data: bytes(data, MAX_LINE_LEN)?,
                qos: int_or(qos, 2, 0)? as u8,
                retain: int_or(retain, 1, 0)? == 1,
            }
        }
        (b"+MQTTPUBRAW", [link, t, len, qos, retain]) => {
            link_id(link)?;
            C::PubRaw {
                topic: topic_name(t)?,
                len: int(len, 1, MAX_RAW as u32)? as usize,
                qos: int_or(qos, 2, 0)? as u8,
                retain: int_or(retain, 1, 0)? == 1,
            }
        }
        (b"+MQTTSUB", [link, t, qos]) => {
            link_id(link)?;
            C::Sub {
                topic: topic(t)?,
                qos: int_or(qos, 2, 0)? as u8,
            }
        }
        (b"+MQTTUNSUB", [link, t]) => {
            link_id(link)?;
            C::Unsub(topic(t)?)
        }
        (b"+MQTTCLEAN", [link]) => {
            link_id(link)?;
            C::Clean
        }
        (b"+MQTTSNI", [link, sni]) => {
            link_id(link)?;
            C::Sni(nonempty(sni, MAX_LINE_LEN)?)
        }
        (b"+MQTTALPN", [link, n, names @ ..]) => {
            link_id(link)?;
            if int(n, 0, MAX_ALPN as u32)? as usize != names.len() {
                return Err(AtError::InvalidParameter);
            }
            let names = names
                .iter()
                .map(|p| match bytes(p, MAX_LINE_LEN)? {
                    b if b.is_empty() => Err(AtError::InvalidParameter),
                    b => Ok(b),
                })
                .collect::<Result<_, _>>()?;
            C::Alpn(names)
        }
        _ => return Err(AtError::InvalidParameter),
    })
}

/// `AT+SYSMFG=...`: a negative integer value (types 2, 4, 6) is read apart, as the shared
/// splitter takes unsigned integers only.
fn sysmfg(args: &[u8]) -> Result<Command, AtError> {
    let (p, negative) = match split_params(args) {
        Ok(p) => (p, None),
        Err(e) => {
            let comma = args.iter().rposition(|&b| b == b',').ok_or(e)?;
            let magnitude = args[comma + 1..]
                .strip_prefix(b"-")
                .and_then(lex::decimal)
                .ok_or(e)?;
            (split_params(&args[..comma])?, Some(-i64::from(magnitude)))
        }
    };
    let name = |p: &Param| nonempty(p, MAX_MFG_NAME);
    use Command as C;
    Ok(match (&p[..], negative) {
        ([op, ns], None) if int(op, 0, 0).is_ok() => C::MfgErase {
            namespace: name(ns)?,
            key: None,
        },
        ([op, ns, key], None) if int(op, 0, 0).is_ok() => C::MfgErase {
            namespace: name(ns)?,
            key: Some(name(key)?),
        },
        ([op, ns, rest @ ..], None) if int(op, 1, 1).is_ok() => {
            let (key, range) = match rest {
                [] => (None, None),
                [key] => (Some(name(key)?), None),
                [key, offset, len] => (
                    Some(name(key)?),
                    Some((
                        int(offset, 0, MAX_MFG_LEN as u32)? as usize,
                        int(len, 1, MAX_MFG_LEN as u32)? as usize,
                    )),
                ),
                _ => return Err(AtError::InvalidParameter),
            };
            C::MfgRead {
                namespace: name(ns)?,
                key,
                range,
            }
        }
        ([op, ns, key, kind, value @ ..], negative) if int(op, 2, 2).is_ok() => {
            let kind = int(kind, 1, 8)? as u8;
            let value = match (kind, value, negative) {
                (mfg_type::STRING | mfg_type::BINARY, [len], None) => {
                    MfgValue::Prompted(kind, int(len, 1, MAX_MFG_LEN as u32)? as usize)
                }
                (mfg_type::STRING | mfg_type::BINARY, ..) => return Err(AtError::InvalidParameter),
                (_, [v], None) => MfgValue::Int(kind, i64::from(int(v, 0, u32::MAX)?)),
                (_, [], Some(v)) => MfgValue::Int(kind, v),
                _ => return Err(AtError::InvalidParameter),
            };
            if let MfgValue::Int(kind, v) = value {
                let (min, max) = match kind {
                    mfg_type::U8 => (0, i64::from(u8::MAX)),
                    mfg_type::I8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
                    mfg_type::U16 => (0, i64::from(u16::MAX)),
                    mfg_type::I16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
                    mfg_type::U32 => (0, i64::from(u32::MAX)),
                    _ => (i64::from(i32::MIN), i64::from(i32::MAX)),
                };
                if !(min..=max).contains(&v) {
                    return Err(AtError::InvalidParameter);
                }
            }
            C::MfgWrite {
                namespace: name(ns)?,
                key: name(key)?,
                value,
            }
        }
        _ => return Err(AtError::InvalidParameter),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_unescapes() {
        assert_eq!(
            split_params(br#"0,"a\,b\"c\\d\x","",,7"#).unwrap(),
            vec![
                Param::Int(0),
                Param::Str(br#"a,b"c\dx"#.to_vec()),
                Param::Str(Vec::new()),
                Param::Omitted,
                Param::Int(7),
            ]
        );
        // A bare comma inside quotes, an unquoted string, junk after a quote, a lone backslash.
        assert!(split_params(br#""a,b""#).is_err());
        assert!(split_params(b"abc").is_err());
        assert!(split_params(br#""a"b"#).is_err());
        assert!(split_params(br#""a\"#).is_err());
        assert!(split_params(b"99999999999").is_err());
    }

    #[test]
    fn commands() {
        assert_eq!(parse(b"AT"), Ok(Command::Attention));
        assert_eq!(parse(b"ate0"), Ok(Command::Echo(false)));
        assert_eq!(parse(b"AT+GMR"), Ok(Command::Version));
        assert_eq!(parse(b"AT+CMEE=1"), Err(AtError::Unknown));
        assert_eq!(parse(b"AT+CFUN=1"), Err(AtError::Unknown));
        assert_eq!(
            parse(br#"AT+MQTTUSERCFG=0,1,"id\,1","u","p\"w",0,0,"""#),
            Ok(Command::UserCfg(UserCfg {
                scheme: 1,
                client_id: "id,1".into(),
                username: "u".into(),
                password: "p\"w".into(),
                path: String::new(),
            }))
        );
        assert!(parse(br#"AT+MQTTUSERCFG=1,1,"id","","",0,0,"""#).is_err());
        assert!(parse(br#"AT+MQTTUSERCFG=0,11,"id","","",0,0,"""#).is_err());
        assert!(parse(br#"AT+MQTTUSERCFG=0,1,id,"","",0,0,"""#).is_err());
        assert_eq!(
            parse(b"AT+MQTTLONGPASSWORD=0,1024"),
            Ok(Command::Long(LongField::Password, 1024))
        );
        assert!(parse(b"AT+MQTTLONGPASSWORD=0,1025").is_err());
        assert!(parse(b"AT+MQTTLONGPASSWORD=0,0").is_err());
        assert_eq!(
            parse(br#"AT+MQTTCONN=0,"127.0.0.1",1883,0"#),
            Ok(Command::Conn {
                host: "127.0.0.1".into(),
                port: 1883,
                reconnect: false
            })
        );
        assert!(parse(br#"AT+MQTTCONN=0,"h",65536,0"#).is_err());
        assert!(parse(br#"AT+MQTTCONN=0,"h",0,0"#).is_err());
        assert_eq!(
            parse(br#"AT+MQTTPUBRAW=0,"t",4096,1,1"#),
            Ok(Command::PubRaw {
                topic: "t".into(),
                len: 4096,
                qos: 1,
                retain: true
            })
        );
        assert!(parse(br#"AT+MQTTPUBRAW=0,"t/#",1,0,0"#).is_err());
        assert!(parse(br#"AT+MQTTPUBRAW=0,"t",1,3,0"#).is_err());
        assert!(parse(br#"AT+MQTTPUB=0,"t","a,b",0,0"#).is_err());
        assert_eq!(parse(b"AT+MQTTCONN?"), Ok(Command::ConnQuery));
        assert_eq!(parse(b"AT+MQTTCLEAN=0"), Ok(Command::Clean));
        assert_eq!(parse(b"AT+MQTTCLEAN"), Err(AtError::InvalidParameter));
        let long = format!("AT+MQTTPUB=0,\"t\",\"{}\",0,0", "x".repeat(240));
        assert_eq!(parse(long.as_bytes()), Err(AtError::InvalidParameter));
        assert_eq!(
            parse(b"AT+MQTTPUB=0,\"t\",\"a\0\",0,0"),
            Err(AtError::InvalidParameter)
        );
    }

    #[test]
    fn sysmfg() {
        let write = |namespace: &str, key: &str, value| {
            Ok(Command::MfgWrite {
                namespace: namespace.into(),
                key: key.into(),
                value,
            })
        };
        assert_eq!(
            parse(br#"AT+SYSMFG=2,"mqtt_ca","mqtt_ca",8,1164"#),
            write("mqtt_ca", "mqtt_ca", MfgValue::Prompted(8, 1164))
        );
        assert_eq!(
            parse(br#"AT+SYSMFG=2,"mqtt_modem","ca",5,4294967295"#),
            write("mqtt_modem", "ca", MfgValue::Int(5, 4_294_967_295))
        );
        assert_eq!(
            parse(br#"AT+SYSMFG=2,"ns","k",6,-2147483648"#),
            write("ns", "k", MfgValue::Int(6, -2_147_483_648))
        );
        assert_eq!(
            parse(br#"AT+SYSMFG=2,"ns","k",7,1"#),
            write("ns", "k", MfgValue::Prompted(7, 1))
        );
        for bad in [
            &br#"AT+SYSMFG=2,"ns","k",5,4294967296"#[..],
            br#"AT+SYSMFG=2,"ns","k",5,-1"#,
            br#"AT+SYSMFG=2,"ns","k",2,-129"#,
            br#"AT+SYSMFG=2,"ns","k",1,256"#,
            br#"AT+SYSMFG=2,"ns","k",8,0"#,
            br#"AT+SYSMFG=2,"ns","k",8,65537"#,
            br#"AT+SYSMFG=2,"ns","k",8,-1"#,
            br#"AT+SYSMFG=2,"ns","k",9,1"#,
            br#"AT+SYSMFG=2,"ns","k",5"#,
            br#"AT+SYSMFG=2,"ns""#,
            br#"AT+SYSMFG=2,"ns\,-1""#,
            br#"AT+SYSMFG=3,"ns","k""#,
            br#"AT+SYSMFG=0,"","k""#,
            br#"AT+SYSMFG=0,"ns","0123456789abcdef""#,
            br#"AT+SYSMFG=1,"ns","k",0"#,
            b"AT+SYSMFG=1,ns",
            b"AT+SYSMFG",
        ] {
            assert_eq!(parse(bad), Err(AtError::InvalidParameter), "{bad:?}");
        }
        assert_eq!(
            parse(br#"AT+SYSMFG=0,"mqtt_modem","ca""#),
            Ok(Command::MfgErase {
                namespace: "mqtt_modem".into(),
                key: Some("ca".into())
            })
        );
        assert_eq!(
            parse(br#"AT+SYSMFG=0,"mqtt_ca""#),
            Ok(Command::MfgErase {
                namespace: "mqtt_ca".into(),
                key: None
            })
        );
        assert_eq!(
            parse(br#"AT+SYSMFG=1,"mqtt_modem","ca""#),
            Ok(Command::MfgRead {
                namespace: "mqtt_modem".into(),
                key: Some("ca".into()),
                range: None
            })
        );
        assert_eq!(
            parse(br#"AT+SYSMFG=1,"mqtt_ca""#),
            Ok(Command::MfgRead {
                namespace: "mqtt_ca".into(),
                key: None,
                range: None
            })
        );
        assert_eq!(
            parse(br#"AT+SYSMFG=1,"mqtt_ca","mqtt_ca",100,200"#),
            Ok(Command::MfgRead {
                namespace: "mqtt_ca".into(),
                key: Some("mqtt_ca".into()),
                range: Some((100, 200))
            })
        );
        assert_eq!(parse(b"AT+SYSMFG?"), Ok(Command::MfgQuery));
    }

    #[test]
    fn sni_and_alpn() {
        assert_eq!(
            parse(br#"AT+MQTTSNI=0,"broker.example\,x""#),
            Ok(Command::Sni("broker.example,x".into()))
        );
        assert!(parse(br#"AT+MQTTSNI=0,"""#).is_err());
        assert!(parse(br#"AT+MQTTSNI=1,"a""#).is_err());
        assert!(parse(b"AT+MQTTSNI=0").is_err());
        assert_eq!(
            parse(br#"AT+MQTTALPN=0,2,"mqtt","x\"y""#),
            Ok(Command::Alpn(vec![b"mqtt".to_vec(), b"x\"y".to_vec()]))
        );
        assert_eq!(parse(b"AT+MQTTALPN=0,0"), Ok(Command::Alpn(Vec::new())));
        assert_eq!(
            parse(br#"AT+MQTTALPN=0,5,"a","b","c","d","e""#).map(|c| match c {
                Command::Alpn(v) => v.len(),
                _ => 0,
            }),
            Ok(5)
        );
        for bad in [
            &br#"AT+MQTTALPN=0,2,"mqtt""#[..],
            br#"AT+MQTTALPN=0,1,"a","b""#,
            br#"AT+MQTTALPN=0,6,"a","b","c","d","e","f""#,
            br#"AT+MQTTALPN=0,1,"""#,
            br#"AT+MQTTALPN=0,1,mqtt"#,
            br#"AT+MQTTALPN=1,1,"mqtt""#,
        ] {
            assert_eq!(parse(bad), Err(AtError::InvalidParameter), "{bad:?}");
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let alphabet = b"AT+=?,\"\\ -0123MQTTPUBRAWSUBCONNCFGUSERSYSMFGALPNSNI\xff\x00";
        lex::garbage_lines(0x8765_4321, b"AT+MQTT", alphabet, |line| {
            let _ = parse(line);
        });
    }
}
