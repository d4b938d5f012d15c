//! UCchip UC8088 `AT+MQTT*` (docs/DIALECTS.md, "UCchip UC8088"): the command lines parsed by
//! [`crate::at`], answered as the UC8088 does.

use rumqttc::SubscribeReasonCode;

use super::{Personality, framed};
use crate::at::{self, AtError, CertKind, Command, MqttConfig};
use crate::broker::{TlsMaterial, code};
use crate::framer::Terminator;
use crate::modem::{Core, OpError};

/// Boot banner printed after a reboot.
pub const BOOT_BANNER: &[u8] = b"\r\nRDY\r\n";

/// Revision line answered to `AT+CGMR`.
pub const REVISION: &str = "UC8088-SIM-0.1.0";

/// How the modem answers `AT+CGMI`, `AT+CGMM` and `AT+CGMR`: modules differ, and nothing in
/// the manual limits these answers to one line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ident {
    /// One bare line each (`ucchip`, `8088`, [`REVISION`]), as the UC8088 does.
    #[default]
    Single,
    /// Several bare lines each (name, then web site / description / hardware and build).
    Lines,
    /// Several lines each, every one with the command's `+NAME: ` head.
    Prefixed,
}

impl Ident {
    /// The reply to an identification command whose lines in full are `lines`.
    fn reply(self, name: &str, lines: &[&str]) -> Reply {
        let lines = match self {
            Ident::Single => vec![lines[0].as_bytes().to_vec()],
            Ident::Lines => lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
            Ident::Prefixed => lines
                .iter()
                .map(|l| format!("{name}: {l}").into_bytes())
                .collect(),
        };
        Reply {
            lines,
            result: Ok(()),
        }
    }
}

impl std::str::FromStr for Ident {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "single" => Ok(Ident::Single),
            "lines" => Ok(Ident::Lines),
            "prefixed" => Ok(Ident::Prefixed),
            _ => Err(format!("{s:?}: expected single, lines or prefixed")),
        }
    }
}

/// Format the incoming-message URC `\r\n+MQTTRECV:"<topic>",<len>,<payload>\r\n`.
pub fn recv_urc(topic: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut v = b"\r\n+MQTTRECV:".to_vec();
    v.extend(at::quote(topic));
    v.extend(format!(",{},", payload.len()).bytes());
    v.extend_from_slice(payload);
    v.extend_from_slice(b"\r\n");
    v
}

/// A command's outcome: information lines, then OK or an error.
struct Reply {
    lines: Vec<Vec<u8>>,
    result: Result<(), AtError>,
}

impl Reply {
    fn ok() -> Self {
        Reply {
            lines: Vec::new(),
            result: Ok(()),
        }
    }
    fn line(text: impl Into<Vec<u8>>) -> Self {
        Reply {
            lines: vec![text.into()],
            result: Ok(()),
        }
    }
    fn err(e: AtError) -> Self {
        Reply {
            lines: Vec::new(),
            result: Err(e),
        }
    }
    /// `+<NAME>:<code>` then OK for 0, else the (CMEE-formatted) "operation not allowed".
    fn mqtt_code(name: &str, code: u8) -> Self {
        Reply {
            lines: vec![format!("+{name}:{code}").into_bytes()],
            result: if code == 0 {
                Ok(())
            } else {
                Err(AtError::NotAllowed)
            },
        }
    }
}

/// The UC8088's state.
pub(crate) struct Uc8088 {
    ident: Ident,
    echo: bool,
    cmee: u8,
    cfun: u8,
    tls_on: bool,
    tls: TlsMaterial,
    config: Option<MqttConfig>,
    subs: Vec<(String, u8)>,
}

impl Personality for Uc8088 {
    const TERMINATOR: Terminator = Terminator::Cr;
    const BANNER: &'static [u8] = BOOT_BANNER;

    fn boot(ident: Ident) -> Self {
        Uc8088 {
            ident,
            echo: true,
            cmee: 0,
            cfun: 1,
            tls_on: false,
            tls: TlsMaterial::default(),
            config: None,
            subs: Vec::new(),
        }
    }

    fn echo(&self) -> bool {
        self.echo
    }

    async fn on_line(&mut self, core: &mut Core, line: Vec<u8>) -> Option<usize> {
        let reply = match at::parse(&line) {
            Ok(cmd) => self.execute(core, cmd).await,
            Err(e) => Reply::err(e),
        };
        let mut bytes = Vec::new();
        for l in reply.lines {
            bytes.extend(framed(&l));
        }
        match reply.result {
            Ok(()) => bytes.extend_from_slice(b"\r\nOK\r\n"),
            Err(e) => bytes.extend(
                match self.cmee {
                    1 => format!("\r\n+CME ERROR: {}\r\n", e.cme_code()),
                    2 => format!("\r\n+CME ERROR: {}\r\n", e.cme_text()),
                    _ => "\r\nERROR\r\n".to_string(),
                }
                .bytes(),
            ),
        }
        core.respond(bytes);
        None
    }

    async fn on_raw(&mut self, _core: &mut Core, _data: Vec<u8>) {
        // The UC8088 has no prompted command.
    }

    fn message_urc(&self, topic: &[u8], payload: &[u8], _msgid: u16) -> Vec<u8> {
        recv_urc(topic, payload)
    }

    fn lost_urc(&mut self) -> Option<Vec<u8>> {
        None // no URC: AT+MQTTSTATE is the only source of truth
    }
}

