//! Quectel's reading of a command line (docs/DIALECTS.md, "Quectel QMT", general rules and
//! decisions), written independently of the driver.
//!
//! Strings must be quoted and have no escapes: a quoted string ends at the next `"`, so it can
//! hold a comma but never a quote. Integers are unquoted; blanks around a parameter are
//! ignored. It never panics.

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
use self::param::{bytes, int, nonempty, string, topic_name};
use crate::at::AtError;

/// Longest host name of `AT+QMTOPEN`.
pub const MAX_HOST: usize = 100;
/// Longest topic, filter, will topic and will message.
pub const MAX_TOPIC: usize = 255;
/// Longest payload of `AT+QMTPUBEX`/`AT+QMTPUB` with a length.
pub const MAX_PAYLOAD: usize = 4096;
/// Longest keepalive, in seconds.
pub const MAX_KEEPALIVE: u32 = 3600;
/// Longest UFS file name, without the `UFS:` prefix.
pub const MAX_FILE_NAME: usize = 80;
/// Largest `AT+QFUPL` size (1 MiB here; the module's bound is its free space).
pub const MAX_UPLOAD: usize = 1 << 20;
/// `AT+QFUPL`'s size when none is given.
pub const DEFAULT_UPLOAD: usize = 10240;
/// `AT+QFUPL`'s timeout when none is given, in seconds.
pub const DEFAULT_UPLOAD_TIMEOUT: u16 = 5;

/// An `AT+QSSLCFG` setting with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslCfg {
    /// `"sslversion"`: 0 SSL 3.0, 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2, 4 all.
    SslVersion(u8),
    /// `"ciphersuite"`: one suite in hex (`0XFFFF`: all).
    CipherSuite(u16),
    /// `"seclevel"`: 0 no authentication, 1 the server's, 2 both sides'.
    SecLevel(u8),
    /// `"cacert"`: the root CA's file name.
    CaCert(String),
    /// `"clientcert"`: the client certificate's file name.
    ClientCert(String),
    /// `"clientkey"`: the client key's file name.
    ClientKey(String),
    /// `"sni"`: send the host as server name.
    Sni(bool),
    /// `"ignorelocaltime"`: ignore the validity period.
    IgnoreLocalTime(bool),
}

/// The key of an `AT+QSSLCFG` query (the form without a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslKey {
    /// `"sslversion"`
    SslVersion,
    /// `"ciphersuite"`
    CipherSuite,
    /// `"seclevel"`
    SecLevel,
    /// `"cacert"`
    CaCert,
    /// `"clientcert"`
    ClientCert,
    /// `"clientkey"`
    ClientKey,
    /// `"sni"`
    Sni,
    /// `"ignorelocaltime"`
    IgnoreLocalTime,
}

/// The last will of `AT+QMTCFG="will"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// QoS 0..=2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Topic.
    pub topic: String,
    /// Message.
    pub msg: Vec<u8>,
}

/// An `AT+QMTCFG` setting with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cfg {
    /// `"version"`: 3 = MQTT 3.1, 4 = MQTT 3.1.1.
    Version(u8),
    /// `"pdpcid"`: 1..=16.
    PdpCid(u8),
    /// `"ssl"`: enable, context 0..=5.
    Ssl(bool, u8),
    /// `"keepalive"`: 0..=3600 s.
    KeepAlive(u16),
    /// `"session"`: 1 = clean session.
    Session(bool),
    /// `"timeout"`: packet timeout 1..=60 s, retries 0..=10, timeout notice.
    Timeout(u8, u8, bool),
    /// `"will"`: flag 0 (none) or 1 with its fields.
    Will(Option<Will>),
    /// `"recv/mode"`: 0 = payload in the URC (1 = buffered), length in the URC.
    RecvMode(u8, bool),
}

