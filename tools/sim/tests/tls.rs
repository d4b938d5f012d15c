//! TLS with the certificates uploaded by `AT+MQTTTLS`, against a rustls fake broker that
//! answers CONNACK 0 once the handshake (and optional client authentication) succeeded.

mod common;

use std::sync::Arc;

use common::sim_quiet;
use rcgen::{BasicConstraints, Certificate, CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto::ring};

struct Pki {
    ca: Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = params.self_signed(&ca_key).unwrap();
        Pki { ca, ca_key }
    }

    /// A leaf certificate for `names`, with its key.
    fn leaf(&self, names: &[&str]) -> (Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.ca, &self.ca_key)
            .unwrap();
        (cert, key)
    }
}

/// A TLS "broker" on 127.0.0.1; with `client_ca`, it demands a client certificate.
async fn tls_broker(pki: &Pki, client_ca: Option<&Pki>) -> u16 {
    let provider = Arc::new(ring::default_provider());
    let (cert, key) = pki.leaf(&["127.0.0.1"]);
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.ca.der().clone()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = builder
        .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return; // probe connection or failed handshake
                };
                let mut buf = [0u8; 1024];
                if matches!(tls.read(&mut buf).await, Ok(n) if n > 0 && buf[0] == 0x10) {
                    let _ = tls.write_all(&[0x20, 0x02, 0x00, 0x00]).await;
                    let _ = tls.flush().await;
                    while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
                }
            });
        }
    });
    port
}

/// `AT+MQTTTLS=1,<kind>,"<pem escaped>",<len>` as the driver sends it by default.
fn upload(kind: u8, pem: &str) -> Vec<u8> {
    let mut esc = String::new();
    for c in pem.chars() {
        match c {
            '\\' => esc.push_str("\\\\"),
            '"' => esc.push_str("\\\""),
            '\n' => esc.push_str("\\n"),
            '\r' => esc.push_str("\\r"),
            c => esc.push(c),
        }
    }
    format!("AT+MQTTTLS=1,{kind},\"{esc}\",{}\r", pem.len()).into_bytes()
}

async fn connect_reply(port: u16, uploads: &[Vec<u8>]) -> Vec<u8> {
    let (_sim, mut host) = sim_quiet().await;
    for u in uploads {
        host.transact(u, b"\r\nOK\r\n").await;
    }
    host.transact(&common::config_line(port, "tls"), b"\r\nOK\r\n")
        .await;
    host.send(b"AT+MQTTCONNECT\r").await;
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + common::DEADLINE;
    while !(got.ends_with(b"OK\r\n") || got.ends_with(b"ERROR\r\n"))
        && std::time::Instant::now() < deadline
    {
        got.extend(host.drain_for(std::time::Duration::from_millis(50)).await);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_root_ca_verifies_the_broker() {
    let pki = Pki::new();
    let port = tls_broker(&pki, None).await;
    let ok = connect_reply(port, &[upload(0, &pki.ca.pem())]).await;
    assert_eq!(ok, b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n");

    let stranger = Pki::new();
    let bad = connect_reply(port, &[upload(0, &stranger.ca.pem())]).await;
    assert_eq!(bad, b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_is_presented_when_uploaded() {
    let pki = Pki::new();
    let port = tls_broker(&pki, Some(&pki)).await;
    let (cert, key) = pki.leaf(&["device-1"]);
    let with_cert = connect_reply(
        port,
        &[
            upload(0, &pki.ca.pem()),
            upload(1, &cert.pem()),
            upload(2, &key.serialize_pem()),
        ],
    )
    .await;
    assert_eq!(with_cert, b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n");

    let without = connect_reply(port, &[upload(0, &pki.ca.pem())]).await;
    assert_eq!(without, b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n");
}
