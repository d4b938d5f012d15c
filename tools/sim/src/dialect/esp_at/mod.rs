//! Espressif ESP-AT `AT+MQTT*` with link id 0 (docs/DIALECTS.md, "ESP-AT", "What the driver
//! and the simulator do"): command lines end with CR-LF, answers have no space after the colon,
//! information lines and URCs are written `<line>\r\n` and final results `\r\nOK\r\n` /
//! `\r\nERROR\r\n`, as ESP-AT firmware does.

pub mod parse;

use rumqttc::{LastWill, SubscribeReasonCode};

use self::parse::{Command, ConnCfg, LongField, UserCfg};
use super::Personality;
use super::uc8088::Ident;
use crate::at::MqttConfig;
use crate::framer::Terminator;
use crate::modem::{Core, qos_of};

/// Boot banner printed after a reboot (`AT+RST` or [`crate::SimHandle::reboot`]).
pub const BOOT_BANNER: &[u8] = b"\r\nready\r\n";

/// The lines `AT+GMR` answers, before `OK`.
pub const VERSION_LINES: [&str; 4] = [
    "AT version:3.4.0.0(sim)",
    "SDK version:v5.0",
    "compile time:Dec  4 2026 12:00:00",
    "Bin version:mqtt-modem-sim",
];

/// The prompt that asks for raw data, right after the command's `OK`.
pub const PROMPT: &[u8] = b"\r\nOK\r\n>";

const OK: &[u8] = b"\r\nOK\r\n";
const ERROR: &[u8] = b"\r\nERROR\r\n";
/// At most this many subscriptions at a time.
const MAX_SUBS: usize = 10;

/// What a prompted command does with its data.
enum Awaiting {
    Long(LongField),
    PubRaw {
        topic: String,
        qos: u8,
        retain: bool,
    },
}

/// Where `AT+MQTTCONN` connected to.
struct Target {
    host: String,
    port: u16,
    reconnect: bool,
}

/// The ESP-AT module's state.
pub(crate) struct EspAt {
    echo: bool,
    user: Option<UserCfg>,
    conn: Option<ConnCfg>,
    target: Option<Target>,
    /// The link was up and went away (state 3).
    dropped: bool,
    subs: Vec<(String, u8)>,
    awaiting: Option<Awaiting>,
}

/// `<line>\r\n`: how ESP-AT writes information lines and URCs.
fn line(text: impl AsRef<[u8]>) -> Vec<u8> {
    let mut v = text.as_ref().to_vec();
    v.extend_from_slice(b"\r\n");
    v
}

impl Personality for EspAt {
    const TERMINATOR: Terminator = Terminator::CrLf;
    const BANNER: &'static [u8] = BOOT_BANNER;

    fn boot(_ident: Ident) -> Self {
        EspAt {
            echo: true,
            user: None,
            conn: None,
            target: None,
            dropped: false,
            subs: Vec::new(),
            awaiting: None,
        }
    }

    fn echo(&self) -> bool {
        self.echo
    }

    async fn on_line(&mut self, core: &mut Core, line: Vec<u8>) -> Option<usize> {
        match parse::parse(&line) {
            Ok(cmd) => self.execute(core, cmd).await,
            Err(_) => {
                core.respond(ERROR);
                None
            }
        }
    }

    async fn on_raw(&mut self, core: &mut Core, data: Vec<u8>) {
        match self.awaiting.take() {
            Some(Awaiting::Long(field)) => {
                let (Some(user), Ok(text)) = (self.user.as_mut(), String::from_utf8(data)) else {
                    core.respond(ERROR);
                    return;
                };
                match field {
                    LongField::ClientId => user.client_id = text,
                    LongField::Username => user.username = text,
                    LongField::Password => user.password = text,
                }
                core.respond(OK);
            }
            Some(Awaiting::PubRaw { topic, qos, retain }) => {
                let ok = core.publish(topic, qos, retain, data).await.is_ok();
                core.respond(line(if ok { "+MQTTPUB:OK" } else { "+MQTTPUB:FAIL" }));
            }
            None => {}
        }
    }

    fn message_urc(&self, topic: &[u8], payload: &[u8], _msgid: u16) -> Vec<u8> {
        let mut v = b"+MQTTSUBRECV:0,\"".to_vec();
        v.extend_from_slice(topic);
        v.extend(format!("\",{},", payload.len()).bytes());
        v.extend_from_slice(payload);
        v.extend_from_slice(b"\r\n");
        v
    }

    fn lost_urc(&mut self) -> Option<Vec<u8>> {
        self.dropped = true;
        Some(line("+MQTTDISCONNECTED:0"))
    }
}

impl EspAt {
    /// `+MQTTCONN` state: 0 nothing set, 1 USERCFG, 2 CONNCFG, 3 disconnected, 4 connected
    /// with no subscription, 6 connected with subscriptions.
    fn state(&self, core: &Core) -> u8 {
        if core.connected() {
            if self.subs.is_empty() { 4 } else { 6 }
        } else if self.dropped {
            3
        } else if self.conn.is_some() {
            2
        } else if self.user.is_some() {
            1
        } else {
            0
        }
    }