/// The key of an `AT+QMTCFG` query (the form without a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfgKey {
    /// `"version"`
    Version,
    /// `"pdpcid"`
    PdpCid,
    /// `"ssl"`
    Ssl,
    /// `"keepalive"`
    KeepAlive,
    /// `"session"`
    Session,
    /// `"timeout"`
    Timeout,
    /// `"will"`
    Will,
    /// `"recv/mode"`
    RecvMode,
}

/// A fully parsed Quectel command line. `idx` is the client index, 0..=5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `AT`
    Attention,
    /// `ATE0` / `ATE1`
    Echo(bool),
    /// `ATI`
    Info,
    /// `AT+CMEE=<n>`
    CmeeSet(u8),
    /// `AT+CMEE?`
    CmeeQuery,
    /// `AT+CFUN=<0|1|4>[,<rst>]`
    CfunSet(u8),
    /// `AT+CFUN?`
    CfunQuery,
    /// `AT+CGMI`
    Manufacturer,
    /// `AT+CGMM`
    Model,
    /// `AT+CGMR`
    Revision,
    /// `AT+QMTCFG="<key>",<idx>,<value>...`
    CfgSet(u8, Cfg),
    /// `AT+QMTCFG="<key>",<idx>`
    CfgQuery(u8, CfgKey),
    /// `AT+QMTOPEN=<idx>,"<host>",<port>`
    Open {
        /// Client index.
        idx: u8,
        /// Broker host name or address.
        host: String,
        /// Broker port.
        port: u16,
    },
    /// `AT+QMTOPEN?`
    OpenQuery,
    /// `AT+QMTCLOSE=<idx>`
    Close(u8),
    /// `AT+QMTCONN=<idx>,"<client id>"[,"<user>"[,"<password>"]]`
    Conn {
        /// Client index.
        idx: u8,
        /// MQTT client identifier (not empty).
        client_id: String,
        /// User name; empty = none.
        user: String,
        /// Password; empty = none.
        password: String,
    },
    /// `AT+QMTCONN?`
    ConnQuery,
    /// `AT+QMTDISC=<idx>`
    Disc(u8),
    /// `AT+QMTSUB=<idx>,<msgid>,"<filter>",<qos>[,"<filter>",<qos>...]`
    Sub {
        /// Client index.
        idx: u8,
        /// 1..=65535.
        msgid: u16,
        /// Filters with their QoS.
        filters: Vec<(String, u8)>,
    },
    /// `AT+QMTUNS=<idx>,<msgid>,"<filter>"[,"<filter>"...]`
    Uns {
        /// Client index.
        idx: u8,
        /// 1..=65535.
        msgid: u16,
        /// Filters.
        filters: Vec<String>,
    },
    /// `AT+QMTPUBEX=...,<len>` (`ext`) or `AT+QMTPUB=...,<len>`:
    /// `<idx>,<msgid>,<qos>,<retain>,"<topic>",<len>`.
    Pub {
        /// Which command: its result URC is `+QMTPUBEX` or `+QMTPUB`.
        ext: bool,
        /// Client index.
        idx: u8,
        /// 0 for QoS 0, else 1..=65535.
        msgid: u16,
        /// 0, 1 or 2.
        qos: u8,
        /// Retain flag.
        retain: bool,
        /// Topic name (no wildcards).
        topic: String,
        /// How many raw bytes follow the prompt (0..=4096).
        len: usize,
    },
    /// `AT+QMTPUBEX=?`
    PubExTest,
    /// `AT+QFLST[="<name>"]`: one file, or every file with `"*"` or no name (`None`).
    FileList(Option<String>),
    /// `AT+QFDEL="<name>"`: one file, or every file with `"*"` (`None`).
    FileDel(Option<String>),
    /// `AT+QFUPL="<name>"[,<size>[,<timeout>[,<ackmode>]]]`
    FileUpload {
        /// File name as given (a `UFS:` prefix or none).
        name: String,
        /// How many raw bytes follow `CONNECT`.
        size: usize,
        /// Seconds the module waits for the data.
        timeout: u16,
        /// Acknowledge every 1024 bytes.
        ackmode: bool,
    },
    /// `AT+QSSLCFG="<param>",<ctx>,<value>`
    SslCfgSet(u8, SslCfg),
    /// `AT+QSSLCFG="<param>",<ctx>`
    SslCfgQuery(u8, SslKey),
}

