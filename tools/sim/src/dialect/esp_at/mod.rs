//! Espressif ESP-AT `AT+MQTT*` with link id 0 (docs/DIALECTS.md, "ESP-AT", "What the driver
//! and the simulator do"): command lines end with CR-LF, answers have no space after the colon,
//! information lines and URCs are written `<line>\r\n` and final results `\r\nOK\r\n` /
//! `\r\nERROR\r\n`, as ESP-AT firmware does.

pub mod parse;

use std::collections::BTreeMap;

use rumqttc::{LastWill, SubscribeReasonCode};

use self::parse::{Command, ConnCfg, LongField, MfgValue, UserCfg, mfg_type};
use super::Personality;
use super::uc8088::Ident;
use crate::at::MqttConfig;
use crate::broker::TlsMaterial;
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
/// The prompt of `AT+SYSMFG=2` (types 7 and 8): `OK`, a blank line, then `>`.
pub const MFG_PROMPT: &[u8] = b"\r\nOK\r\n\r\n>";

/// The manufacturing NVS namespace and key of the MQTT root CA, client certificate and
/// client key (`AT+MQTTUSERCFG` schemes 3, 4 and 5).
pub const MQTT_CA: &str = "mqtt_ca";
/// See [`MQTT_CA`].
pub const MQTT_CERT: &str = "mqtt_cert";
/// See [`MQTT_CA`].
pub const MQTT_KEY: &str = "mqtt_key";

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
    Mfg {
        namespace: String,
        key: String,
        kind: u8,
    },
}

