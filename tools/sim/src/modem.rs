//! The modem proper: executes one command line at a time and turns broker events into URCs.
//!
//! A command that waits for the broker (CONNECT, PUB, SUB, UNSUB) keeps reading broker
//! events; messages that arrive meanwhile are queued and written after its response, so a URC
//! never splits a response.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{Event, Incoming, Outgoing, QoS, SubscribeReasonCode};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::{Instant, timeout_at};

use crate::at::{self, AtError, CertKind, Command, MqttConfig};
use crate::broker::{self, BrokerEvent, BrokerMsg, BrokerShared, Link, TlsMaterial, code};
use crate::sim::{Chunk, ChunkKind, Knobs};

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

/// Requests from the handle that the modem task serialises with commands.
#[derive(Debug)]
pub(crate) enum Control {
    Reboot,
    EmitUrc(Vec<u8>),
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

/// Why waiting for a broker event ended without it.
enum WaitError {
    Timeout,
    Lost,
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

/// The modem's state and its task.
pub(crate) struct Modem {
    out: UnboundedSender<Chunk>,
    knobs: Arc<Knobs>,
    broker: Arc<BrokerShared>,
    events: UnboundedReceiver<BrokerMsg>,
    connect_timeout: Duration,
    ack_timeout: Duration,
    ident: Ident,
    echo: bool,
    cmee: u8,
    cfun: u8,
    tls_on: bool,
    tls: TlsMaterial,
    config: Option<MqttConfig>,
    subs: Vec<(String, u8)>,
    link: Option<Link>,
    pending_urcs: Vec<Vec<u8>>,
}

impl Modem {
    pub fn new(
        out: UnboundedSender<Chunk>,
        knobs: Arc<Knobs>,
        broker: Arc<BrokerShared>,
        events: UnboundedReceiver<BrokerMsg>,
        connect_timeout: Duration,
        ack_timeout: Duration,
        ident: Ident,
    ) -> Self {
        Modem {
            out,
            knobs,
            broker,
            events,
            connect_timeout,
            ack_timeout,
            ident,
            echo: true,
            cmee: 0,
            cfun: 1,
            tls_on: false,
            tls: TlsMaterial::default(),
            config: None,
            subs: Vec::new(),
            link: None,
            pending_urcs: Vec::new(),
        }
    }

    fn send(&self, kind: ChunkKind, bytes: Vec<u8>) {
        let _ = self.out.send(Chunk { kind, bytes });
    }

    pub async fn run(
        mut self,
        mut lines: UnboundedReceiver<Vec<u8>>,
        mut control: UnboundedReceiver<Control>,
    ) {
        loop {
            tokio::select! {
                biased;
                c = control.recv() => match c {
                    Some(Control::Reboot) => self.reboot(),
                    Some(Control::EmitUrc(bytes)) => self.send(ChunkKind::Urc, bytes),
                    None => return,
                },
                line = lines.recv() => match line {
                    Some(line) => self.on_line(line).await,
                    None => return,
                },
                Some(msg) = self.events.recv() => {
                    if let Some(urc) = self.on_broker_msg(msg) {
                        self.send(ChunkKind::Urc, urc);
                    }
                }
            }
        }
    }

    fn reboot(&mut self) {
        self.broker.drop_connection();
        let events = std::mem::replace(&mut self.events, tokio::sync::mpsc::unbounded_channel().1);
        *self = Modem::new(
            self.out.clone(),
            self.knobs.clone(),
            self.broker.clone(),
            events,
            self.connect_timeout,
            self.ack_timeout,
            self.ident,
        );
        self.send(ChunkKind::Urc, BOOT_BANNER.to_vec());
    }

    /// Handle a broker event outside a command wait; returns a URC to emit, if any.
    fn on_broker_msg(&mut self, msg: BrokerMsg) -> Option<Vec<u8>> {
        if self.link.as_ref().map(|l| l.gen_id) != Some(msg.gen_id) {
            return None; // stale: from a connection already replaced or dropped
        }
        match msg.event {
            BrokerEvent::Lost => {
                self.link = None;
                None
            }
            BrokerEvent::Mqtt(Event::Incoming(Incoming::Publish(p))) => {
                Some(recv_urc(p.topic.as_bytes(), &p.payload))
            }
            BrokerEvent::Mqtt(_) => None,
        }
    }

