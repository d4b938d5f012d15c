//! Quectel `AT+QMT*` with client index 0, as a BG96 (docs/DIALECTS.md, "Quectel QMT", "What
//! the driver and the simulator do"): command lines end with CR, answers are
//! `\r\n<line>\r\n` with a space after the colon, and every MQTT operation answers `OK` (or, for
//! a publish, the prompt) at once and its outcome later in a result URC.

pub mod parse;

use std::collections::BTreeMap;

use rumqttc::{LastWill, SubscribeReasonCode};

use self::parse::{Cfg, CfgKey, Command, SslCfg, SslKey, Will, ufs_name};
use super::uc8088::Ident;
use super::{Personality, framed};
use crate::at::{AtError, MqttConfig};
use crate::broker::{ConnectError, ProbeError, TlsMaterial, probe, probe_tls};
use crate::framer::Terminator;
use crate::modem::{Core, qos_of};

/// Boot banner printed after a reboot.
pub const BOOT_BANNER: &[u8] = b"\r\nRDY\r\n";

/// `AT+CGMI`
pub const MANUFACTURER: &str = "Quectel";
/// `AT+CGMM`
pub const MODEL: &str = "BG96";
/// `AT+CGMR`
pub const REVISION: &str = "BG96MAR02A07M1G";

/// The prompt that asks for a publish's payload.
pub const PROMPT: &[u8] = b"\r\n> ";
/// What `AT+QFUPL` answers before it takes the file's bytes.
pub const CONNECT: &[u8] = b"\r\nCONNECT\r\n";

/// `+CME ERROR` of the FILE commands: the file does not exist.
pub const FILE_NOT_FOUND: u16 = 405;
/// `+CME ERROR` of the FILE commands: the file exists already.
pub const FILE_EXISTS: u16 = 407;

/// The checksum `AT+QFUPL` reports: the XOR of the bytes taken as big-endian 16-bit words,
/// an odd last byte being the high byte of a word whose low byte is 0.
pub fn qfupl_checksum(data: &[u8]) -> u16 {
    data.chunks(2).fold(0, |acc, pair| {
        acc ^ u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)])
    })
}

/// `+QMTSTAT` code reported when the connection goes away unasked: "connection closed or
/// reset by peer".
const LOST_CODE: u8 = 1;

/// A publish waiting for its payload.
struct PubJob {
    ext: bool,
    msgid: u16,
    qos: u8,
    retain: bool,
    topic: String,
}

/// What a prompted command does with its data.
enum Awaiting {
    Pub(PubJob),
    Upload { name: String },
}

/// One SSL context of `AT+QSSLCFG`.
#[derive(Debug, Clone)]
struct SslCtx {
    version: u8,
    suite: u16,
    seclevel: u8,
    cacert: Option<String>,
    clientcert: Option<String>,
    clientkey: Option<String>,
    sni: bool,
    ignore_local_time: bool,
}

impl Default for SslCtx {
    fn default() -> Self {
        SslCtx {
            version: 4,
            suite: 0xFFFF,
            seclevel: 0,
            cacert: None,
            clientcert: None,
            clientkey: None,
            sni: false,
            ignore_local_time: true,
        }
    }
}

/// The Quectel module's state (client 0 only).
pub(crate) struct Quectel {
    echo: bool,
    cmee: u8,
    cfun: u8,
    version: u8,
    pdpcid: u8,
    ssl: (bool, u8),
    keepalive: u16,
    clean: bool,
    timeout: (u8, u8, bool),
    will: Option<Will>,
    recv_len: bool,
    /// Host and port opened with `AT+QMTOPEN`.
    opened: Option<(String, u16)>,
    /// The TLS the client was opened with (`AT+QMTCFG="ssl"` on).
    opened_tls: Option<TlsMaterial>,
    awaiting: Option<Awaiting>,
    ssl_ctx: [SslCtx; 6],
    /// The user file system, by name without the `UFS:` prefix. It is flash: a reboot
    /// keeps it.
    files: BTreeMap<String, Vec<u8>>,
}

impl Personality for Quectel {
    const TERMINATOR: Terminator = Terminator::Cr;
    const BANNER: &'static [u8] = BOOT_BANNER;

    fn boot(_ident: Ident) -> Self {
        Quectel {
            echo: true,
            cmee: 0,
            cfun: 1,
            version: 4,
            pdpcid: 1,
            ssl: (false, 0),
            keepalive: 120,
            clean: true,
            timeout: (5, 3, false),
            will: None,
            recv_len: false,
            opened: None,
            opened_tls: None,
            awaiting: None,
            ssl_ctx: Default::default(),
            files: BTreeMap::new(),
        }
    }

