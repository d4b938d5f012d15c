//! The modem's own reading of an AT command line (docs/DIALECTS.md, UC8088 "General rules").
//!
//! This parser is written independently of the `mqtt-modem` driver on purpose: the simulator
//! must catch the driver's encoder bugs, not share them. It never panics; every malformed line
//! is an [`AtError`].

// Taken in by path, as the dialect parsers do too (see lex.rs).
#[path = "lex.rs"]
#[allow(clippy::duplicate_mod)]
mod lex;

use lex::Line;

/// Longest certificate content and `<size>` the manual allows (`AT+MQTTTLS`).
pub const MAX_CERT_LEN: usize = 1536;

/// Why a command line was refused; maps to `+CME ERROR` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtError {
    /// The line is not a command this modem knows (`+CME ERROR: 4`, operation not supported).
    Unknown,
    /// A known command with a missing, extra or malformed parameter (`+CME ERROR: 50`).
    InvalidParameter,
    /// Valid command the modem refuses in its current state (`+CME ERROR: 3`).
    NotAllowed,
}

impl AtError {
    /// The numeric `+CME ERROR: <n>` code.
    pub fn cme_code(self) -> u16 {
        match self {
            AtError::Unknown => 4,
            AtError::InvalidParameter => 50,
            AtError::NotAllowed => 3,
        }
    }

    /// The verbose `+CME ERROR: <text>` form (after `AT+CMEE=2`).
    pub fn cme_text(self) -> &'static str {
        match self {
            AtError::Unknown => "operation not supported",
            AtError::InvalidParameter => "Incorrect parameters",
            AtError::NotAllowed => "operation not allowed",
        }
    }
}

/// One parameter exactly as it appeared between commas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawParam<'a> {
    /// Whether the parameter was enclosed in `"`.
    pub quoted: bool,
    /// The bytes between the quotes (still escaped), or the whole unquoted run.
    pub text: &'a [u8],
}

/// Which backslash escapes a quoted string understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escapes {
    /// `\"` and `\\` only; any other `\x` stays as the two bytes.
    Standard,
    /// Certificate text: also `\n` (LF) and `\r` (CR).
    Pem,
}

/// The shape of an extended command: `=?`, `?`, `=<args>` or bare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form<'a> {
    /// `AT+CMD=?`
    Test,
    /// `AT+CMD?`
    Query,
    /// `AT+CMD=<params>`
    Set(Vec<RawParam<'a>>),
    /// `AT+CMD`
    Exec,
}

/// Split the text after `=` into raw parameters, honouring quotes.
pub fn split_params(s: &[u8]) -> Result<Vec<RawParam<'_>>, AtError> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        // Tolerate blanks before a parameter.
        while i < s.len() && s[i] == b' ' {
            i += 1;
        }
        if i < s.len() && s[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            loop {
                match s.get(j) {
                    None => return Err(AtError::InvalidParameter), // unterminated quote
                    Some(b'\\') => {
                        if j + 1 >= s.len() {
                            return Err(AtError::InvalidParameter);
                        }
                        j += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            out.push(RawParam {
                quoted: true,
                text: &s[start..j],
            });
            i = j + 1;
            while i < s.len() && s[i] == b' ' {
                i += 1;
            }
            match s.get(i) {
                None => return Ok(out),
                Some(b',') => i += 1,
                Some(_) => return Err(AtError::InvalidParameter), // junk after closing quote
            }
        } else {
            let end = lex::field_end(s, i);
            out.push(RawParam {
                quoted: false,
                text: &s[i..end],
            });
            if end >= s.len() {
                return Ok(out);
            }
            i = end + 1; // past the comma; a trailing comma yields one more empty parameter
        }
    }
}

/// Remove the quoting escapes of a parameter; unquoted text is returned verbatim.
pub fn unescape(p: &RawParam<'_>, escapes: Escapes) -> Vec<u8> {
    if !p.quoted {
        return p.text.to_vec();
    }
    let mut out = Vec::with_capacity(p.text.len());
    let mut it = p.text.iter().copied();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match (it.next(), escapes) {
            (Some(b'"'), _) => out.push(b'"'),
            (Some(b'\\'), _) => out.push(b'\\'),
            (Some(b'n'), Escapes::Pem) => out.push(b'\n'),
            (Some(b'r'), Escapes::Pem) => out.push(b'\r'),
            (Some(other), _) => out.extend_from_slice(&[b'\\', other]),
            (None, _) => out.push(b'\\'),
        }
    }
    out
}