    /// Next broker event of the current connection that is not an incoming message (those
    /// are queued as URCs for after the response).
    async fn next_event(&mut self, deadline: Instant) -> Result<Event, WaitError> {
        loop {
            let Some(gen_id) = self.link.as_ref().map(|l| l.gen_id) else {
                return Err(WaitError::Lost);
            };
            let msg = match timeout_at(deadline, self.events.recv()).await {
                Err(_) => return Err(WaitError::Timeout),
                Ok(None) => return Err(WaitError::Lost),
                Ok(Some(m)) => m,
            };
            if msg.gen_id != gen_id {
                continue;
            }
            match msg.event {
                BrokerEvent::Lost => {
                    self.link = None;
                    return Err(WaitError::Lost);
                }
                BrokerEvent::Mqtt(Event::Incoming(Incoming::Publish(p))) => {
                    self.pending_urcs
                        .push(recv_urc(p.topic.as_bytes(), &p.payload));
                }
                BrokerEvent::Mqtt(ev) => return Ok(ev),
            }
        }
    }

    async fn on_line(&mut self, line: Vec<u8>) {
        if self.knobs.silent() {
            return;
        }
        if self.echo {
            let mut e = line.clone();
            e.push(b'\r');
            self.send(ChunkKind::Echo, e);
        }
        if line.trim_ascii().is_empty() {
            return; // a bare CR gets no response
        }
        let latency = self.knobs.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let reply = match at::parse(&line) {
            Ok(cmd) => self.execute(cmd).await,
            Err(e) => Reply::err(e),
        };
        let mut bytes = Vec::new();
        for l in reply.lines {
            bytes.extend_from_slice(b"\r\n");
            bytes.extend(l);
            bytes.extend_from_slice(b"\r\n");
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
        self.send(ChunkKind::Response, bytes);
        for urc in std::mem::take(&mut self.pending_urcs) {
            self.send(ChunkKind::Urc, urc);
        }
    }

    async fn execute(&mut self, cmd: Command) -> Reply {
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
                    self.broker.drop_connection();
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
            Command::Connect => self.connect().await,
            Command::State => Reply::line(format!(
                "+MQTTSTATE:{}",
                u8::from(self.link.is_some() && self.broker.is_alive())
            )),
            Command::Disconnect => self.disconnect().await,
            Command::Publish {
                topic,
                qos,
                retain,
                message,
            } => self.publish(topic, qos, retain, message).await,
            Command::PublishTest => Reply::line("+MQTTPUB:<topic>,(0-2),(0-1);<message>"),
            Command::Subscribe { topic, qos } => self.subscribe(topic, qos).await,
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
            Command::Unsubscribe(topic) => self.unsubscribe(topic).await,
        }
    }

    fn connected(&self) -> bool {
        self.link.is_some() && self.broker.is_alive()
    }

    async fn connect(&mut self) -> Reply {
        if self.cfun != 1 {
            return Reply::err(AtError::NotAllowed);
        }
        if self.connected() {
            return Reply::mqtt_code("MQTTCONNECT", code::SUCCESS); // already up: nothing to do
        }
        let Some(cfg) = self.config.clone() else {
            return Reply::mqtt_code("MQTTCONNECT", code::BAD_PARAMETER);
        };
        let tls = self.tls_on.then_some(&self.tls);
        match broker::connect(&self.broker, &cfg, tls, self.connect_timeout).await {
            Ok(link) => {
                if !link.session_present {
                    self.subs.clear(); // a new session has no subscriptions
                }
                self.link = Some(link);
                Reply::mqtt_code("MQTTCONNECT", code::SUCCESS)
            }
            Err(c) => Reply::mqtt_code("MQTTCONNECT", c),
        }
    }

    async fn disconnect(&mut self) -> Reply {
        if let Some(link) = &self.link {
            if self.broker.is_alive() && link.client.disconnect().await.is_ok() {
                let deadline = Instant::now() + Duration::from_secs(2);
                while let Ok(ev) = self.next_event(deadline).await {
                    if ev == Event::Outgoing(Outgoing::Disconnect) {
                        break;
                    }
                }
            }
        }
        self.broker.drop_connection();
        self.link = None;
        Reply::ok()
    }

