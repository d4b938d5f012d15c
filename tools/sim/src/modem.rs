//! The modem engine every dialect shares: the task that runs host bytes through the line reader,
//! hands command lines (and prompted data) to the dialect, owns the broker link and turns
//! broker events into the dialect's URCs.
//!
//! A command that waits for the broker (connect, publish, subscribe, unsubscribe) keeps reading
//! broker events; what happens meanwhile (messages, link loss) is noted and written after its
//! response, so a URC never splits a response. While a prompted command collects its data, the
//! same holds until it has answered.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    Event, Incoming, LastWill, Outgoing, Publish, QoS, SubscribeFilter, SubscribeReasonCode,
};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::{Instant, timeout_at};

use crate::at::MqttConfig;
use crate::broker::{self, BrokerEvent, BrokerMsg, BrokerShared, ConnectError, Link, TlsMaterial};
use crate::dialect::Personality;
use crate::dialect::uc8088::Ident;
use crate::framer::{Framer, Item};
use crate::sim::{Chunk, ChunkKind, Knobs};

/// Requests from the handle that the modem task serialises with commands.
#[derive(Debug)]
pub(crate) enum Control {
    Reboot,
    EmitUrc(Vec<u8>),
    EmitMessage { topic: String, payload: Vec<u8> },
}

/// Something the broker side did that the host learns about through a URC.
#[derive(Debug)]
pub(crate) enum Note {
    /// A message arrived on a subscription.
    Message(Publish),
    /// The connection is gone without the host asking.
    Lost,
}

/// Why waiting for a broker event ended without it.
pub(crate) enum WaitError {
    Timeout,
    Lost,
}

/// Why a publish, subscribe or unsubscribe failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpError {
    /// There is no live connection.
    NotConnected,
    /// The MQTT client refused the request (invalid topic or filter, closed queue).
    Rejected,
    /// The connection went away while waiting for the acknowledgement.
    Lost,
    /// No acknowledgement within the budget.
    Timeout,
}

/// What every dialect's executor works with: output, knobs, the broker link and its events.
pub(crate) struct Core {
    out: UnboundedSender<Chunk>,
    pub knobs: Arc<Knobs>,
    pub broker: Arc<BrokerShared>,
    events: UnboundedReceiver<BrokerMsg>,
    pub connect_timeout: Duration,
    pub ack_timeout: Duration,
    pub link: Option<Link>,
    notes: Vec<Note>,
}

impl Core {
    pub fn new(
        out: UnboundedSender<Chunk>,
        knobs: Arc<Knobs>,
        broker: Arc<BrokerShared>,
        events: UnboundedReceiver<BrokerMsg>,
        connect_timeout: Duration,
        ack_timeout: Duration,
    ) -> Self {
        Core {
            out,
            knobs,
            broker,
            events,
            connect_timeout,
            ack_timeout,
            link: None,
            notes: Vec::new(),
        }
    }

    pub fn send(&self, kind: ChunkKind, bytes: Vec<u8>) {
        let _ = self.out.send(Chunk { kind, bytes });
    }

    /// Write (part of) a command's response.
    pub fn respond(&self, bytes: impl Into<Vec<u8>>) {
        self.send(ChunkKind::Response, bytes.into());
    }

    /// Write an unsolicited result code.
    pub fn urc(&self, bytes: impl Into<Vec<u8>>) {
        self.send(ChunkKind::Urc, bytes.into());
    }

    /// Whether a broker connection is up.
    pub fn connected(&self) -> bool {
        self.link.is_some() && self.broker.is_alive()
    }

    /// A broker event outside a command wait: what the host should hear of it, if anything.
    fn on_broker_msg(&mut self, msg: BrokerMsg) -> Option<Note> {
        if self.link.as_ref().map(|l| l.gen_id) != Some(msg.gen_id) {
            return None; // stale: from a connection already replaced or dropped
        }
        match msg.event {
            BrokerEvent::Lost => {
                self.link = None;
                Some(Note::Lost)
            }
            BrokerEvent::Mqtt(Event::Incoming(Incoming::Publish(p))) => Some(Note::Message(p)),
            BrokerEvent::Mqtt(_) => None,
        }
    }