    async fn execute(&mut self, core: &mut Core, cmd: Command) -> Option<usize> {
        let reply: Vec<u8> = match cmd {
            Command::Attention => OK.to_vec(),
            Command::Echo(on) => {
                self.echo = on;
                OK.to_vec()
            }
            Command::Version => {
                let mut v: Vec<u8> = VERSION_LINES.iter().flat_map(line).collect();
                v.extend_from_slice(OK);
                v
            }
            Command::Restart => {
                core.respond(OK);
                core.reset();
                *self = EspAt::boot(Ident::default());
                core.urc(BOOT_BANNER);
                return None;
            }
            Command::UserCfg(u) => {
                self.user = Some(u);
                OK.to_vec()
            }
            Command::Long(field, len) => {
                if self.user.is_none() {
                    ERROR.to_vec()
                } else {
                    self.awaiting = Some(Awaiting::Long(field));
                    core.respond(PROMPT);
                    return Some(len);
                }
            }
            Command::ConnCfg(c) => {
                if self.user.is_none() {
                    ERROR.to_vec()
                } else {
                    self.conn = Some(c);
                    OK.to_vec()
                }
            }
            Command::Conn {
                host,
                port,
                reconnect,
            } => self.connect(core, host, port, reconnect).await,
            Command::ConnQuery => {
                let (scheme, path) = self
                    .user
                    .as_ref()
                    .map_or((0, ""), |u| (u.scheme, u.path.as_str()));
                let (host, port, reconnect) = self
                    .target
                    .as_ref()
                    .map_or(("", 0, false), |t| (t.host.as_str(), t.port, t.reconnect));
                let mut v = line(format!(
                    "+MQTTCONN:0,{},{scheme},\"{host}\",\"{port}\",\"{path}\",{}",
                    self.state(core),
                    u8::from(reconnect)
                ));
                v.extend_from_slice(OK);
                v
            }
            Command::Pub {
                topic,
                data,
                qos,
                retain,
            } => {
                if core.publish(topic, qos, retain, data).await.is_ok() {
                    OK.to_vec()
                } else {
                    ERROR.to_vec()
                }
            }
            Command::PubRaw {
                topic,
                len,
                qos,
                retain,
            } => {
                if !core.connected() {
                    ERROR.to_vec()
                } else {
                    self.awaiting = Some(Awaiting::PubRaw { topic, qos, retain });
                    core.respond(PROMPT);
                    return Some(len);
                }
            }
            Command::Sub { topic, qos } => self.subscribe(core, topic, qos).await,
            Command::SubQuery => {
                let state = self.state(core);
                let mut v: Vec<u8> = self
                    .subs
                    .iter()
                    .flat_map(|(t, q)| line(format!("+MQTTSUB:0,{state},\"{t}\",{q}")))
                    .collect();
                v.extend_from_slice(OK);
                v
            }
            Command::Unsub(topic) => {
                if !core.connected() {
                    ERROR.to_vec()
                } else if !self.subs.iter().any(|(t, _)| *t == topic) {
                    let mut v = line("NO UNSUBSCRIBE");
                    v.extend_from_slice(OK);
                    v
                } else if core.unsubscribe(topic.clone()).await.is_ok() {
                    self.subs.retain(|(t, _)| *t != topic);
                    OK.to_vec()
                } else {
                    ERROR.to_vec()
                }
            }
            Command::Clean => {
                if self.state(core) == 0 {
                    ERROR.to_vec() // nothing to clean
                } else {
                    core.disconnect().await;
                    *self = EspAt {
                        echo: self.echo,
                        ..EspAt::boot(Ident::default())
                    };
                    OK.to_vec()
                }
            }
        };
        core.respond(reply);
        None
    }

    async fn connect(
        &mut self,
        core: &mut Core,
        host: String,
        port: u16,
        reconnect: bool,
    ) -> Vec<u8> {
        let Some(user) = &self.user else {
            return ERROR.to_vec(); // not configured
        };
        if core.connected() {
            return ERROR.to_vec(); // already connected
        }
        if self.dropped && !self.target.as_ref().is_some_and(|t| t.reconnect) {
            // "you cannot use this command to reestablish MQTT connection": CLEAN first.
            return ERROR.to_vec();
        }
        if user.scheme != 1 {
            return ERROR.to_vec(); // TLS and WebSocket schemes are not simulated
        }
        let conn = self.conn.clone().unwrap_or_default();
        let cfg = MqttConfig {
            host: host.clone(),
            port,
            client_id: user.client_id.clone(),
            clean: !conn.disable_clean_session,
            keepalive: if conn.keepalive == 0 {
                120
            } else {
                conn.keepalive
            },
            user: user.username.clone(),
            password: user.password.clone(),
        };
        let will = (!conn.lwt_topic.is_empty()).then(|| {
            let qos = qos_of(conn.lwt_qos);
            LastWill::new(
                conn.lwt_topic.clone(),
                conn.lwt_msg.clone(),
                qos,
                conn.lwt_retain,
            )
        });
        let scheme = user.scheme;
        let path = user.path.clone();
        match core.connect(&cfg, None, will).await {
            Ok(session_present) => {
                if !session_present {
                    self.subs.clear();
                }
                self.dropped = false;
                self.target = Some(Target {
                    host: host.clone(),
                    port,
                    reconnect,
                });
                let mut v = line(format!(
                    "+MQTTCONNECTED:0,{scheme},\"{host}\",\"{port}\",\"{path}\",{}",
                    u8::from(reconnect)
                ));
                v.extend_from_slice(OK);
                v
            }
            Err(_) => ERROR.to_vec(),
        }
    }

    async fn subscribe(&mut self, core: &mut Core, topic: String, qos: u8) -> Vec<u8> {
        if !core.connected() {
            return ERROR.to_vec();
        }
        if self.subs.iter().any(|(t, _)| *t == topic) {
            let mut v = line("ALREADY SUBSCRIBE");
            v.extend_from_slice(OK);
            return v;
        }
        if self.subs.len() >= MAX_SUBS {
            return ERROR.to_vec();
        }
        match core.subscribe(&[(topic.clone(), qos)]).await {
            Ok(codes) if !codes.contains(&SubscribeReasonCode::Failure) => {
                self.subs.push((topic, qos));
                OK.to_vec()
            }
            _ => ERROR.to_vec(),
        }
    }
}