    fn reboot(&mut self, ident: Ident) {
        let files = std::mem::take(&mut self.files);
        *self = Quectel {
            files,
            ..Quectel::boot(ident)
        };
    }

    fn echo(&self) -> bool {
        self.echo
    }

    async fn on_line(&mut self, core: &mut Core, line: Vec<u8>) -> Option<usize> {
        match parse::parse(&line) {
            Ok(cmd) => self.execute(core, cmd).await,
            Err(e) => {
                self.fail(core, e);
                None
            }
        }
    }

    async fn on_raw(&mut self, core: &mut Core, data: Vec<u8>) {
        let job = match self.awaiting.take() {
            None => return,
            Some(Awaiting::Upload { name }) => {
                let sum = qfupl_checksum(&data);
                let text = format!("\r\n+QFUPL: {},{sum:x}\r\n\r\nOK\r\n", data.len());
                self.files.insert(name, data);
                core.respond(text.into_bytes());
                return;
            }
            Some(Awaiting::Pub(job)) => job,
        };
        core.respond(b"\r\nOK\r\n".to_vec());
        // Not connected, no acknowledgement: 2 (failed to send), as any failure.
        let result = if core
            .publish(job.topic, job.qos, job.retain, data)
            .await
            .is_ok()
        {
            0
        } else {
            2
        };
        let name = if job.ext { "QMTPUBEX" } else { "QMTPUB" };
        core.urc(framed(
            format!("+{name}: 0,{},{result}", job.msgid).as_bytes(),
        ));
    }

    fn message_urc(&self, topic: &[u8], payload: &[u8], msgid: u16) -> Vec<u8> {
        let mut v = format!("\r\n+QMTRECV: 0,{msgid},\"").into_bytes();
        v.extend_from_slice(topic);
        v.extend_from_slice(b"\",");
        if self.recv_len {
            v.extend(format!("{},", payload.len()).bytes());
        }
        v.push(b'"');
        v.extend_from_slice(payload);
        v.extend_from_slice(b"\"\r\n");
        v
    }

    fn lost_urc(&mut self) -> Option<Vec<u8>> {
        self.opened = None; // the client is closed: QMTOPEN again
        Some(framed(format!("+QMTSTAT: 0,{LOST_CODE}").as_bytes()))
    }
}

impl Quectel {
    /// Information lines, then `OK`.
    fn ok(&self, core: &Core, lines: &[String]) {
        let mut v = Vec::new();
        if !lines.is_empty() {
            v.extend(framed(lines.join("\r\n").as_bytes()));
        }
        v.extend_from_slice(b"\r\nOK\r\n");
        core.respond(v);
    }

    /// `ERROR`, or `+CME ERROR` after `AT+CMEE=1|2`. An unknown command is a plain `ERROR`
    /// whatever CMEE says (it is no equipment error).
    fn fail(&self, core: &Core, e: AtError) {
        let text = match (self.cmee, e) {
            (_, AtError::Unknown) | (0, _) => "\r\nERROR\r\n".to_string(),
            (1, e) => format!("\r\n+CME ERROR: {}\r\n", e.cme_code()),
            (_, e) => format!("\r\n+CME ERROR: {}\r\n", e.cme_text()),
        };
        core.respond(text.into_bytes());
    }

    /// A FILE command's `+CME ERROR: <code>` (`ERROR` without CMEE).
    fn fail_file(&self, core: &Core, code: u16) {
        let text = match (self.cmee, code) {
            (0, _) => "\r\nERROR\r\n".to_string(),
            (2, FILE_NOT_FOUND) => "\r\n+CME ERROR: File not found\r\n".to_string(),
            (2, FILE_EXISTS) => "\r\n+CME ERROR: File already existed\r\n".to_string(),
            (_, code) => format!("\r\n+CME ERROR: {code}\r\n"),
        };
        core.respond(text.into_bytes());
    }

    fn result_urc(core: &Core, text: String) {
        core.urc(framed(text.as_bytes()));
    }

