//! The modem's real MQTT client side: one `rumqttc` connection at a time, TLS through rustls
//! with the `ring` provider and the certificates the host stored ([`TlsMaterial`]).
//!
//! A connection's event loop runs in its own task and forwards every event, tagged with the
//! connection's generation number, to the modem task. Events of an older generation are stale.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, Incoming, LastWill,
    MqttOptions, TlsConfiguration, Transport,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    CryptoProvider, ring, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, Error as TlsError, RootCertStore,
    SignatureScheme,
};

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

/// Why a connection attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectError {
    /// Unusable settings: no client id with a resumed session, unparsable TLS material.
    BadConfig,
    /// The broker is unreachable: DNS, TCP or TLS failure.
    Unreachable,
    /// TCP connected but no CONNACK came within the budget.
    Timeout,
    /// The CONNACK refused, with this return code (1..=5).
    Refused(u8),
}

impl ConnectError {
    /// The manual's code for this failure (UC8088).
    pub fn code(self) -> u8 {
        match self {
            ConnectError::BadConfig => code::BAD_PARAMETER,
            ConnectError::Unreachable => code::NETWORK_ERROR,
            ConnectError::Timeout => code::TIMEOUT,
            ConnectError::Refused(_) => code::SERVER_REFUSED,
        }
    }
}

/// Why [`probe`] could not reach a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeError {
    /// The name does not resolve.
    Dns,
    /// TCP refused, reset or timed out.
    Tcp,
    /// The TLS handshake failed (or the TLS material is unusable).
    Tls,
}

/// Open (and close again) a plain TCP connection to `host:port` within `budget`.
pub(crate) async fn probe(host: &str, port: u16, budget: Duration) -> Result<(), ProbeError> {
    let deadline = Instant::now() + budget;
    let addrs: Vec<_> = match timeout_at(deadline, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(_)) | Err(_) => return Err(ProbeError::Dns),
    };
    if addrs.is_empty() {
        return Err(ProbeError::Dns);
    }
    match timeout_at(deadline, tokio::net::TcpStream::connect(&addrs[..])).await {
        Ok(Ok(s)) => {
            drop(s);
            Ok(())
        }
        Ok(Err(_)) | Err(_) => Err(ProbeError::Tcp),
    }
}

/// Open a TCP connection to `host:port` and make a TLS handshake over it with `tls` within
/// `budget`, then close it again.
pub(crate) async fn probe_tls(
    host: &str,
    port: u16,
    tls: &TlsMaterial,
    budget: Duration,
) -> Result<(), ProbeError> {
    let deadline = Instant::now() + budget;
    let config = tls.client_config().map_err(|_| ProbeError::Tls)?;
    let name = ServerName::try_from(host.to_string()).map_err(|_| ProbeError::Tls)?;
    let addrs: Vec<_> = match timeout_at(deadline, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(_)) | Err(_) => return Err(ProbeError::Dns),
    };
    if addrs.is_empty() {
        return Err(ProbeError::Dns);
    }
    let tcp = match timeout_at(deadline, tokio::net::TcpStream::connect(&addrs[..])).await {
        Ok(Ok(s)) => s,
        Ok(Err(_)) | Err(_) => return Err(ProbeError::Tcp),
    };
    let connector = TlsConnector::from(Arc::new(config));
    match timeout_at(deadline, connector.connect(name, tcp)).await {
        Ok(Ok(stream)) => {
            drop(stream);
            Ok(())
        }
        Ok(Err(_)) | Err(_) => Err(ProbeError::Tls),
    }
}