/// Quote a string the way this modem prints it: `"` and `\` are backslash-escaped.
pub fn quote(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(b'"');
    for &b in s {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

/// A decimal integer parameter (unquoted, surrounding blanks tolerated).
pub fn int(p: &RawParam<'_>) -> Result<u32, AtError> {
    if p.quoted {
        return Err(AtError::InvalidParameter);
    }
    lex::decimal(p.text.trim_ascii()).ok_or(AtError::InvalidParameter)
}

fn int_max(p: &RawParam<'_>, max: u32) -> Result<u32, AtError> {
    let v = int(p)?;
    if v > max {
        return Err(AtError::InvalidParameter);
    }
    Ok(v)
}

fn utf8(p: &RawParam<'_>) -> Result<String, AtError> {
    String::from_utf8(unescape(p, Escapes::Standard)).map_err(|_| AtError::InvalidParameter)
}

/// Which slot of `AT+MQTTTLS` a certificate goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKind {
    /// `<type>` 0: root CA used to verify the broker.
    RootCa,
    /// `<type>` 1: client certificate.
    ClientCert,
    /// `<type>` 2: client private key.
    ClientKey,
}

/// The stored `AT+MQTTCONFIG` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttConfig {
    /// Broker IP address or domain name.
    pub host: String,
    /// Broker TCP port.
    pub port: u16,
    /// MQTT client identifier.
    pub client_id: String,
    /// `<cleansession>` 1 = new session.
    pub clean: bool,
    /// Keepalive in seconds (0 = off).
    pub keepalive: u16,
    /// User name; empty = none.
    pub user: String,
    /// Password; empty = none.
    pub password: String,
}

/// QoS level as sent on the AT line (0, 1 or 2).
pub type Qos = u8;

/// A fully parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `AT`
    Attention,
    /// `ATE0` / `ATE1`
    Echo(bool),
    /// `AT+CMEE=<n>` (0 plain, 1 numeric, 2 text)
    CmeeSet(u8),
    /// `AT+CMEE?`
    CmeeQuery,
    /// `AT+CFUN=<n>`
    CfunSet(u8),
    /// `AT+CFUN?`
    CfunQuery,
    /// `AT+CGMI`
    Manufacturer,
    /// `AT+CGMM`
    Model,
    /// `AT+CGMR`
    Revision,
    /// `AT+MQTTTLS=<tls>[,<type>,<content>,<size>]`; `cert` content is unescaped.
    TlsSet {
        /// `<tls>`: 1 = TLS on.
        tls: bool,
        /// The uploaded certificate slot and content, if given (empty content clears the slot).
        cert: Option<(CertKind, Vec<u8>)>,
    },
    /// `AT+MQTTTLS?`
    TlsQuery,
    /// `AT+MQTTTLS=?`
    TlsTest,
    /// `AT+MQTTCONFIG=...`
    ConfigSet(MqttConfig),
    /// `AT+MQTTCONFIG?`
    ConfigQuery,
    /// `AT+MQTTCONFIG=?`
    ConfigTest,
    /// `AT+MQTTCONNECT`
    Connect,
    /// `AT+MQTTSTATE` (also accepted as `AT+MQTTSTATE?`)
    State,
    /// `AT+MQTTDISCONNECT`
    Disconnect,
    /// `AT+MQTTPUB=<topic>,<qos>,<retain>,<message>`
    Publish {
        /// Topic name (no wildcards).
        topic: String,
        /// 0, 1 or 2.
        qos: Qos,
        /// Retain flag.
        retain: bool,
        /// Payload bytes after unescaping.
        message: Vec<u8>,
    },
    /// `AT+MQTTPUB=?`
    PublishTest,
    /// `AT+MQTTSUB=<topic>,<qos>`
    Subscribe {
        /// Topic filter.
        topic: String,
        /// Requested QoS.
        qos: Qos,
    },
    /// `AT+MQTTSUB?`
    SubscribeQuery,
    /// `AT+MQTTSUB=?`
    SubscribeTest,
    /// `AT+MQTTUNSUB=<topic>`
    Unsubscribe(String),
}