    async fn execute(&mut self, core: &mut Core, cmd: Command) -> Option<usize> {
        // Client indexes 1..=5 exist on the module, but the simulator has one client.
        let idx = match &cmd {
            Command::CfgSet(i, _) | Command::CfgQuery(i, _) => Some(*i),
            Command::Open { idx, .. }
            | Command::Conn { idx, .. }
            | Command::Sub { idx, .. }
            | Command::Uns { idx, .. }
            | Command::Pub { idx, .. } => Some(*idx),
            Command::Close(i) | Command::Disc(i) => Some(*i),
            _ => None,
        };
        if idx.is_some_and(|i| i != 0) {
            self.fail(core, AtError::NotAllowed);
            return None;
        }
        match cmd {
            Command::Attention => self.ok(core, &[]),
            Command::Echo(on) => {
                self.echo = on;
                self.ok(core, &[]);
            }
            Command::Info => self.ok(
                core,
                &[
                    MANUFACTURER.into(),
                    MODEL.into(),
                    format!("Revision: {REVISION}"),
                ],
            ),
            Command::CmeeSet(n) => {
                self.cmee = n;
                self.ok(core, &[]);
            }
            Command::CmeeQuery => self.ok(core, &[format!("+CMEE: {}", self.cmee)]),
            Command::CfunSet(n) => {
                self.cfun = n;
                if n != 1 {
                    core.broker.drop_connection(); // the radio is off: the link dies
                }
                self.ok(core, &[]);
            }
            Command::CfunQuery => self.ok(core, &[format!("+CFUN: {}", self.cfun)]),
            Command::Manufacturer => self.ok(core, &[MANUFACTURER.into()]),
            Command::Model => self.ok(core, &[MODEL.into()]),
            Command::Revision => self.ok(core, &[REVISION.into()]),
            Command::CfgSet(_, cfg) => self.configure(core, cfg),
            Command::CfgQuery(_, key) => {
                let value = match key {
                    CfgKey::Version => format!("\"version\",{}", self.version),
                    CfgKey::PdpCid => format!("\"pdpcid\",{}", self.pdpcid),
                    CfgKey::Ssl => format!("\"ssl\",{},{}", u8::from(self.ssl.0), self.ssl.1),
                    CfgKey::KeepAlive => format!("\"keepalive\",{}", self.keepalive),
                    CfgKey::Session => format!("\"session\",{}", u8::from(self.clean)),
                    CfgKey::Timeout => format!(
                        "\"timeout\",{},{},{}",
                        self.timeout.0,
                        self.timeout.1,
                        u8::from(self.timeout.2)
                    ),
                    CfgKey::Will => match &self.will {
                        None => "\"will\",0".to_string(),
                        Some(w) => format!(
                            "\"will\",1,{},{},\"{}\",\"{}\"",
                            w.qos,
                            u8::from(w.retain),
                            w.topic,
                            String::from_utf8_lossy(&w.msg)
                        ),
                    },
                    CfgKey::RecvMode => format!("\"recv/mode\",0,{}", u8::from(self.recv_len)),
                };
                self.ok(core, &[format!("+QMTCFG: {value}")]);
            }
            Command::Open { host, port, .. } => self.open(core, host, port).await,
            Command::OpenQuery => match &self.opened {
                Some((host, port)) => self.ok(core, &[format!("+QMTOPEN: 0,\"{host}\",{port}")]),
                None => self.ok(core, &[]),
            },
            Command::Close(_) => {
                self.ok(core, &[]);
                if self.opened.take().is_some() {
                    core.drop_link(); // the socket closes, no DISCONNECT
                    Self::result_urc(core, "+QMTCLOSE: 0,0".into());
                } else {
                    Self::result_urc(core, "+QMTCLOSE: 0,-1".into());
                }
            }
            Command::Conn {
                client_id,
                user,
                password,
                ..
            } => self.connect(core, client_id, user, password).await,
            Command::ConnQuery => {
                if self.opened.is_none() {
                    self.ok(core, &[]); // no client
                } else {
                    let state = if core.connected() { 3 } else { 1 };
                    self.ok(core, &[format!("+QMTCONN: 0,{state}")]);
                }
            }
            Command::Disc(_) => {
                self.ok(core, &[]);
                if self.opened.take().is_some() || core.connected() {
                    core.disconnect().await;
                    Self::result_urc(core, "+QMTDISC: 0,0".into());
                } else {
                    Self::result_urc(core, "+QMTDISC: 0,-1".into());
                }
            }
            Command::Sub { msgid, filters, .. } => {
                if filters.iter().any(|(f, _)| !rumqttc::valid_filter(f)) {
                    self.fail(core, AtError::InvalidParameter);
                    return None;
                }
                self.ok(core, &[]);
                let text = match core.subscribe(&filters).await {
                    Ok(codes) => {
                        let granted: Vec<String> = codes
                            .iter()
                            .map(|c| match c {
                                SubscribeReasonCode::Success(q) => (*q as u8).to_string(),
                                SubscribeReasonCode::Failure => "128".to_string(),
                            })
                            .collect();
                        format!("+QMTSUB: 0,{msgid},0,{}", granted.join(","))
                    }
                    Err(_) => format!("+QMTSUB: 0,{msgid},2"),
                };
                Self::result_urc(core, text);
            }
            Command::Uns { msgid, filters, .. } => {
                if filters.iter().any(|f| !rumqttc::valid_filter(f)) {
                    self.fail(core, AtError::InvalidParameter);
                    return None;
                }
                self.ok(core, &[]);
                let mut result = 0;
                for f in filters {
                    if core.unsubscribe(f).await.is_err() {
                        result = 2;
                        break;
                    }
                }
                Self::result_urc(core, format!("+QMTUNS: 0,{msgid},{result}"));
            }
            Command::Pub {
                ext,
                msgid,
                qos,
                retain,
                topic,
                len,
                ..
            } => {
                self.awaiting = Some(Awaiting::Pub(PubJob {
                    ext,
                    msgid,
                    qos,
                    retain,
                    topic,
                }));
                core.respond(PROMPT.to_vec());
                return Some(len);
            }
            Command::FileList(name) => {
                let lines: Vec<String> = match name {
                    None => self
                        .files
                        .iter()
                        .map(|(n, data)| format!("+QFLST: \"{n}\",{}", data.len()))
                        .collect(),
                    Some(name) => match self.files.get(ufs_name(&name)) {
                        Some(data) => vec![format!("+QFLST: \"{name}\",{}", data.len())],
                        None => {
                            self.fail_file(core, FILE_NOT_FOUND);
                            return None;
                        }
                    },
                };
                self.ok(core, &lines);
            }
            Command::FileDel(None) => {
                self.files.clear();
                self.ok(core, &[]);
            }
            Command::FileDel(Some(name)) => {
                if self.files.remove(ufs_name(&name)).is_some() {
                    self.ok(core, &[]);
                } else {
                    self.fail_file(core, FILE_NOT_FOUND);
                }
            }
            Command::FileUpload {
                name,
                size,
                ackmode,
                ..
            } => {
                let name = ufs_name(&name).to_string();
                if self.files.contains_key(&name) {
                    self.fail_file(core, FILE_EXISTS);
                } else if ackmode {
                    // The acknowledged mode ("A" every 1024 bytes) is not simulated.
                    self.fail(core, AtError::InvalidParameter);
                } else {
                    self.awaiting = Some(Awaiting::Upload { name });
                    core.respond(CONNECT.to_vec());
                    return Some(size);
                }
            }
            Command::SslCfgSet(ctx, cfg) => {
                let c = &mut self.ssl_ctx[usize::from(ctx)];
                match cfg {
                    SslCfg::SslVersion(v) => c.version = v,
                    SslCfg::CipherSuite(s) => c.suite = s,
                    SslCfg::SecLevel(l) => c.seclevel = l,
                    SslCfg::CaCert(n) => c.cacert = Some(n),
                    SslCfg::ClientCert(n) => c.clientcert = Some(n),
                    SslCfg::ClientKey(n) => c.clientkey = Some(n),
                    SslCfg::Sni(on) => c.sni = on,
                    SslCfg::IgnoreLocalTime(on) => c.ignore_local_time = on,
                }
                self.ok(core, &[]);
            }
            Command::SslCfgQuery(ctx, key) => {
                let c = &self.ssl_ctx[usize::from(ctx)];
                let file = |f: &Option<String>| format!("\"{}\"", f.as_deref().unwrap_or(""));
                let (name, value) = match key {
                    SslKey::SslVersion => ("sslversion", c.version.to_string()),
                    SslKey::CipherSuite => ("ciphersuite", format!("0X{:04X}", c.suite)),
                    SslKey::SecLevel => ("seclevel", c.seclevel.to_string()),
                    SslKey::CaCert => ("cacert", file(&c.cacert)),
                    SslKey::ClientCert => ("clientcert", file(&c.clientcert)),
                    SslKey::ClientKey => ("clientkey", file(&c.clientkey)),
                    SslKey::Sni => ("sni", u8::from(c.sni).to_string()),
                    SslKey::IgnoreLocalTime => {
                        ("ignorelocaltime", u8::from(c.ignore_local_time).to_string())
                    }
                };
                self.ok(core, &[format!("+QSSLCFG: \"{name}\",{ctx},{value}")]);
            }
            Command::PubExTest => self.ok(
                core,
                &["+QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),\"topic\",\"length\"".into()],
            ),
        }
        None
    }

