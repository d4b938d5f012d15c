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
    );
    if !known {
        return Err(AtError::Unknown);
    }
    let cmd = match (name.as_slice(), tail) {
        (b"+GMR", b"") => C::Version,
        (b"+RST", b"") => C::Restart,
        (b"+MQTTCONN", b"?") => C::ConnQuery,
        (b"+MQTTSUB", b"?") => C::SubQuery,
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
    fn never_panics_on_garbage() {
        let alphabet = b"AT+=?,\"\\ 0123MQTTPUBRAWSUBCONNCFGUSER\xff\x00";
        lex::garbage_lines(0x8765_4321, b"AT+MQTT", alphabet, |line| {
            let _ = parse(line);
        });
    }
}
