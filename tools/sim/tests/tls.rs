//! TLS with the certificates uploaded by `AT+MQTTTLS` (UC8088), stored with `AT+SYSMFG`
//! (ESP-AT) or `AT+QFUPL` (Quectel), against a rustls fake broker that answers CONNACK 0 once
//! the handshake (and optional client authentication) succeeded.

mod common;

use std::sync::Arc;

use common::{Host, sim_dialect, sim_quiet};
use modem_sim::{Dialect, SimOptions};
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
    tls_broker_with(pki, &["127.0.0.1"], client_ca, &[]).await
}

/// [`tls_broker`] with a certificate for `names` and, when `alpn` is not empty, ALPN
/// (a client offering none of those protocols fails the handshake).
async fn tls_broker_with(pki: &Pki, names: &[&str], client_ca: Option<&Pki>, alpn: &[&str]) -> u16 {
    let provider = Arc::new(ring::default_provider());
    let (cert, key) = pki.leaf(names);
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
    let mut config = builder
        .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
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

// ---------------------------------------------------------------------------------------------
// ESP-AT: AT+SYSMFG, the USERCFG schemes, AT+MQTTSNI and AT+MQTTALPN
// ---------------------------------------------------------------------------------------------

/// `AT+SYSMFG=2,"<name>","<name>",8,<len>`, the prompt, the PEM, `OK`.
async fn esp_store(host: &mut Host, name: &str, pem: &str) {
    let line = format!("AT+SYSMFG=2,\"{name}\",\"{name}\",8,{}\r\n", pem.len());
    host.transact(line.as_bytes(), b"\r\nOK\r\n\r\n>").await;
    host.transact(pem.as_bytes(), b"\r\nOK\r\n").await;
}

/// USERCFG with `scheme`, the `extra` lines (each answered `OK`), then `AT+MQTTCONN`: its
/// whole answer.
async fn esp_connect(host: &mut Host, port: u16, scheme: u8, extra: &[&str]) -> Vec<u8> {
    let user = format!("AT+MQTTUSERCFG=0,{scheme},\"esp\",\"\",\"\",0,0,\"\"\r\n");
    host.transact(user.as_bytes(), b"\r\nOK\r\n").await;
    for line in extra {
        host.transact(format!("{line}\r\n").as_bytes(), b"\r\nOK\r\n")
            .await;
    }
    host.transact(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", b"\r\nOK\r\n")
        .await;
    host.send(format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0\r\n").as_bytes())
        .await;
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + common::DEADLINE;
    while !(got.ends_with(b"OK\r\n") || got.ends_with(b"ERROR\r\n"))
        && std::time::Instant::now() < deadline
    {
        got.extend(host.drain_for(std::time::Duration::from_millis(50)).await);
    }
    host.transact(b"AT+MQTTCLEAN=0\r\n", b"\r\nOK\r\n").await;
    got
}

fn esp_connected(scheme: u8, port: u16) -> Vec<u8> {
    format!("+MQTTCONNECTED:0,{scheme},\"127.0.0.1\",\"{port}\",\"\",0\r\n\r\nOK\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_schemes_use_the_manufacturing_nvs() {
    let pki = Pki::new();
    let port = tls_broker(&pki, None).await;
    let (_sim, mut host) = sim_dialect(Dialect::EspAt, SimOptions::default()).await;
    // Scheme 3 without a CA stored fails like a failed handshake.
    assert_eq!(esp_connect(&mut host, port, 3, &[]).await, b"\r\nERROR\r\n");
    // Scheme 2 takes any certificate; scheme 3 verifies with the stored CA.
    assert_eq!(
        esp_connect(&mut host, port, 2, &[]).await,
        esp_connected(2, port)
    );
    esp_store(&mut host, "mqtt_ca", &Pki::new().ca.pem()).await;
    assert_eq!(esp_connect(&mut host, port, 3, &[]).await, b"\r\nERROR\r\n");
    host.transact(b"AT+SYSMFG=0,\"mqtt_ca\",\"mqtt_ca\"\r\n", b"\r\nOK\r\n")
        .await;
    esp_store(&mut host, "mqtt_ca", &pki.ca.pem()).await;
    assert_eq!(
        esp_connect(&mut host, port, 3, &[]).await,
        esp_connected(3, port)
    );
    // WebSocket schemes are not simulated.
    assert_eq!(esp_connect(&mut host, port, 6, &[]).await, b"\r\nERROR\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_client_certificate_schemes() {
    let pki = Pki::new();
    let port = tls_broker(&pki, Some(&pki)).await;
    let (cert, key) = pki.leaf(&["device-1"]);
    let (_sim, mut host) = sim_dialect(Dialect::EspAt, SimOptions::default()).await;
    // The broker demands a certificate: scheme 2 presents none.
    assert_eq!(esp_connect(&mut host, port, 2, &[]).await, b"\r\nERROR\r\n");
    esp_store(&mut host, "mqtt_cert", &cert.pem()).await;
    // Scheme 4 needs the key too.
    assert_eq!(esp_connect(&mut host, port, 4, &[]).await, b"\r\nERROR\r\n");
    esp_store(&mut host, "mqtt_key", &key.serialize_pem()).await;
    assert_eq!(
        esp_connect(&mut host, port, 4, &[]).await,
        esp_connected(4, port)
    );
    // Scheme 5 needs the CA as well.
    assert_eq!(esp_connect(&mut host, port, 5, &[]).await, b"\r\nERROR\r\n");
    esp_store(&mut host, "mqtt_ca", &pki.ca.pem()).await;
    assert_eq!(
        esp_connect(&mut host, port, 5, &[]).await,
        esp_connected(5, port)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_sni_names_the_certificate_and_alpn_is_offered() {
    let pki = Pki::new();
    let port = tls_broker_with(&pki, &["broker.test"], None, &["mqtt"]).await;
    let (_sim, mut host) = sim_dialect(Dialect::EspAt, SimOptions::default()).await;
    // Both need a USERCFG first.
    host.transact(b"AT+MQTTSNI=0,\"broker.test\"\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTALPN=0,1,\"mqtt\"\r\n", b"\r\nERROR\r\n")
        .await;
    esp_store(&mut host, "mqtt_ca", &pki.ca.pem()).await;
    // The certificate names broker.test, not 127.0.0.1.
    assert_eq!(esp_connect(&mut host, port, 3, &[]).await, b"\r\nERROR\r\n");
    let sni = "AT+MQTTSNI=0,\"broker.test\"";
    let wrong = "AT+MQTTSNI=0,\"other.test\"";
    let alpn = "AT+MQTTALPN=0,2,\"x\",\"mqtt\"";
    assert_eq!(
        esp_connect(&mut host, port, 3, &[sni, alpn]).await,
        esp_connected(3, port)
    );
    assert_eq!(
        esp_connect(&mut host, port, 3, &[wrong, alpn]).await,
        b"\r\nERROR\r\n"
    );
    // An ALPN the broker does not speak fails the handshake; without ALPN it goes through.
    let other = "AT+MQTTALPN=0,1,\"x\"";
    assert_eq!(
        esp_connect(&mut host, port, 3, &[sni, other]).await,
        b"\r\nERROR\r\n"
    );
    assert_eq!(
        esp_connect(&mut host, port, 3, &[sni, other, "AT+MQTTALPN=0,0"]).await,
        esp_connected(3, port)
    );
    // Without verification the name does not matter.
    assert_eq!(
        esp_connect(&mut host, port, 2, &[wrong]).await,
        esp_connected(2, port)
    );
}

// ---------------------------------------------------------------------------------------------
// Quectel: AT+QFUPL, AT+QSSLCFG, AT+QMTCFG="ssl"
// ---------------------------------------------------------------------------------------------

/// The 16-bit XOR of big-endian pairs, written again here.
fn xor16(data: &[u8]) -> u16 {
    let mut sum = 0u16;
    for pair in data.chunks(2) {
        sum ^= u16::from(pair[0]) << 8 | u16::from(*pair.get(1).unwrap_or(&0));
    }
    sum
}

async fn quectel_upload(host: &mut Host, name: &str, pem: &str) {
    let line = format!("AT+QFUPL=\"{name}\",{},60\r", pem.len());
    host.transact(line.as_bytes(), b"\r\nCONNECT\r\n").await;
    let done = format!(
        "\r\n+QFUPL: {},{:x}\r\n\r\nOK\r\n",
        pem.len(),
        xor16(pem.as_bytes())
    );
    host.transact(pem.as_bytes(), done.as_bytes()).await;
}

/// The SSL lines, `AT+QMTCFG="ssl",0,1,<ctx>`, then open and (when opened) connect;
/// `result` -2: open expecting 0, connect left to the caller.
async fn quectel_open(host: &mut Host, port: u16, ctx: u8, ssl: &[String], result: i8) {
    for line in ssl {
        host.transact(format!("{line}\r").as_bytes(), b"\r\nOK\r\n")
            .await;
    }
    let cfg = format!("AT+QMTCFG=\"ssl\",0,1,{ctx}\r");
    host.transact(cfg.as_bytes(), b"\r\nOK\r\n").await;
    let open = format!("AT+QMTOPEN=0,\"127.0.0.1\",{port}\r");
    let urc = format!(
        "\r\nOK\r\n\r\n+QMTOPEN: 0,{}\r\n",
        if result == -2 { 0 } else { result }
    );
    host.transact(open.as_bytes(), urc.as_bytes()).await;
    if result == 0 {
        host.transact(
            b"AT+QMTCONN=0,\"q\"\r",
            b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
        )
        .await;
        host.transact(b"AT+QMTDISC=0\r", b"\r\nOK\r\n\r\n+QMTDISC: 0,0\r\n")
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_security_levels_use_the_ufs_files() {
    let pki = Pki::new();
    let port = tls_broker(&pki, Some(&pki)).await;
    let (cert, key) = pki.leaf(&["device-1"]);
    let (_sim, mut host) = sim_dialect(Dialect::Quectel, SimOptions::default()).await;
    host.transact(b"AT+CMEE=1\r", b"\r\nOK\r\n").await;
    let set = |ctx: u8, param: &str, value: &str| format!("AT+QSSLCFG=\"{param}\",{ctx},{value}");
    // Level 2 with files that are not stored: -1.
    let level2 = |ctx| {
        vec![
            set(ctx, "sslversion", "4"),
            set(ctx, "ciphersuite", "0XFFFF"),
            set(ctx, "seclevel", "2"),
            set(ctx, "cacert", "\"ca.pem\""),
            set(ctx, "clientcert", "\"UFS:cert.pem\""),
            set(ctx, "clientkey", "\"key.pem\""),
            set(ctx, "sni", "1"),
        ]
    };
    quectel_open(&mut host, port, 1, &level2(1), -1).await;
    quectel_upload(&mut host, "ca.pem", &pki.ca.pem()).await;
    quectel_upload(&mut host, "cert.pem", &cert.pem()).await;
    quectel_open(&mut host, port, 1, &[], -1).await; // still no key
    quectel_upload(&mut host, "UFS:key.pem", &key.serialize_pem()).await;
    quectel_open(&mut host, port, 1, &[], 0).await;
    // Level 0 presents no certificate: with TLS 1.3 the client's side of the handshake is
    // over before the broker refuses, so the open succeeds and the connect fails.
    quectel_open(&mut host, port, 2, &[set(2, "seclevel", "0")], -2).await;
    host.transact(b"AT+QMTCONN=0,\"q\"\r", b"\r\nOK\r\n\r\n+QMTCONN: 0,2\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_seclevel_0_takes_any_server_and_1_verifies() {
    let pki = Pki::new();
    let port = tls_broker(&pki, None).await;
    let (_sim, mut host) = sim_dialect(Dialect::Quectel, SimOptions::default()).await;
    host.transact(b"AT+CMEE=1\r", b"\r\nOK\r\n").await;
    quectel_open(&mut host, port, 0, &[], 0).await; // the default level is 0
    let level1 = [
        "AT+QSSLCFG=\"seclevel\",0,1".to_string(),
        "AT+QSSLCFG=\"cacert\",0,\"ca.pem\"".to_string(),
    ];
    quectel_open(&mut host, port, 0, &level1, -1).await; // no file
    quectel_upload(&mut host, "ca.pem", &Pki::new().ca.pem()).await;
    quectel_open(&mut host, port, 0, &[], -1).await; // a stranger's CA
    host.transact(b"AT+QFDEL=\"UFS:ca.pem\"\r", b"\r\nOK\r\n")
        .await;
    quectel_upload(&mut host, "ca.pem", &pki.ca.pem()).await;
    quectel_open(&mut host, port, 0, &[], 0).await;
    // TLS to a plain TCP listener fails too.
    let plain = common::free_port();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", plain))
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.write_all(b"not tls").await;
        }
    });
    quectel_open(&mut host, plain, 0, &[], -1).await;
}