    fn configure(&mut self, core: &Core, cfg: Cfg) {
        match cfg {
            Cfg::Version(v) => self.version = v, // the link speaks MQTT 3.1.1 either way
            Cfg::PdpCid(c) => self.pdpcid = c,
            Cfg::Ssl(on, ctx) => self.ssl = (on, ctx),
            Cfg::KeepAlive(k) => self.keepalive = k,
            Cfg::Session(clean) => self.clean = clean,
            Cfg::Timeout(t, r, n) => self.timeout = (t, r, n),
            Cfg::Will(w) => self.will = w,
            Cfg::RecvMode(0, len) => self.recv_len = len,
            Cfg::RecvMode(..) => {
                // Buffered mode (payload read with AT+QMTRECV) is not simulated.
                self.fail(core, AtError::InvalidParameter);
                return;
            }
        }
        self.ok(core, &[]);
    }

    async fn open(&mut self, core: &mut Core, host: String, port: u16) {
        self.ok(core, &[]);
        let result: i8 = if self.opened.is_some() || core.connected() {
            2 // client index occupied
        } else if self.cfun != 1 {
            3 // no PDP context without the radio
        } else {
            let tls = if self.ssl.0 {
                match self.tls_material(self.ssl.1) {
                    Some(tls) => Some(tls),
                    None => {
                        // A file named by the context is not in the UFS.
                        Self::result_urc(core, "+QMTOPEN: 0,-1".into());
                        return;
                    }
                }
            } else {
                None
            };
            let probed = match &tls {
                None => probe(&host, port, core.connect_timeout).await,
                Some(tls) => probe_tls(&host, port, tls, core.connect_timeout).await,
            };
            match probed {
                Ok(()) => {
                    self.opened = Some((host, port));
                    self.opened_tls = tls;
                    0
                }
                Err(ProbeError::Dns) => 4,
                Err(ProbeError::Tcp | ProbeError::Tls) => -1,
            }
        };
        Self::result_urc(core, format!("+QMTOPEN: 0,{result}"));
    }