/// Connect with `cfg` (and a last will, if any) within `budget`, classifying failures:
/// unreachable (DNS, TCP, TLS), refused by the CONNACK, no CONNACK in time, unusable settings.
pub(crate) async fn connect(
    shared: &Arc<BrokerShared>,
    cfg: &MqttConfig,
    tls: Option<&TlsMaterial>,
    will: Option<LastWill>,
    budget: Duration,
) -> Result<Link, ConnectError> {
    shared.drop_connection();
    let deadline = Instant::now() + budget;
    if cfg.client_id.is_empty() && !cfg.clean {
        return Err(ConnectError::BadConfig); // MQTT forbids resuming a session without a client id
    }
    let mut opts = MqttOptions::new(cfg.client_id.clone(), cfg.host.clone(), cfg.port);
    opts.set_keep_alive(Duration::from_secs(u64::from(cfg.keepalive)))
        .set_clean_session(cfg.clean)
        .set_max_packet_size(1 << 20, 1 << 20);
    if !cfg.user.is_empty() || !cfg.password.is_empty() {
        opts.set_credentials(cfg.user.clone(), cfg.password.clone());
    }
    if let Some(will) = will {
        opts.set_last_will(will);
    }
    if let Some(tls) = tls {
        let config = tls.client_config().map_err(|_| ConnectError::BadConfig)?;
        opts.set_transport(Transport::Tls(TlsConfiguration::Rustls(Arc::new(config))));
    }

    // Probe TCP reachability first so that "unreachable" and "no CONNACK" differ.
    match timeout_at(
        deadline,
        tokio::net::TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await
    {
        Ok(Ok(probe)) => drop(probe),
        Ok(Err(_)) | Err(_) => return Err(ConnectError::Unreachable),
    }

    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    eventloop
        .network_options
        .set_connection_timeout(budget.as_secs() + 5);
    let connack = match timeout_at(deadline, eventloop.poll()).await {
        Err(_) => return Err(ConnectError::Timeout),
        Ok(Ok(Event::Incoming(Incoming::ConnAck(ack)))) => ack,
        Ok(Ok(_)) => return Err(ConnectError::Unreachable),
        Ok(Err(ConnectionError::ConnectionRefused(rc))) => {
            return Err(ConnectError::Refused(refusal_code(rc)));
        }
        Ok(Err(ConnectionError::NetworkTimeout)) => return Err(ConnectError::Timeout),
        Ok(Err(_)) => return Err(ConnectError::Unreachable),
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

/// The CONNACK return code on the wire (MQTT 3.1.1 section 3.2.2.3).
fn refusal_code(rc: ConnectReturnCode) -> u8 {
    match rc {
        ConnectReturnCode::Success => 0,
        ConnectReturnCode::RefusedProtocolVersion => 1,
        ConnectReturnCode::BadClientId => 2,
        ConnectReturnCode::ServiceUnavailable => 3,
        ConnectReturnCode::BadUserNamePassword => 4,
        ConnectReturnCode::NotAuthorized => 5,
    }
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

/// What a TLS connection is made with: the PEM texts stored by the host (`AT+MQTTTLS`,
/// `AT+SYSMFG`, `AT+QFUPL`; empty = not stored) and how the broker is checked.
///
/// [`Default`] is the UC8088's TLS: the CA verifies the broker against the connect host, no
/// other server name, no ALPN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsMaterial {
    /// Root CA(s) used to verify the broker.
    pub ca: Vec<u8>,
    /// Client certificate chain.
    pub cert: Vec<u8>,
    /// Client private key.
    pub key: Vec<u8>,
    /// Verify the broker's certificate with `ca`; when off, any certificate is accepted (the
    /// handshake signatures are still checked).
    pub verify: bool,
    /// The name the broker's certificate is verified against instead of the connect host.
    pub server_name: Option<String>,
    /// ALPN protocols offered, in order (empty: no ALPN).
    pub alpn: Vec<Vec<u8>>,
}

impl Default for TlsMaterial {
    fn default() -> Self {
        TlsMaterial {
            ca: Vec::new(),
            cert: Vec::new(),
            key: Vec::new(),
            verify: true,
            server_name: None,
            alpn: Vec::new(),
        }
    }
}

impl TlsMaterial {
    /// Build the rustls configuration: with `verify`, the CA verifies the broker (against
    /// `server_name` when given, else the connect host), without it any certificate is taken;
    /// client auth only when both a certificate and a key were stored; `alpn` offered.
    pub fn client_config(&self) -> Result<ClientConfig, String> {
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = if !self.verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider)))
        } else {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&self.ca) {
                roots
                    .add(cert.map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            }
            match &self.server_name {
                None => builder.with_root_certificates(roots),
                Some(name) => {
                    let name = ServerName::try_from(name.clone()).map_err(|e| e.to_string())?;
                    let inner =
                        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                            .build()
                            .map_err(|e| e.to_string())?;
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(NamedServer { inner, name }))
                }
            }
        };
        let mut config = if self.cert.is_empty() || self.key.is_empty() {
            builder.with_no_client_auth()
        } else {
            let chain = CertificateDer::pem_slice_iter(&self.cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let key = PrivateKeyDer::from_pem_slice(&self.key).map_err(|e| e.to_string())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| e.to_string())?
        };
        config.alpn_protocols = self.alpn.clone();
        Ok(config)
    }
}

/// Takes any server certificate (a TLS without CA); the handshake signatures are still
/// checked with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The WebPKI verifier with the certificate checked against `name` instead of the host.
#[derive(Debug)]
struct NamedServer {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NamedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}