impl Uc8088 {
    async fn execute(&mut self, core: &mut Core, cmd: Command) -> Reply {
        match cmd {
            Command::Attention => Reply::ok(),
            Command::Echo(on) => {
                self.echo = on;
                Reply::ok()
            }
            Command::CmeeSet(n) => {
                self.cmee = n;
                Reply::ok()
            }
            Command::CmeeQuery => Reply::line(format!("+CMEE: {}", self.cmee)),
            Command::CfunSet(n) => {
                self.cfun = n;
                if n == 0 {
                    core.broker.drop_connection();
                }
                Reply::ok()
            }
            Command::CfunQuery => Reply::line(format!("+CFUN: {}", self.cfun)),
            Command::Manufacturer => self.ident.reply("+CGMI", &["ucchip", "www.ucchip.cn"]),
            Command::Model => self.ident.reply("+CGMM", &["8088", "GPRS module"]),
            Command::Revision => self.ident.reply(
                "+CGMR",
                &[REVISION, "HW: V1.2", "Build: 2026-12-04, 12:00:00"],
            ),
            Command::TlsSet { tls, cert } => {
                self.tls_on = tls;
                if let Some((kind, content)) = cert {
                    let slot = match kind {
                        CertKind::RootCa => &mut self.tls.ca,
                        CertKind::ClientCert => &mut self.tls.cert,
                        CertKind::ClientKey => &mut self.tls.key,
                    };
                    *slot = content;
                }
                Reply::ok()
            }
            Command::TlsQuery => Reply::line(format!("+MQTTTLS:{}", u8::from(self.tls_on))),
            Command::TlsTest => {
                Reply::line("+MQTTTLS:(0-1),<type>,<cert file content>,<cert file size>")
            }
            Command::ConfigSet(c) => {
                self.config = Some(c);
                Reply::ok()
            }
            Command::ConfigQuery => match &self.config {
                Some(c) => Reply::line(format!(
                    "+MQTTCONFIG:{},{},{},{},{},{},{}",
                    c.host,
                    c.port,
                    c.client_id,
                    u8::from(c.clean),
                    c.keepalive,
                    c.user,
                    c.password
                )),
                None => Reply::err(AtError::NotAllowed),
            },
            Command::ConfigTest => Reply::line(
                "+MQTTCONFIG:<url>,<port>,<clientid>,(0-1),<keepalive>,<username>,<password>",
            ),
            Command::Connect => self.connect(core).await,
            Command::State => Reply::line(format!("+MQTTSTATE:{}", u8::from(core.connected()))),
            Command::Disconnect => {
                core.disconnect().await;
                Reply::ok()
            }
            Command::Publish {
                topic,
                qos,
                retain,
                message,
            } => match core.publish(topic, qos, retain, message).await {
                Ok(()) => Reply::ok(),
                Err(OpError::Timeout) if qos == 1 => {
                    Reply::mqtt_code("MQTTPUB", code::RETRY_NO_RESPONSE)
                }
                Err(OpError::Timeout) => Reply::mqtt_code("MQTTPUB", code::TIMEOUT),
                Err(_) => Reply::mqtt_code("MQTTPUB", code::NETWORK_ERROR),
            },
            Command::PublishTest => Reply::line("+MQTTPUB:<topic>,(0-2),(0-1);<message>"),
            Command::Subscribe { topic, qos } => self.subscribe(core, topic, qos).await,
            Command::SubscribeQuery => Reply {
                lines: self
                    .subs
                    .iter()
                    .map(|(t, q)| {
                        let mut l = b"+MQTTSUB:".to_vec();
                        l.extend(at::quote(t.as_bytes()));
                        l.extend(format!(",{q}").bytes());
                        l
                    })
                    .collect(),
                result: Ok(()),
            },
            Command::SubscribeTest => Reply::line("+MQTTSUB:<topic>,(0-2)"),
            Command::Unsubscribe(topic) => match core.unsubscribe(topic.clone()).await {
                Ok(()) => {
                    self.subs.retain(|(t, _)| *t != topic);
                    Reply::ok()
                }
                Err(OpError::Timeout) => Reply::mqtt_code("MQTTUNSUB", code::TIMEOUT),
                Err(_) => Reply::mqtt_code("MQTTUNSUB", code::NETWORK_ERROR),
            },
        }
    }

    async fn connect(&mut self, core: &mut Core) -> Reply {
        if self.cfun != 1 {
            return Reply::err(AtError::NotAllowed);
        }
        if core.connected() {
            return Reply::mqtt_code("MQTTCONNECT", code::SUCCESS); // already up: nothing to do
        }
        let Some(cfg) = self.config.clone() else {
            return Reply::mqtt_code("MQTTCONNECT", code::BAD_PARAMETER);
        };
        let tls = self.tls_on.then_some(&self.tls);
        match core.connect(&cfg, tls, None).await {
            Ok(session_present) => {
                if !session_present {
                    self.subs.clear(); // a new session has no subscriptions
                }
                Reply::mqtt_code("MQTTCONNECT", code::SUCCESS)
            }
            Err(e) => Reply::mqtt_code("MQTTCONNECT", e.code()),
        }
    }

    async fn subscribe(&mut self, core: &mut Core, topic: String, qos: u8) -> Reply {
        match core.subscribe(&[(topic.clone(), qos)]).await {
            Ok(codes) => {
                if codes.contains(&SubscribeReasonCode::Failure) {
                    return Reply::mqtt_code("MQTTSUB", code::SERVER_REFUSED);
                }
                match self.subs.iter_mut().find(|(t, _)| *t == topic) {
                    Some(s) => s.1 = qos,
                    None => self.subs.push((topic, qos)),
                }
                Reply::ok()
            }
            Err(OpError::Rejected) => Reply::err(AtError::InvalidParameter),
            Err(OpError::Timeout) => Reply::mqtt_code("MQTTSUB", code::TIMEOUT),
            Err(_) => Reply::mqtt_code("MQTTSUB", code::NETWORK_ERROR),
        }
    }
}