    /// The TLS of SSL context `ctx`: `seclevel` 0 takes any server certificate, 1 verifies it
    /// with the `cacert` file, 2 also presents the `clientcert` and `clientkey` files. `None`
    /// when a file needed is not named or not stored.
    fn tls_material(&self, ctx: u8) -> Option<TlsMaterial> {
        let c = self.ssl_ctx.get(usize::from(ctx))?;
        let file = |name: &Option<String>| {
            let name = name.as_deref()?;
            self.files.get(ufs_name(name)).cloned()
        };
        let mut tls = TlsMaterial {
            verify: c.seclevel > 0,
            ..TlsMaterial::default()
        };
        if c.seclevel >= 1 {
            tls.ca = file(&c.cacert)?;
        }
        if c.seclevel == 2 {
            tls.cert = file(&c.clientcert)?;
            tls.key = file(&c.clientkey)?;
        }
        Some(tls)
    }

    async fn connect(
        &mut self,
        core: &mut Core,
        client_id: String,
        user: String,
        password: String,
    ) {
        self.ok(core, &[]);
        let Some((host, port)) = self.opened.clone() else {
            Self::result_urc(core, "+QMTCONN: 0,2".into()); // network not opened
            return;
        };
        if core.connected() {
            Self::result_urc(core, "+QMTCONN: 0,0,0".into());
            return;
        }
        let cfg = MqttConfig {
            host,
            port,
            client_id,
            clean: self.clean,
            keepalive: self.keepalive,
            user,
            password,
        };
        let will = self.will.as_ref().map(|w| {
            let qos = qos_of(w.qos);
            LastWill::new(w.topic.clone(), w.msg.clone(), qos, w.retain)
        });
        let text = match core.connect(&cfg, self.opened_tls.as_ref(), will).await {
            Ok(_) => "+QMTCONN: 0,0,0".to_string(),
            Err(ConnectError::Refused(rc)) => format!("+QMTCONN: 0,0,{rc}"),
            Err(_) => "+QMTCONN: 0,2".to_string(),
        };
        Self::result_urc(core, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qfupl_checksum_xors_big_endian_pairs() {
        assert_eq!(qfupl_checksum(b""), 0);
        assert_eq!(qfupl_checksum(b"1"), 0x3100);
        assert_eq!(qfupl_checksum(b"12345"), 0x3132 ^ 0x3334 ^ 0x3500);
        assert_eq!(qfupl_checksum(b"\xff\x00\x00\xff"), 0xffff);
        assert_eq!(qfupl_checksum(b"abab"), 0);
        assert_eq!(format!("{:x}", qfupl_checksum(b"\x02\x1c")), "21c");
    }
}
