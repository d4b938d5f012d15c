//! The modem's real MQTT client side: one `rumqttc` connection at a time, TLS through rustls
//! with the `ring` provider and the certificates uploaded with `AT+MQTTTLS`.
//!
//! A connection's event loop runs in its own task and forwards every event, tagged with the
//! connection's generation number, to the modem task. Events of an older generation are stale.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, Incoming, MqttOptions, TlsConfiguration,
    Transport,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};

use crate::at::MqttConfig;

/// MQTT error codes of the manual (the AWS IoT SDK's `IotMqttError_t`).
pub mod code {
    /// Success.
    pub const SUCCESS: u8 = 0;
    /// A parameter is invalid.
    pub const BAD_PARAMETER: u8 = 3;
    /// Network unusable.
    pub const NETWORK_ERROR: u8 = 5;
    /// A blocking operation timed out.
    pub const TIMEOUT: u8 = 8;
    /// CONNECT or subscription refused by the server.
    pub const SERVER_REFUSED: u8 = 9;
    /// QoS 1 PUBLISH got no PUBACK in time.
    pub const RETRY_NO_RESPONSE: u8 = 10;
}

/// What a connection's event loop reports.
#[derive(Debug)]
pub(crate) enum BrokerEvent {
    /// An MQTT event from `rumqttc`.
    Mqtt(Event),
    /// The connection is gone (network error, broker close or `drop_broker_connection`).
    Lost,
}

/// A [`BrokerEvent`] tagged with the generation of the connection that produced it.
#[derive(Debug)]
pub(crate) struct BrokerMsg {
    pub gen_id: u64,
    pub event: BrokerEvent,
}

/// State shared between the modem task and the control handle.
#[derive(Debug)]
pub(crate) struct BrokerShared {
    alive: AtomicBool,
    generation: AtomicU64,
    abort: Mutex<Option<AbortHandle>>,
    events: UnboundedSender<BrokerMsg>,
}

impl BrokerShared {
    pub fn new() -> (Arc<Self>, UnboundedReceiver<BrokerMsg>) {
        let (tx, rx) = unbounded_channel();
        let s = BrokerShared {
            alive: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            abort: Mutex::new(None),
            events: tx,
        };
        (Arc::new(s), rx)
    }

    /// Whether the current connection is up.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Generation of the newest connection.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Kill the event loop without an MQTT DISCONNECT: the TCP socket just closes.
    pub fn drop_connection(&self) {
        let handle = self.abort.lock().map(|mut g| g.take()).unwrap_or(None);
        if let Some(h) = handle {
            h.abort();
            if self.alive.swap(false, Ordering::SeqCst) {
                let _ = self.events.send(BrokerMsg {
                    gen_id: self.generation(),
                    event: BrokerEvent::Lost,
                });
            }
        }
    }
}

/// A live broker connection.
pub(crate) struct Link {
    pub client: AsyncClient,
    pub gen_id: u64,
    pub session_present: bool,
}

/// Connect with `cfg`, classifying failures into the manual's codes within `budget`:
/// 5 when the broker is unreachable (DNS, TCP, TLS), 9 when its CONNACK refuses,
/// 8 when TCP connects but no CONNACK comes in time, 3 for unusable settings.
pub(crate) async fn connect(
    shared: &Arc<BrokerShared>,
    cfg: &MqttConfig,
    tls: Option<&TlsMaterial>,
    budget: Duration,
) -> Result<Link, u8> {
    shared.drop_connection();
    let deadline = Instant::now() + budget;
    if cfg.client_id.is_empty() && !cfg.clean {
        return Err(code::BAD_PARAMETER); // MQTT forbids resuming a session without a client id
    }
    let mut opts = MqttOptions::new(cfg.client_id.clone(), cfg.host.clone(), cfg.port);
    opts.set_keep_alive(Duration::from_secs(u64::from(cfg.keepalive)))
        .set_clean_session(cfg.clean)
        .set_max_packet_size(1 << 20, 1 << 20);
    if !cfg.user.is_empty() || !cfg.password.is_empty() {
        opts.set_credentials(cfg.user.clone(), cfg.password.clone());
    }
    if let Some(tls) = tls {
        let config = tls.client_config().map_err(|_| code::BAD_PARAMETER)?;
        opts.set_transport(Transport::Tls(TlsConfiguration::Rustls(Arc::new(config))));
    }

    // Probe TCP reachability first so that "unreachable" (5) and "no CONNACK" (8) differ.
    match timeout_at(
        deadline,
        tokio::net::TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await
    {
        Ok(Ok(probe)) => drop(probe),
        Ok(Err(_)) | Err(_) => return Err(code::NETWORK_ERROR),
    }

    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    eventloop
        .network_options
        .set_connection_timeout(budget.as_secs() + 5);
    let connack = match timeout_at(deadline, eventloop.poll()).await {
        Err(_) => return Err(code::TIMEOUT),
        Ok(Ok(Event::Incoming(Incoming::ConnAck(ack)))) => ack,
        Ok(Ok(_)) => return Err(code::NETWORK_ERROR),
        Ok(Err(ConnectionError::ConnectionRefused(_))) => return Err(code::SERVER_REFUSED),
        Ok(Err(ConnectionError::NetworkTimeout)) => return Err(code::TIMEOUT),
        Ok(Err(_)) => return Err(code::NETWORK_ERROR),
    };

    let gen_id = shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
    shared.alive.store(true, Ordering::SeqCst);
    let task = tokio::spawn(run(eventloop, gen_id, shared.clone()));
    if let Ok(mut g) = shared.abort.lock() {
        *g = Some(task.abort_handle());
    }
    Ok(Link {
        client,
        gen_id,
        session_present: connack.session_present,
    })
}

async fn run(mut eventloop: EventLoop, gen_id: u64, shared: Arc<BrokerShared>) {
    // No automatic reconnect on error: the host must send AT+MQTTCONNECT again.
    while let Ok(event) = eventloop.poll().await {
        let done = matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect));
        let _ = shared.events.send(BrokerMsg {
            gen_id,
            event: BrokerEvent::Mqtt(event),
        });
        if done {
            break;
        }
    }
    if shared.generation() == gen_id && shared.alive.swap(false, Ordering::SeqCst) {
        let _ = shared.events.send(BrokerMsg {
            gen_id,
            event: BrokerEvent::Lost,
        });
    }
}

/// The PEM texts uploaded with `AT+MQTTTLS` (empty = not uploaded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsMaterial {
    /// Root CA(s) used to verify the broker.
    pub ca: Vec<u8>,
    /// Client certificate chain.
    pub cert: Vec<u8>,
    /// Client private key.
    pub key: Vec<u8>,
}

impl TlsMaterial {
    /// Build the rustls configuration: the CA verifies the broker, client auth only when both
    /// a certificate and a key were uploaded.
    pub fn client_config(&self) -> Result<ClientConfig, String> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.ca) {
            roots
                .add(cert.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let builder = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        if self.cert.is_empty() || self.key.is_empty() {
            return Ok(builder.with_no_client_auth());
        }
        let chain = CertificateDer::pem_slice_iter(&self.cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let key = PrivateKeyDer::from_pem_slice(&self.key).map_err(|e| e.to_string())?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| e.to_string())
    }
}