/// Split the text after `=` into parameters.
pub fn split_params(s: &[u8]) -> Result<Vec<Param>, AtError> {
    param::split(s, true, quoted)
}

/// A quoted string from just after its opening quote: its bytes up to the next `"`, which
/// must come.
fn quoted(s: &[u8], start: usize) -> Result<(Vec<u8>, usize), AtError> {
    let Some(len) = s[start..].iter().position(|&b| b == b'"') else {
        return Err(AtError::InvalidParameter); // unterminated
    };
    Ok((s[start..start + len].to_vec(), start + len))
}

fn idx(p: &Param) -> Result<u8, AtError> {
    Ok(int(p, 0, 5)? as u8)
}

fn filter(p: &Param) -> Result<String, AtError> {
    nonempty(p, MAX_TOPIC)
}

/// Parse one command line (without its CR).
pub fn parse(line: &[u8]) -> Result<Command, AtError> {
    let (name, tail) = match lex::split(line.trim_ascii())? {
        Line::Attention => return Ok(Command::Attention),
        Line::Basic(basic) if matches!(&basic[..], b"I" | b"I0") => return Ok(Command::Info),
        Line::Basic(basic) => return lex::echo(&basic, true).map(Command::Echo),
        Line::Extended(name, tail) => (name, tail),
    };
    use Command as C;
    let known = matches!(
        name.as_slice(),
        b"+CMEE"
            | b"+CFUN"
            | b"+CGMI"
            | b"+CGMM"
            | b"+CGMR"
            | b"+QMTCFG"
            | b"+QMTOPEN"
            | b"+QMTCLOSE"
            | b"+QMTCONN"
            | b"+QMTDISC"
            | b"+QMTSUB"
            | b"+QMTUNS"
            | b"+QMTPUB"
            | b"+QMTPUBEX"
            | b"+QFLST"
            | b"+QFDEL"
            | b"+QFUPL"
            | b"+QSSLCFG"
    );
    if !known {
        return Err(AtError::Unknown);
    }
    Ok(match (name.as_slice(), tail) {
        (b"+CMEE", b"?") => C::CmeeQuery,
        (b"+CFUN", b"?") => C::CfunQuery,
        (b"+CGMI", b"") => C::Manufacturer,
        (b"+CGMM", b"") => C::Model,
        (b"+CGMR", b"") => C::Revision,
        (b"+QMTOPEN", b"?") => C::OpenQuery,
        (b"+QMTCONN", b"?") => C::ConnQuery,
        (b"+QMTPUBEX", b"=?") => C::PubExTest,
        (b"+QFLST", b"") => C::FileList(None),
        (b"+QSSLCFG", [b'=', args @ ..]) if !args.is_empty() && args != b"?" => {
            // The cipher suite is an unquoted hex number, which the shared splitter refuses.
            match split_params(args) {
                Ok(p) => ssl_cfg(&p, None)?,
                Err(e) => {
                    let comma = args.iter().rposition(|&b| b == b',').ok_or(e)?;
                    let suite = hex16(args[comma + 1..].trim_ascii()).ok_or(e)?;
                    ssl_cfg(&split_params(&args[..comma])?, Some(suite))?
                }
            }
        }
        (_, [b'=', args @ ..]) if !args.is_empty() && args != b"?" => {
            set(&name, &split_params(args)?)?
        }
        _ => return Err(AtError::InvalidParameter), // known name, unsupported form
    })
}

