//! Quectel `AT+QMT*` with client index 0, as a BG96 (docs/DIALECTS.md, "Quectel QMT", "What
//! the driver and the simulator do"): command lines end with CR, answers are
//! `\r\n<line>\r\n` with a space after the colon, and every MQTT operation answers `OK` (or, for
//! a publish, the prompt) at once and its outcome later in a result URC.

pub mod parse;

use rumqttc::{LastWill, SubscribeReasonCode};

use self::parse::{Cfg, CfgKey, Command, Will};
use super::uc8088::Ident;
use super::{Personality, framed};
use crate::at::{AtError, MqttConfig};
use crate::broker::{ConnectError, ProbeError, probe};
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
    awaiting: Option<PubJob>,
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
            awaiting: None,
        }
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
        let Some(job) = self.awaiting.take() else {
            return;
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
                self.awaiting = Some(PubJob {
                    ext,
                    msgid,
                    qos,
                    retain,
                    topic,
                });
                core.respond(PROMPT.to_vec());
                return Some(len);
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
        } else if self.ssl.0 {
            -1 // no SSL context is simulated
        } else {
            match probe(&host, port, core.connect_timeout).await {
                Ok(()) => {
                    self.opened = Some((host, port));
                    0
                }
                Err(ProbeError::Dns) => 4,
                Err(ProbeError::Tcp) => -1,
            }
        };
        Self::result_urc(core, format!("+QMTOPEN: 0,{result}"));
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
        let text = match core.connect(&cfg, None, will).await {
            Ok(_) => "+QMTCONN: 0,0,0".to_string(),
            Err(ConnectError::Refused(rc)) => format!("+QMTCONN: 0,0,{rc}"),
            Err(_) => "+QMTCONN: 0,2".to_string(),
        };
        Self::result_urc(core, text);
    }
}