    async fn publish(&mut self, topic: String, qos: u8, retain: bool, message: Vec<u8>) -> Reply {
        let Some(link) = self.link.as_ref().filter(|_| self.broker.is_alive()) else {
            return Reply::mqtt_code("MQTTPUB", code::NETWORK_ERROR);
        };
        let q = qos_of(qos);
        if link
            .client
            .publish(topic, q, retain, message)
            .await
            .is_err()
        {
            return Reply::mqtt_code("MQTTPUB", code::NETWORK_ERROR);
        }
        if q == QoS::AtMostOnce {
            return Reply::ok();
        }
        let deadline = Instant::now() + self.ack_timeout;
        let mut pkid = None;
        loop {
            match self.next_event(deadline).await {
                Ok(Event::Outgoing(Outgoing::Publish(id))) if id != 0 && pkid.is_none() => {
                    pkid = Some(id)
                }
                Ok(Event::Incoming(Incoming::PubAck(a)))
                    if q == QoS::AtLeastOnce && Some(a.pkid) == pkid =>
                {
                    return Reply::ok();
                }
                Ok(Event::Incoming(Incoming::PubComp(c)))
                    if q == QoS::ExactlyOnce && Some(c.pkid) == pkid =>
                {
                    return Reply::ok();
                }
                Ok(_) => {}
                Err(WaitError::Lost) => return Reply::mqtt_code("MQTTPUB", code::NETWORK_ERROR),
                Err(WaitError::Timeout) if q == QoS::AtLeastOnce => {
                    return Reply::mqtt_code("MQTTPUB", code::RETRY_NO_RESPONSE);
                }
                Err(WaitError::Timeout) => return Reply::mqtt_code("MQTTPUB", code::TIMEOUT),
            }
        }
    }

    async fn subscribe(&mut self, topic: String, qos: u8) -> Reply {
        let Some(link) = self.link.as_ref().filter(|_| self.broker.is_alive()) else {
            return Reply::mqtt_code("MQTTSUB", code::NETWORK_ERROR);
        };
        if link
            .client
            .subscribe(topic.clone(), qos_of(qos))
            .await
            .is_err()
        {
            return Reply::err(AtError::InvalidParameter); // rumqttc refuses invalid filters
        }
        let deadline = Instant::now() + self.ack_timeout;
        let mut pkid = None;
        loop {
            match self.next_event(deadline).await {
                Ok(Event::Outgoing(Outgoing::Subscribe(id))) if pkid.is_none() => pkid = Some(id),
                Ok(Event::Incoming(Incoming::SubAck(a))) if Some(a.pkid) == pkid => {
                    if a.return_codes.contains(&SubscribeReasonCode::Failure) {
                        return Reply::mqtt_code("MQTTSUB", code::SERVER_REFUSED);
                    }
                    match self.subs.iter_mut().find(|(t, _)| *t == topic) {
                        Some(s) => s.1 = qos,
                        None => self.subs.push((topic, qos)),
                    }
                    return Reply::ok();
                }
                Ok(_) => {}
                Err(WaitError::Lost) => return Reply::mqtt_code("MQTTSUB", code::NETWORK_ERROR),
                Err(WaitError::Timeout) => return Reply::mqtt_code("MQTTSUB", code::TIMEOUT),
            }
        }
    }

    async fn unsubscribe(&mut self, topic: String) -> Reply {
        let Some(link) = self.link.as_ref().filter(|_| self.broker.is_alive()) else {
            return Reply::mqtt_code("MQTTUNSUB", code::NETWORK_ERROR);
        };
        if link.client.unsubscribe(topic.clone()).await.is_err() {
            return Reply::mqtt_code("MQTTUNSUB", code::NETWORK_ERROR);
        }
        let deadline = Instant::now() + self.ack_timeout;
        let mut pkid = None;
        loop {
            match self.next_event(deadline).await {
                Ok(Event::Outgoing(Outgoing::Unsubscribe(id))) if pkid.is_none() => pkid = Some(id),
                Ok(Event::Incoming(Incoming::UnsubAck(a))) if Some(a.pkid) == pkid => {
                    self.subs.retain(|(t, _)| *t != topic);
                    return Reply::ok();
                }
                Ok(_) => {}
                Err(WaitError::Lost) => {
                    return Reply::mqtt_code("MQTTUNSUB", code::NETWORK_ERROR);
                }
                Err(WaitError::Timeout) => return Reply::mqtt_code("MQTTUNSUB", code::TIMEOUT),
            }
        }
    }
}

fn qos_of(q: u8) -> QoS {
    match q {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}