fn set(name: &[u8], p: &[Param]) -> Result<Command, AtError> {
    use Command as C;
    Ok(match (name, p) {
        (b"+CMEE", [n]) => C::CmeeSet(int(n, 0, 2)? as u8),
        (b"+CFUN", [n] | [n, _]) => {
            if let [_, rst] = p {
                int(rst, 0, 1)?;
            }
            match int(n, 0, 4)? {
                n @ (0 | 1 | 4) => C::CfunSet(n as u8),
                _ => return Err(AtError::InvalidParameter),
            }
        }
        (b"+QMTCFG", [key, rest @ ..]) => cfg(&bytes(key, 16)?.to_ascii_lowercase(), rest)?,
        (b"+QMTOPEN", [i, host, port]) => {
            let host = nonempty(host, MAX_HOST)?;
            C::Open {
                idx: idx(i)?,
                host,
                port: int(port, 1, 65535)? as u16,
            }
        }
        (b"+QMTCLOSE", [i]) => C::Close(idx(i)?),
        (b"+QMTCONN", [i, id, creds @ ..]) if creds.len() <= 2 => {
            let client_id = nonempty(id, 256)?;
            let user = creds
                .first()
                .map_or(Ok(String::new()), |u| string(u, 256))?;
            let password = creds.get(1).map_or(Ok(String::new()), |u| string(u, 256))?;
            C::Conn {
                idx: idx(i)?,
                client_id,
                user,
                password,
            }
        }
        (b"+QMTDISC", [i]) => C::Disc(idx(i)?),
        (b"+QMTSUB", [i, msgid, pairs @ ..]) if !pairs.is_empty() && pairs.len() % 2 == 0 => {
            let filters = pairs
                .chunks(2)
                .map(|c| Ok((filter(&c[0])?, int(&c[1], 0, 2)? as u8)))
                .collect::<Result<_, AtError>>()?;
            C::Sub {
                idx: idx(i)?,
                msgid: int(msgid, 1, 65535)? as u16,
                filters,
            }
        }
        (b"+QMTUNS", [i, msgid, topics @ ..]) if !topics.is_empty() => C::Uns {
            idx: idx(i)?,
            msgid: int(msgid, 1, 65535)? as u16,
            filters: topics.iter().map(filter).collect::<Result<_, _>>()?,
        },
        (b"+QMTPUBEX" | b"+QMTPUB", [i, msgid, qos, retain, topic, len]) => {
            let qos = int(qos, 0, 2)? as u8;
            // <msgid> is 0 exactly for QoS 0.
            let msgid = if qos == 0 {
                int(msgid, 0, 0)?
            } else {
                int(msgid, 1, 65535)?
            } as u16;
            let topic = topic_name(topic, MAX_TOPIC)?;
            C::Pub {
                ext: name == b"+QMTPUBEX",
                idx: idx(i)?,
                msgid,
                qos,
                retain: int(retain, 0, 1)? == 1,
                topic,
                len: int(len, 0, MAX_PAYLOAD as u32)? as usize,
            }
        }
        (b"+QFLST", [n]) => C::FileList(pattern(n)?),
        (b"+QFDEL", [n]) => C::FileDel(pattern(n)?),
        (b"+QFUPL", [n, rest @ ..]) if rest.len() <= 3 => {
            let size = match rest.first() {
                None | Some(Param::Omitted) => DEFAULT_UPLOAD,
                Some(p) => int(p, 1, MAX_UPLOAD as u32)? as usize,
            };
            let timeout = match rest.get(1) {
                None | Some(Param::Omitted) => DEFAULT_UPLOAD_TIMEOUT,
                Some(p) => int(p, 1, u32::from(u16::MAX))? as u16,
            };
            let ackmode = match rest.get(2) {
                None | Some(Param::Omitted) => false,
                Some(p) => int(p, 0, 1)? == 1,
            };
            C::FileUpload {
                name: file_name(n)?,
                size,
                timeout,
                ackmode,
            }
        }
        _ => return Err(AtError::InvalidParameter),
    })
}