/// Parse one command line (without its `\r` terminator).
pub fn parse(line: &[u8]) -> Result<Command, AtError> {
    let (name, tail) = match lex::split(line.trim_ascii_start())? {
        Line::Attention => return Ok(Command::Attention),
        // Basic command: only E0/E1 (`ATE` alone means E0).
        Line::Basic(basic) => return lex::echo(&basic, true).map(Command::Echo),
        Line::Extended(name, tail) => (name, tail),
    };
    let form = match tail {
        b"" => Form::Exec,
        b"?" => Form::Query,
        b"=?" => Form::Test,
        [b'=', args @ ..] => Form::Set(split_params(args)?),
        _ => return Err(AtError::Unknown),
    };
    command(&name, form)
}

fn command(name: &[u8], form: Form<'_>) -> Result<Command, AtError> {
    use Command as C;
    use Form as F;
    let cmd = match (name, form) {
        (b"+CMEE", F::Set(p)) => match p.as_slice() {
            [n] => C::CmeeSet(int_max(n, 2)? as u8),
            _ => return Err(AtError::InvalidParameter),
        },
        (b"+CMEE", F::Query) => C::CmeeQuery,
        (b"+CFUN", F::Set(p)) => match p.as_slice() {
            // Optional `<rst>` second parameter is accepted and ignored.
            [n] | [n, _] => C::CfunSet(int_max(n, 1)? as u8),
            _ => return Err(AtError::InvalidParameter),
        },
        (b"+CFUN", F::Query) => C::CfunQuery,
        (b"+CGMI", F::Exec) => C::Manufacturer,
        (b"+CGMM", F::Exec) => C::Model,
        (b"+CGMR", F::Exec) => C::Revision,
        (b"+MQTTTLS", F::Set(p)) => tls_set(&p)?,
        (b"+MQTTTLS", F::Query) => C::TlsQuery,
        (b"+MQTTTLS", F::Test) => C::TlsTest,
        (b"+MQTTCONFIG", F::Set(p)) => C::ConfigSet(config_set(&p)?),
        (b"+MQTTCONFIG", F::Query) => C::ConfigQuery,
        (b"+MQTTCONFIG", F::Test) => C::ConfigTest,
        (b"+MQTTCONNECT", F::Exec) => C::Connect,
        (b"+MQTTSTATE", F::Exec | F::Query) => C::State,
        (b"+MQTTDISCONNECT", F::Exec) => C::Disconnect,
        (b"+MQTTPUB", F::Set(p)) => match p.as_slice() {
            [topic, qos, retain, message] => {
                let topic = utf8(topic)?;
                if topic.is_empty() || topic.contains(['+', '#']) {
                    return Err(AtError::InvalidParameter);
                }
                C::Publish {
                    topic,
                    qos: int_max(qos, 2)? as u8,
                    retain: int_max(retain, 1)? == 1,
                    message: unescape(message, Escapes::Standard),
                }
            }
            _ => return Err(AtError::InvalidParameter),
        },
        (b"+MQTTPUB", F::Test) => C::PublishTest,
        (b"+MQTTSUB", F::Set(p)) => match p.as_slice() {
            [topic, qos] => {
                let topic = utf8(topic)?;
                if topic.is_empty() {
                    return Err(AtError::InvalidParameter);
                }
                C::Subscribe {
                    topic,
                    qos: int_max(qos, 2)? as u8,
                }
            }
            _ => return Err(AtError::InvalidParameter),
        },
        (b"+MQTTSUB", F::Query) => C::SubscribeQuery,
        (b"+MQTTSUB", F::Test) => C::SubscribeTest,
        (b"+MQTTUNSUB", F::Set(p)) => match p.as_slice() {
            [topic] => {
                let topic = utf8(topic)?;
                if topic.is_empty() {
                    return Err(AtError::InvalidParameter);
                }
                C::Unsubscribe(topic)
            }
            _ => return Err(AtError::InvalidParameter),
        },
        (
            b"+CMEE" | b"+CFUN" | b"+CGMI" | b"+CGMM" | b"+CGMR" | b"+MQTTTLS" | b"+MQTTCONFIG"
            | b"+MQTTCONNECT" | b"+MQTTSTATE" | b"+MQTTDISCONNECT" | b"+MQTTPUB" | b"+MQTTSUB"
            | b"+MQTTUNSUB",
            _,
        ) => return Err(AtError::InvalidParameter), // known name, unsupported form
        _ => return Err(AtError::Unknown),
    };
    Ok(cmd)
}