    /// Next broker event of the current connection that is not an incoming message or a loss
    /// (those are noted for after the response).
    pub async fn next_event(&mut self, deadline: Instant) -> Result<Event, WaitError> {
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
                    self.notes.push(Note::Lost);
                    return Err(WaitError::Lost);
                }
                BrokerEvent::Mqtt(Event::Incoming(Incoming::Publish(p))) => {
                    self.notes.push(Note::Message(p));
                }
                BrokerEvent::Mqtt(ev) => return Ok(ev),
            }
        }
    }

    /// Connect with `cfg`; on success the link is up and the CONNACK's `session present` is
    /// returned. On failure the previous link (if any) is left as it was.
    pub async fn connect(
        &mut self,
        cfg: &MqttConfig,
        tls: Option<&TlsMaterial>,
        will: Option<LastWill>,
    ) -> Result<bool, ConnectError> {
        let link = broker::connect(&self.broker, cfg, tls, will, self.connect_timeout).await?;
        let session_present = link.session_present;
        self.link = Some(link);
        Ok(session_present)
    }

    /// Close the connection the polite way (MQTT DISCONNECT, then the socket); the host asked
    /// for it, so no loss is reported.
    pub async fn disconnect(&mut self) {
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
        self.drop_link();
    }

    /// Power-on state: no link, nothing noted.
    pub fn reset(&mut self) {
        self.broker.drop_connection();
        self.link = None;
        self.notes.clear();
    }

    /// Close the socket without DISCONNECT; the host asked for it, so no loss is reported.
    pub fn drop_link(&mut self) {
        self.broker.drop_connection();
        self.link = None;
        self.notes.retain(|n| !matches!(n, Note::Lost));
    }

    /// Publish and wait for PUBACK (QoS 1) or PUBCOMP (QoS 2).
    pub async fn publish(
        &mut self,
        topic: String,
        qos: u8,
        retain: bool,
        payload: Vec<u8>,
    ) -> Result<(), OpError> {
        let Some(link) = self.link.as_ref().filter(|_| self.broker.is_alive()) else {
            return Err(OpError::NotConnected);
        };
        let q = qos_of(qos);
        if link
            .client
            .publish(topic, q, retain, payload)
            .await
            .is_err()
        {
            return Err(OpError::Rejected);
        }
        if q == QoS::AtMostOnce {
            return Ok(());
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
                    return Ok(());
                }
                Ok(Event::Incoming(Incoming::PubComp(c)))
                    if q == QoS::ExactlyOnce && Some(c.pkid) == pkid =>
                {
                    return Ok(());
                }
                Ok(_) => {}
                Err(WaitError::Lost) => return Err(OpError::Lost),
                Err(WaitError::Timeout) => return Err(OpError::Timeout),
            }
        }
    }

    /// Subscribe to every filter in one SUBSCRIBE; the SUBACK's return codes, in order.
    pub async fn subscribe(
        &mut self,
        filters: &[(String, u8)],
    ) -> Result<Vec<SubscribeReasonCode>, OpError> {
        let Some(link) = self.link.as_ref().filter(|_| self.broker.is_alive()) else {
            return Err(OpError::NotConnected);
        };
        let many = filters
            .iter()
            .map(|(t, q)| SubscribeFilter::new(t.clone(), qos_of(*q)));
        if link.client.subscribe_many(many).await.is_err() {
            return Err(OpError::Rejected); // rumqttc refuses invalid filters
        }
        let deadline = Instant::now() + self.ack_timeout;
        let mut pkid = None;
        loop {
            match self.next_event(deadline).await {
                Ok(Event::Outgoing(Outgoing::Subscribe(id))) if pkid.is_none() => pkid = Some(id),
                Ok(Event::Incoming(Incoming::SubAck(a))) if Some(a.pkid) == pkid => {
                    return Ok(a.return_codes);
                }
                Ok(_) => {}
                Err(WaitError::Lost) => return Err(OpError::Lost),
                Err(WaitError::Timeout) => return Err(OpError::Timeout),
            }
        }
    }

    /// Unsubscribe from one filter and wait for the UNSUBACK.
    pub async fn unsubscribe(&mut self, filter: String) -> Result<(), OpError> {
        let Some(link) = self.link.as_ref().filter(|_| self.broker.is_alive()) else {
            return Err(OpError::NotConnected);
        };
        if link.client.unsubscribe(filter).await.is_err() {
            return Err(OpError::Rejected);
        }
        let deadline = Instant::now() + self.ack_timeout;
        let mut pkid = None;
        loop {
            match self.next_event(deadline).await {
                Ok(Event::Outgoing(Outgoing::Unsubscribe(id))) if pkid.is_none() => pkid = Some(id),
                Ok(Event::Incoming(Incoming::UnsubAck(a))) if Some(a.pkid) == pkid => {
                    return Ok(());
                }
                Ok(_) => {}
                Err(WaitError::Lost) => return Err(OpError::Lost),
                Err(WaitError::Timeout) => return Err(OpError::Timeout),
            }
        }
    }

    /// Write the noted events as the dialect's URCs.
    fn flush<D: Personality>(&mut self, dialect: &mut D) {
        for note in std::mem::take(&mut self.notes) {
            if let Some(urc) = dialect.urc(note) {
                self.urc(urc);
            }
        }
    }
}