/// The file name without its `UFS:` prefix (any case), which names the same file.
pub fn ufs_name(name: &str) -> &str {
    match name.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("UFS:") => &name[4..],
        _ => name,
    }
}

/// A file name: 1 to 80 bytes after an optional `UFS:` prefix, no wildcard.
fn file_name(p: &Param) -> Result<String, AtError> {
    let name = nonempty(p, MAX_FILE_NAME + 4)?;
    let bare = ufs_name(&name);
    if bare.is_empty() || bare.len() > MAX_FILE_NAME || bare.contains(['*', '?']) {
        return Err(AtError::InvalidParameter);
    }
    Ok(name)
}

/// A file name, or `"*"` (`"UFS:*"`) for every file (`None`).
fn pattern(p: &Param) -> Result<Option<String>, AtError> {
    if matches!(p, Param::Str(s) if ufs_name(&String::from_utf8_lossy(s)) == "*") {
        return Ok(None);
    }
    file_name(p).map(Some)
}

/// `0X` or `0x` and 1 to 4 hex digits.
fn hex16(t: &[u8]) -> Option<u16> {
    let digits = t.strip_prefix(b"0X").or_else(|| t.strip_prefix(b"0x"))?;
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// `AT+QSSLCFG`'s parameters (`suite`: the hex value split off before).
fn ssl_cfg(p: &[Param], suite: Option<u16>) -> Result<Command, AtError> {
    let [key, ctx, value @ ..] = p else {
        return Err(AtError::InvalidParameter);
    };
    let key = bytes(key, 16)?.to_ascii_lowercase();
    let ctx = int(ctx, 0, 5)? as u8;
    let query = |k| Ok(Command::SslCfgQuery(ctx, k));
    let set = |c| Ok(Command::SslCfgSet(ctx, c));
    let flag = |v: &Param| Ok::<_, AtError>(int(v, 0, 1)? == 1);
    match (&key[..], value, suite) {
        (b"ciphersuite", [], Some(s)) => set(SslCfg::CipherSuite(s)),
        (_, _, Some(_)) => Err(AtError::InvalidParameter),
        (b"sslversion", [], None) => query(SslKey::SslVersion),
        (b"sslversion", [v], None) => set(SslCfg::SslVersion(int(v, 0, 4)? as u8)),
        (b"ciphersuite", [], None) => query(SslKey::CipherSuite),
        (b"seclevel", [], None) => query(SslKey::SecLevel),
        (b"seclevel", [v], None) => set(SslCfg::SecLevel(int(v, 0, 2)? as u8)),
        (b"cacert", [], None) => query(SslKey::CaCert),
        (b"cacert", [v], None) => set(SslCfg::CaCert(file_name(v)?)),
        (b"clientcert", [], None) => query(SslKey::ClientCert),
        (b"clientcert", [v], None) => set(SslCfg::ClientCert(file_name(v)?)),
        (b"clientkey", [], None) => query(SslKey::ClientKey),
        (b"clientkey", [v], None) => set(SslCfg::ClientKey(file_name(v)?)),
        (b"sni", [], None) => query(SslKey::Sni),
        (b"sni", [v], None) => set(SslCfg::Sni(flag(v)?)),
        (b"ignorelocaltime", [], None) => query(SslKey::IgnoreLocalTime),
        (b"ignorelocaltime", [v], None) => set(SslCfg::IgnoreLocalTime(flag(v)?)),
        _ => Err(AtError::InvalidParameter),
    }
}

fn cfg(key: &[u8], p: &[Param]) -> Result<Command, AtError> {
    let Some((i, v)) = p.split_first() else {
        return Err(AtError::InvalidParameter);
    };
    let i = idx(i)?;
    let query = |k| Ok(Command::CfgQuery(i, k));
    let set = |c| Ok(Command::CfgSet(i, c));
    match (key, v) {
        (b"version", []) => query(CfgKey::Version),
        (b"version", [v]) => set(Cfg::Version(int(v, 3, 4)? as u8)),
        (b"pdpcid", []) => query(CfgKey::PdpCid),
        (b"pdpcid", [c]) => set(Cfg::PdpCid(int(c, 1, 16)? as u8)),
        (b"ssl", []) => query(CfgKey::Ssl),
        (b"ssl", [e]) => set(Cfg::Ssl(int(e, 0, 1)? == 1, 0)),
        (b"ssl", [e, ctx]) => set(Cfg::Ssl(int(e, 0, 1)? == 1, int(ctx, 0, 5)? as u8)),
        (b"keepalive", []) => query(CfgKey::KeepAlive),
        (b"keepalive", [k]) => set(Cfg::KeepAlive(int(k, 0, MAX_KEEPALIVE)? as u16)),
        (b"session", []) => query(CfgKey::Session),
        (b"session", [c]) => set(Cfg::Session(int(c, 0, 1)? == 1)),
        (b"timeout", []) => query(CfgKey::Timeout),
        (b"timeout", [t, rest @ ..]) if rest.len() <= 2 => {
            let retry = rest.first().map_or(Ok(3), |r| int(r, 0, 10))?;
            let notice = rest.get(1).map_or(Ok(0), |n| int(n, 0, 1))?;
            set(Cfg::Timeout(int(t, 1, 60)? as u8, retry as u8, notice == 1))
        }
        (b"will", []) => query(CfgKey::Will),
        (b"will", [f]) if int(f, 0, 0).is_ok() => set(Cfg::Will(None)),
        (b"will", [f, qos, retain, topic, msg]) if int(f, 1, 1).is_ok() => {
            let topic = topic_name(topic, MAX_TOPIC)?;
            set(Cfg::Will(Some(Will {
                qos: int(qos, 0, 2)? as u8,
                retain: int(retain, 0, 1)? == 1,
                topic,
                msg: bytes(msg, MAX_TOPIC)?,
            })))
        }
        (b"recv/mode", []) => query(CfgKey::RecvMode),
        (b"recv/mode", [m]) => set(Cfg::RecvMode(int(m, 0, 1)? as u8, false)),
        (b"recv/mode", [m, l]) => set(Cfg::RecvMode(int(m, 0, 1)? as u8, int(l, 0, 1)? == 1)),
        _ => Err(AtError::InvalidParameter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_without_escapes() {
        assert_eq!(
            split_params(br#" 0 ,"a,b\",7,"#).unwrap(),
            vec![
                Param::Int(0),
                Param::Str(br"a,b\".to_vec()),
                Param::Int(7),
                Param::Omitted
            ]
        );
        assert!(split_params(br#""a"b""#).is_err());
        assert!(split_params(br#""abc"#).is_err());
        assert!(split_params(b"abc").is_err());
    }

    #[test]
    fn commands() {
        assert_eq!(parse(b"AT"), Ok(Command::Attention));
        assert_eq!(parse(b"ATI"), Ok(Command::Info));
        assert_eq!(parse(b"AT+CFUN=4,0"), Ok(Command::CfunSet(4)));
        assert!(parse(b"AT+CFUN=2").is_err());
        assert_eq!(
            parse(br#"AT+QMTCFG="recv/mode",0,0,1"#),
            Ok(Command::CfgSet(0, Cfg::RecvMode(0, true)))
        );
        assert_eq!(
            parse(br#"AT+QMTCFG="keepalive",0"#),
            Ok(Command::CfgQuery(0, CfgKey::KeepAlive))
        );
        assert!(parse(br#"AT+QMTCFG="keepalive",0,3601"#).is_err());
        assert!(parse(br#"AT+QMTCFG="keepalive",6,60"#).is_err());
        assert!(parse(br#"AT+QMTCFG="nope",0,1"#).is_err());
        assert_eq!(
            parse(br#"AT+QMTCONN=0,"id","u","p,w""#),
            Ok(Command::Conn {
                idx: 0,
                client_id: "id".into(),
                user: "u".into(),
                password: "p,w".into()
            })
        );
        assert!(parse(br#"AT+QMTCONN=0,"""#).is_err());
        assert_eq!(
            parse(br#"AT+QMTSUB=0,1,"a/#",1,"b",2"#),
            Ok(Command::Sub {
                idx: 0,
                msgid: 1,
                filters: vec![("a/#".into(), 1), ("b".into(), 2)]
            })
        );
        assert!(parse(br#"AT+QMTSUB=0,0,"a",1"#).is_err());
        assert!(parse(br#"AT+QMTSUB=0,1,"a""#).is_err());
        assert_eq!(
            parse(br#"AT+QMTPUBEX=0,7,1,1,"t",4096"#),
            Ok(Command::Pub {
                ext: true,
                idx: 0,
                msgid: 7,
                qos: 1,
                retain: true,
                topic: "t".into(),
                len: 4096
            })
        );
        assert!(parse(br#"AT+QMTPUBEX=0,7,0,0,"t",5"#).is_err());
        assert!(parse(br#"AT+QMTPUBEX=0,0,1,0,"t",5"#).is_err());
        assert!(parse(br#"AT+QMTPUBEX=0,1,1,0,"t",4097"#).is_err());
        assert!(parse(br#"AT+QMTPUBEX=0,1,1,0,"t/+",5"#).is_err());
        assert!(parse(br#"AT+QMTPUB=0,1,1,0,"t""#).is_err());
        assert_eq!(parse(b"AT+QMTPUBEX=?"), Ok(Command::PubExTest));
        assert_eq!(parse(b"AT+QMTFOO=1"), Err(AtError::Unknown));
    }

    #[test]
    fn file_commands() {
        assert_eq!(
            parse(br#"AT+QFLST="0a1b2c3d.pem""#),
            Ok(Command::FileList(Some("0a1b2c3d.pem".into())))
        );
        assert_eq!(parse(br#"AT+QFLST="*""#), Ok(Command::FileList(None)));
        assert_eq!(parse(br#"AT+QFLST="UFS:*""#), Ok(Command::FileList(None)));
        assert_eq!(parse(b"AT+QFLST"), Ok(Command::FileList(None)));
        assert_eq!(
            parse(br#"AT+QFDEL="UFS:ca.pem""#),
            Ok(Command::FileDel(Some("UFS:ca.pem".into())))
        );
        assert_eq!(parse(br#"AT+QFDEL="*""#), Ok(Command::FileDel(None)));
        assert_eq!(
            parse(br#"AT+QFUPL="ca.pem",1221,60"#),
            Ok(Command::FileUpload {
                name: "ca.pem".into(),
                size: 1221,
                timeout: 60,
                ackmode: false
            })
        );
        assert_eq!(
            parse(br#"AT+QFUPL="UFS:ca.pem""#),
            Ok(Command::FileUpload {
                name: "UFS:ca.pem".into(),
                size: DEFAULT_UPLOAD,
                timeout: DEFAULT_UPLOAD_TIMEOUT,
                ackmode: false
            })
        );
        assert_eq!(
            parse(br#"AT+QFUPL="a",10,5,1"#),
            Ok(Command::FileUpload {
                name: "a".into(),
                size: 10,
                timeout: 5,
                ackmode: true
            })
        );
        assert_eq!(ufs_name("UFS:a.pem"), "a.pem");
        assert_eq!(ufs_name("ufs:a.pem"), "a.pem");
        assert_eq!(ufs_name("a.pem"), "a.pem");
        let long = format!("AT+QFUPL=\"{}\",1", "n".repeat(81));
        for bad in [
            &br#"AT+QFUPL="*",10"#[..],
            br#"AT+QFUPL="UFS:",10"#,
            br#"AT+QFUPL="",10"#,
            br#"AT+QFUPL="a",0"#,
            br#"AT+QFUPL="a",1048577"#,
            br#"AT+QFUPL="a",10,5,2"#,
            br#"AT+QFUPL="a",10,5,0,0"#,
            b"AT+QFUPL=a,10",
            br#"AT+QFDEL="a","b""#,
            b"AT+QFDEL",
            long.as_bytes(),
        ] {
            assert_eq!(parse(bad), Err(AtError::InvalidParameter), "{bad:?}");
        }
    }

    #[test]
    fn ssl_config() {
        let set = |ctx, c| Ok(Command::SslCfgSet(ctx, c));
        assert_eq!(
            parse(br#"AT+QSSLCFG="sslversion",0,4"#),
            set(0, SslCfg::SslVersion(4))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="ciphersuite",0,0XFFFF"#),
            set(0, SslCfg::CipherSuite(0xFFFF))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="CipherSuite",5, 0x0035 "#),
            set(5, SslCfg::CipherSuite(0x35))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="seclevel",0,2"#),
            set(0, SslCfg::SecLevel(2))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="cacert",0,"0a1b2c3d.pem""#),
            set(0, SslCfg::CaCert("0a1b2c3d.pem".into()))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="clientcert",1,"UFS:c.pem""#),
            set(1, SslCfg::ClientCert("UFS:c.pem".into()))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="clientkey",0,"k.pem""#),
            set(0, SslCfg::ClientKey("k.pem".into()))
        );
        assert_eq!(parse(br#"AT+QSSLCFG="sni",0,1"#), set(0, SslCfg::Sni(true)));
        assert_eq!(
            parse(br#"AT+QSSLCFG="ignorelocaltime",0,0"#),
            set(0, SslCfg::IgnoreLocalTime(false))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="seclevel",3"#),
            Ok(Command::SslCfgQuery(3, SslKey::SecLevel))
        );
        assert_eq!(
            parse(br#"AT+QSSLCFG="ciphersuite",0"#),
            Ok(Command::SslCfgQuery(0, SslKey::CipherSuite))
        );
        for bad in [
            &br#"AT+QSSLCFG="sslversion",0,5"#[..],
            br#"AT+QSSLCFG="seclevel",0,3"#,
            br#"AT+QSSLCFG="seclevel",6,1"#,
            br#"AT+QSSLCFG="seclevel",0,0X1"#,
            br#"AT+QSSLCFG="ciphersuite",0,65535"#,
            br#"AT+QSSLCFG="ciphersuite",0,0X1FFFF"#,
            br#"AT+QSSLCFG="ciphersuite",0,0X"#,
            br#"AT+QSSLCFG="ciphersuite",0,FFFF"#,
            br#"AT+QSSLCFG="ciphersuite",0,"0XFFFF""#,
            br#"AT+QSSLCFG="cacert",0,ca.pem"#,
            br#"AT+QSSLCFG="cacert",0,"""#,
            br#"AT+QSSLCFG="sni",0,2"#,
            br#"AT+QSSLCFG="ignorelocaltime",0,2"#,
            br#"AT+QSSLCFG="nope",0,1"#,
            br#"AT+QSSLCFG="seclevel""#,
            b"AT+QSSLCFG=0XFFFF",
        ] {
            assert_eq!(parse(bad), Err(AtError::InvalidParameter), "{bad:?}");
        }
        assert_eq!(
            parse(br#"AT+QMTCFG="ssl",0,1,2"#),
            Ok(Command::CfgSet(0, Cfg::Ssl(true, 2)))
        );
    }

    #[test]
    fn never_panics_on_garbage() {
        let alphabet = b"AT+=?,\" 0123QMTCFGOPENPUBEXSUBUNSFLSTDELUPLSSLXx*:\xff\x00";
        lex::garbage_lines(0x1357_9bdf, b"AT+QMT", alphabet, |line| {
            let _ = parse(line);
        });
    }
}