fn tls_set(p: &[RawParam<'_>]) -> Result<Command, AtError> {
    match p {
        [tls] => Ok(Command::TlsSet {
            tls: int_max(tls, 1)? == 1,
            cert: None,
        }),
        [tls, kind, content, size] => {
            let tls = int_max(tls, 1)? == 1;
            let kind = match int(kind)? {
                0 => CertKind::RootCa,
                1 => CertKind::ClientCert,
                2 => CertKind::ClientKey,
                _ => return Err(AtError::InvalidParameter),
            };
            let content = unescape(content, Escapes::Pem);
            let size = int(size)? as usize;
            if size != content.len() || size > MAX_CERT_LEN {
                return Err(AtError::InvalidParameter);
            }
            Ok(Command::TlsSet {
                tls,
                cert: Some((kind, content)),
            })
        }
        _ => Err(AtError::InvalidParameter),
    }
}

fn config_set(p: &[RawParam<'_>]) -> Result<MqttConfig, AtError> {
    let [host, port, id, clean, keepalive, user, password] = p else {
        return Err(AtError::InvalidParameter);
    };
    let host = utf8(host)?;
    let port = int_max(port, u32::from(u16::MAX))? as u16;
    if host.is_empty() || port == 0 {
        return Err(AtError::InvalidParameter);
    }
    Ok(MqttConfig {
        host,
        port,
        client_id: utf8(id)?,
        clean: int_max(clean, 1)? == 1,
        keepalive: int_max(keepalive, u32::from(u16::MAX))? as u16,
        user: utf8(user)?,
        password: utf8(password)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(quoted: bool, text: &[u8]) -> RawParam<'_> {
        RawParam { quoted, text }
    }

    #[test]
    fn splits_quoted_and_unquoted() {
        let p = split_params(br#""a,b",12,plain,"x\"y",,"#).unwrap();
        assert_eq!(
            p,
            vec![
                raw(true, b"a,b"),
                raw(false, b"12"),
                raw(false, b"plain"),
                raw(true, br#"x\"y"#),
                raw(false, b""),
                raw(false, b""),
            ]
        );
    }

    #[test]
    fn unescapes() {
        assert_eq!(
            unescape(&raw(true, br#"a\"b\\c\n"#), Escapes::Standard),
            br#"a"b\c\n"#
        );
        assert_eq!(
            unescape(&raw(true, br#"a\nb\rc\\n"#), Escapes::Pem),
            b"a\nb\rc\\n"
        );
        assert_eq!(unescape(&raw(false, br#"a\"b"#), Escapes::Pem), br#"a\"b"#);
    }

    #[test]
    fn quote_round_trips() {
        let s = br#"we"ird\topic"#;
        let q = quote(s);
        assert_eq!(q, br#""we\"ird\\topic""#);
        let p = split_params(&q).unwrap();
        assert_eq!(unescape(&p[0], Escapes::Standard), s);
    }

    #[test]
    fn bad_quoting_is_refused() {
        assert!(split_params(br#""abc"#).is_err());
        assert!(split_params(br#""abc\"#).is_err());
        assert!(split_params(br#""abc"x,1"#).is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(int(&raw(false, b" 42 ")), Ok(42));
        assert!(int(&raw(false, b"")).is_err());
        assert!(int(&raw(false, b"-1")).is_err());
        assert!(int(&raw(false, b"4294967296")).is_err());
        assert!(int(&raw(true, b"1")).is_err());
    }

    #[test]
    fn basic_commands() {
        assert_eq!(parse(b"AT"), Ok(Command::Attention));
        assert_eq!(parse(b"at"), Ok(Command::Attention));
        assert_eq!(parse(b"ATE0"), Ok(Command::Echo(false)));
        assert_eq!(parse(b"ate1"), Ok(Command::Echo(true)));
        assert_eq!(parse(b"AT+CFUN?"), Ok(Command::CfunQuery));
        assert_eq!(parse(b"AT+CFUN=1"), Ok(Command::CfunSet(1)));
        assert_eq!(parse(b"AT+CMEE=2"), Ok(Command::CmeeSet(2)));
        assert_eq!(parse(b"AT+CMEE=3"), Err(AtError::InvalidParameter));
        assert_eq!(parse(b"AT+FOO"), Err(AtError::Unknown));
        assert_eq!(parse(b"hello"), Err(AtError::Unknown));
        assert_eq!(parse(b"AT+MQTTCONNECT=1"), Err(AtError::InvalidParameter));
    }

    #[test]
    fn config_quoted_and_unquoted() {
        let want = MqttConfig {
            host: "183.230.40.16".into(),
            port: 8883,
            client_id: "MQTT002".into(),
            clean: true,
            keepalive: 60,
            user: "431671".into(),
            password: "a=b&c%2F".into(),
        };
        assert_eq!(
            parse(b"AT+MQTTCONFIG=183.230.40.16,8883,MQTT002,1,60,431671,a=b&c%2F"),
            Ok(Command::ConfigSet(want.clone()))
        );
        assert_eq!(
            parse(br#"AT+MQTTCONFIG="183.230.40.16",8883,"MQTT002",1,60,"431671","a=b&c%2F""#),
            Ok(Command::ConfigSet(want))
        );
        let Ok(Command::ConfigSet(c)) = parse(br#"AT+MQTTCONFIG="h",1883,"id",0,0,"","""#) else {
            panic!("empty credentials refused")
        };
        assert_eq!((c.user.as_str(), c.password.as_str()), ("", ""));
        let Ok(Command::ConfigSet(c)) = parse(b"AT+MQTTCONFIG=h,1883,id,0,0,,") else {
            panic!("empty unquoted credentials refused")
        };
        assert_eq!((c.user.as_str(), c.password.as_str()), ("", ""));
        assert!(parse(b"AT+MQTTCONFIG=h,70000,id,1,60,,").is_err());
        assert!(parse(b"AT+MQTTCONFIG=h,1883,id,2,60,,").is_err());
        assert!(parse(b"AT+MQTTCONFIG=h,1883,id,1,60,u").is_err());
    }

    #[test]
    fn publish_manual_example() {
        let line = br#"AT+MQTTPUB="$sys/431671/MQTT002/dp/post/json",1,0,"{\"id\":123}""#;
        assert_eq!(
            parse(line),
            Ok(Command::Publish {
                topic: "$sys/431671/MQTT002/dp/post/json".into(),
                qos: 1,
                retain: false,
                message: br#"{"id":123}"#.to_vec(),
            })
        );
        assert!(parse(b"AT+MQTTPUB=t,3,0,m").is_err());
        assert!(parse(b"AT+MQTTPUB=a/+,0,0,m").is_err());
        assert!(parse(b"AT+MQTTPUB=t,0,0").is_err());
        assert_eq!(parse(b"AT+MQTTPUB=?"), Ok(Command::PublishTest));
    }

    #[test]
    fn tls_size_is_checked_after_unescaping() {
        let ok = br#"AT+MQTTTLS=1,0,"-----BEGIN\n\"x\"\n",15"#;
        assert_eq!(
            parse(ok),
            Ok(Command::TlsSet {
                tls: true,
                cert: Some((CertKind::RootCa, b"-----BEGIN\n\"x\"\n".to_vec())),
            })
        );
        // 19 is the escaped length, not the content's.
        assert_eq!(
            parse(br#"AT+MQTTTLS=1,0,"-----BEGIN\n\"x\"\n",19"#),
            Err(AtError::InvalidParameter)
        );
        assert!(parse(br#"AT+MQTTTLS=1,3,"x",1"#).is_err());
        assert_eq!(
            parse(b"AT+MQTTTLS=0"),
            Ok(Command::TlsSet {
                tls: false,
                cert: None
            })
        );
        let big = format!("AT+MQTTTLS=1,0,\"{}\",1537", "a".repeat(1537));
        assert!(parse(big.as_bytes()).is_err());
    }

    #[test]
    fn never_panics_on_garbage() {
        let alphabet = b"AT+=?,\"\\ 0123MQTTPUBSUBCONFIGTLS\xff\x00";
        lex::garbage_lines(0x1234_5678, b"AT+MQTT", alphabet, |line| {
            let _ = parse(line);
        });
    }
}