pub(crate) fn qos_of(q: u8) -> QoS {
    match q {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// The modem task of dialect `D`: one command at a time, broker events in between.
pub(crate) async fn run<D: Personality>(
    mut core: Core,
    ident: Ident,
    mut input: UnboundedReceiver<Vec<u8>>,
    mut control: UnboundedReceiver<Control>,
) {
    let mut dialect = D::boot(ident);
    let mut framer = Framer::new(D::TERMINATOR);
    loop {
        // Requests from the handle go first (a reboot lands between two commands).
        loop {
            match control.try_recv() {
                Ok(c) => on_control(c, &mut core, &mut dialect, &mut framer, ident),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if let Some(item) = framer.next_item() {
            match item {
                Item::Line { text, echo } => {
                    if let Some(len) = on_line(&mut core, &mut dialect, text, echo).await {
                        framer.expect_raw(len);
                    }
                }
                Item::Raw(data) => dialect.on_raw(&mut core, data).await,
            }
            if !framer.in_raw() {
                core.flush(&mut dialect);
            }
            continue;
        }
        tokio::select! {
            biased;
            c = control.recv() => match c {
                Some(c) => on_control(c, &mut core, &mut dialect, &mut framer, ident),
                None => return,
            },
            bytes = input.recv() => match bytes {
                Some(bytes) => framer.feed(&bytes),
                None => return,
            },
            Some(msg) = core.events.recv() => {
                if let Some(note) = core.on_broker_msg(msg) {
                    core.notes.push(note);
                    if !framer.in_raw() {
                        core.flush(&mut dialect);
                    }
                }
            }
        }
    }
}

fn on_control<D: Personality>(
    c: Control,
    core: &mut Core,
    dialect: &mut D,
    framer: &mut Framer,
    ident: Ident,
) {
    match c {
        Control::Reboot => {
            core.reset();
            framer.cancel_raw();
            dialect.reboot(ident);
            core.urc(D::BANNER);
        }
        Control::EmitUrc(bytes) => core.urc(bytes),
        Control::EmitMessage { topic, payload } => {
            core.urc(dialect.message_urc(topic.as_bytes(), &payload, 0));
        }
    }
}

/// Echo, the empty-line rule and latency, then the dialect; returns the raw length asked for.
async fn on_line<D: Personality>(
    core: &mut Core,
    dialect: &mut D,
    text: Vec<u8>,
    echo: Vec<u8>,
) -> Option<usize> {
    if core.knobs.silent() {
        return None;
    }
    if dialect.echo() {
        core.send(ChunkKind::Echo, echo);
    }
    if text.trim_ascii().is_empty() {
        return None; // a bare line end gets no response
    }
    let latency = core.knobs.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    dialect.on_line(core, text).await
}