/// The manufacturing NVS: namespace → key → (type, value). Integers are kept as their
/// decimal text. It is flash: a reboot keeps it.
type Nvs = BTreeMap<String, BTreeMap<String, (u8, Vec<u8>)>>;

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
    /// `AT+MQTTSNI`: the name the broker's certificate is checked against.
    sni: Option<String>,
    /// `AT+MQTTALPN`: the protocols offered.
    alpn: Vec<Vec<u8>>,
    nvs: Nvs,
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
            sni: None,
            alpn: Vec::new(),
            nvs: Nvs::new(),
        }
    }

    fn reboot(&mut self, ident: Ident) {
        let nvs = std::mem::take(&mut self.nvs);
        *self = EspAt {
            nvs,
            ..EspAt::boot(ident)
        };
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
            Some(Awaiting::Mfg {
                namespace,
                key,
                kind,
            }) => {
                self.nvs
                    .entry(namespace)
                    .or_default()
                    .insert(key, (kind, data));
                core.respond(OK);
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
                self.reboot(Ident::default());
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
                        nvs: std::mem::take(&mut self.nvs),
                        ..EspAt::boot(Ident::default())
                    };
                    OK.to_vec()
                }
            }
            Command::Sni(name) => {
                if self.user.is_none() {
                    ERROR.to_vec()
                } else {
                    self.sni = Some(name);
                    OK.to_vec()
                }
            }
            Command::Alpn(names) => {
                if self.user.is_none() {
                    ERROR.to_vec()
                } else {
                    self.alpn = names;
                    OK.to_vec()
                }
            }
            Command::MfgQuery => {
                let mut v: Vec<u8> = self
                    .nvs
                    .keys()
                    .flat_map(|ns| line(format!("+SYSMFG:\"{ns}\"")))
                    .collect();
                v.extend_from_slice(OK);
                v
            }
            Command::MfgErase { namespace, key } => self.mfg_erase(&namespace, key.as_deref()),
            Command::MfgRead {
                namespace,
                key,
                range,
            } => self.mfg_read(&namespace, key.as_deref(), range),
            Command::MfgWrite {
                namespace,
                key,
                value: MfgValue::Int(kind, v),
            } => {
                let text = v.to_string().into_bytes();
                self.nvs
                    .entry(namespace)
                    .or_default()
                    .insert(key, (kind, text));
                OK.to_vec()
            }
            Command::MfgWrite {
                namespace,
                key,
                value: MfgValue::Prompted(kind, len),
            } => {
                self.awaiting = Some(Awaiting::Mfg {
                    namespace,
                    key,
                    kind,
                });
                core.respond(MFG_PROMPT);
                return Some(len);
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
        let Ok(tls) = self.tls_material(user.scheme) else {
            return ERROR.to_vec(); // WebSocket, or a certificate not in the NVS
        };
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
        match core.connect(&cfg, tls.as_ref(), will).await {
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

    /// What `AT+MQTTCONN` connects with for `scheme`: 1 plain TCP; TLS with 2 no verification,
    /// 3 the NVS root CA verifying, 4 the NVS client certificate and key without verification,
    /// 5 both. `Err` when a certificate is not stored or the scheme is a WebSocket one.
    fn tls_material(&self, scheme: u8) -> Result<Option<TlsMaterial>, ()> {
        let (verify, client) = match scheme {
            1 => return Ok(None),
            2 => (false, false),
            3 => (true, false),
            4 => (false, true),
            5 => (true, true),
            _ => return Err(()), // WebSocket schemes are not simulated
        };
        let stored = |name: &str| match self.nvs.get(name).and_then(|keys| keys.get(name)) {
            Some((mfg_type::STRING | mfg_type::BINARY, bytes)) => Ok(bytes.clone()),
            _ => Err(()),
        };
        let mut tls = TlsMaterial {
            verify,
            server_name: self.sni.clone(),
            alpn: self.alpn.clone(),
            ..TlsMaterial::default()
        };
        if verify {
            tls.ca = stored(MQTT_CA)?;
        }
        if client {
            tls.cert = stored(MQTT_CERT)?;
            tls.key = stored(MQTT_KEY)?;
        }
        Ok(Some(tls))
    }

    /// `AT+SYSMFG=0`: erase a key, or a whole namespace; `ERROR` when it is not there.
    fn mfg_erase(&mut self, namespace: &str, key: Option<&str>) -> Vec<u8> {
        let Some(keys) = self.nvs.get_mut(namespace) else {
            return ERROR.to_vec();
        };
        if let Some(key) = key {
            if keys.remove(key).is_none() {
                return ERROR.to_vec();
            }
            if !keys.is_empty() {
                return OK.to_vec();
            }
        }
        self.nvs.remove(namespace);
        OK.to_vec()
    }

    /// `AT+SYSMFG=1`: a namespace's keys with their types, or one key's value
    /// (`+SYSMFG:"<ns>","<key>",<type>,<value>` for an integer,
    /// `+SYSMFG:"<ns>","<key>",<type>,<length>,<bytes>` for a string or binary value).
    fn mfg_read(
        &self,
        namespace: &str,
        key: Option<&str>,
        range: Option<(usize, usize)>,
    ) -> Vec<u8> {
        let Some(keys) = self.nvs.get(namespace) else {
            return ERROR.to_vec();
        };
        let Some(key) = key else {
            let mut v: Vec<u8> = keys
                .iter()
                .flat_map(|(k, (kind, _))| line(format!("+SYSMFG:\"{namespace}\",\"{k}\",{kind}")))
                .collect();
            v.extend_from_slice(OK);
            return v;
        };
        let Some((kind, value)) = keys.get(key) else {
            return ERROR.to_vec();
        };
        let head = format!("+SYSMFG:\"{namespace}\",\"{key}\",{kind},");
        let mut v = head.into_bytes();
        if matches!(*kind, mfg_type::STRING | mfg_type::BINARY) {
            let part = match range {
                None => &value[..],
                Some((offset, len)) => match value.get(offset..offset.saturating_add(len)) {
                    Some(part) => part,
                    None => return ERROR.to_vec(),
                },
            };
            v.extend(format!("{},", part.len()).bytes());
            v.extend_from_slice(part);
        } else if range.is_some() {
            return ERROR.to_vec(); // an integer has no parts
        } else {
            v.extend_from_slice(value);
        }
        v.extend_from_slice(b"\r\n");
        v.extend_from_slice(OK);
        v
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
