//! TLS in every dialect, through the same application code: the real driver sets TLS up on a
//! simulated UC8088, ESP-AT or Quectel module (each storing the certificates its own way:
//! `AT+MQTTTLS`, `AT+SYSMFG`, `AT+QFUPL`), which connects to mosquitto's listener that requires
//! a client certificate; mosquitto_pub / mosquitto_sub check the round trip. A wrong CA and a
//! missing client certificate fail the connect as a link failure, and the supervisor brings a
//! TLS session back after the broker restarts.

mod common;

use std::time::Duration;

use common::*;
use mqtt_modem::{Config, ConnectionState, Dialect, ErrorKind, EspAt, Qos, Quectel, Tls, Uc8088};
use tokio::sync::broadcast::Receiver;
use tokio::time::timeout;

/// What each module writes when it stores a certificate or key.
fn upload_marker(sim_dialect: modem_sim::Dialect) -> &'static [u8] {
    match sim_dialect {
        modem_sim::Dialect::Uc8088 => b"AT+MQTTTLS=1,",
        // A binary value (type 8); the fingerprints are numbers (type 5).
        modem_sim::Dialect::EspAt => b"\",8,",
        // A file's upload (`AT+QFUPL="<name>.pem",<len>,…`), not its commit marker's.
        modem_sim::Dialect::Quectel => b".pem\",",
    }
}

/// How many certificates or keys the module was given since `tap` was opened.
fn uploads_seen(tap: &mut Receiver<modem_sim::Traffic>, marker: &[u8]) -> usize {
    let mut rx = Vec::new();
    while let Ok(t) = tap.try_recv() {
        if t.dir == modem_sim::Dir::Rx {
            rx.extend_from_slice(&t.bytes);
        }
    }
    rx.windows(marker.len()).filter(|w| *w == marker).count()
}

/// The CA, client certificate and key of `m`.
struct Pems {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl Pems {
    fn of(m: &Mosquitto) -> Self {
        Self {
            ca: m.pem("ca.crt"),
            cert: m.pem("client.crt"),
            key: m.pem("client.key"),
        }
    }

    fn tls(&self) -> Tls<'_> {
        Tls::root_ca(&self.ca).client_cert(&self.cert, &self.key)
    }
}

/// The mTLS listener takes the certificate's name as the user: no password.
fn mtls_config<'a>(m: &Mosquitto, id: &'a str) -> Config<'a> {
    Config::new("127.0.0.1", m.mtls_port, id)
}

async fn set_tls<D: Dialect>(dut: &mut Dut<D>, tls: Tls<'_>) {
    timeout(DEADLINE, dut.session.modem.set_tls(tls))
        .await
        .expect("set_tls hung")
        .expect("set_tls");
}

/// A publish and a delivery through the module, both checked by mosquitto's own clients.
async fn round_trip<D: Dialect>(dut: &mut Dut<D>, base: &str) {
    let mut sub = MosquittoSub::start(&format!("{base}/out")).await;
    dut.subscribe(&format!("{base}/in"), Qos::AtLeastOnce).await;
    dut.publish(&format!("{base}/out"), b"over TLS", Qos::AtLeastOnce, false)
        .await;
    let (_, p) = sub.next().await.expect("nothing reached mosquitto_sub");
    assert_bytes(&p, b"over TLS");
    mosquitto_pub(&format!("{base}/in"), b"to the module", 1, false).await;
    let (_, p) = dut.message().await;
    assert_bytes(&p, b"to the module");
}

/// Connects over TLS with a client certificate and round-trips; then, after the module
/// restarted, sets the same TLS up again: ESP-AT and Quectel find the certificates they
/// stored and write nothing, the UC8088 (which cannot say what it holds) writes them again.
async fn mtls_round_trip_and_reuse<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let m = mosquitto();
    let pems = Pems::of(m);
    let marker = upload_marker(sim_dialect);
    let mut dut = Dut::start_in(dialect, sim_dialect).await;
    let mut tap = dut.sim.traffic();
    set_tls(&mut dut, pems.tls()).await;
    assert_eq!(uploads_seen(&mut tap, marker), 3, "CA, certificate, key");
    let id = unique("mtls");
    dut.connect_to(&mtls_config(m, &id)).await;
    round_trip(&mut dut, &unique("e2e/tls/first")).await;

    timeout(DEADLINE, dut.session.modem.disconnect())
        .await
        .unwrap()
        .unwrap();
    dut.sim.reboot();
    timeout(DEADLINE, dut.session.modem.init())
        .await
        .unwrap()
        .unwrap();
    let mut tap = dut.sim.traffic();
    set_tls(&mut dut, pems.tls()).await;
    let again = uploads_seen(&mut tap, marker);
    if sim_dialect == modem_sim::Dialect::Uc8088 {
        assert_eq!(again, 3, "the UC8088 keeps nothing it could be asked about");
    } else {
        assert_eq!(again, 0, "stored certificates written again");
    }
    dut.connect_to(&mtls_config(m, &id)).await;
    round_trip(&mut dut, &unique("e2e/tls/again")).await;
    // `upload_always` writes them all the same.
    let mut tap = dut.sim.traffic();
    set_tls(&mut dut, pems.tls().upload_always()).await;
    assert_eq!(uploads_seen(&mut tap, marker), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uc8088_mtls_round_trip() {
    mtls_round_trip_and_reuse(Uc8088, modem_sim::Dialect::Uc8088).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_mtls_round_trip_and_stored_certificates_reused() {
    mtls_round_trip_and_reuse(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_mtls_round_trip_and_stored_files_reused() {
    mtls_round_trip_and_reuse(Quectel, modem_sim::Dialect::Quectel).await;
}

/// Connects with `tls` and `config`; returns the connect's error kind.
async fn connect_fails<D: Dialect + Copy>(
    dialect: D,
    sim_dialect: modem_sim::Dialect,
    tls: Tls<'_>,
    config: &Config<'_>,
) -> ErrorKind {
    let mut dut = Dut::start_in(dialect, sim_dialect).await;
    set_tls(&mut dut, tls).await;
    let modem = &mut dut.session.modem;
    timeout(DEADLINE, modem.configure(config))
        .await
        .unwrap()
        .expect("configure");
    let err = timeout(Duration::from_secs(40), modem.connect())
        .await
        .expect("connect hung")
        .expect_err("connected with a TLS setting that must fail");
    assert_eq!(
        timeout(DEADLINE, modem.state()).await.unwrap(),
        Ok(ConnectionState::Disconnected)
    );
    err.kind()
}

/// A CA that did not sign the broker's certificate: the handshake fails, reported as a link
/// failure; a CA only, on the listener that requires a client certificate: the broker refuses
/// the handshake, reported the same way.
async fn refused<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let m = mosquitto();
    let pems = Pems::of(m);
    let dir = tempfile::tempdir().unwrap();
    let wrong = other_ca(dir.path());
    let id = unique("wrong-ca");
    let config = Config::new("127.0.0.1", m.tls_port, &id).credentials(BARE_USER, BARE_PASSWORD);
    let kind = connect_fails(dialect, sim_dialect, Tls::root_ca(&wrong), &config).await;
    assert_eq!(kind, ErrorKind::Link, "wrong CA");
    let id = unique("no-cert");
    let kind = connect_fails(
        dialect,
        sim_dialect,
        Tls::root_ca(&pems.ca),
        &mtls_config(m, &id),
    )
    .await;
    assert_eq!(kind, ErrorKind::Link, "no client certificate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uc8088_wrong_ca_and_missing_client_certificate_refused() {
    refused(Uc8088, modem_sim::Dialect::Uc8088).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_wrong_ca_and_missing_client_certificate_refused() {
    refused(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_wrong_ca_and_missing_client_certificate_refused() {
    refused(Quectel, modem_sim::Dialect::Quectel).await;
}

/// mosquitto restarted (same ports, same certificates): the supervisor sees the loss,
/// re-establishes the TLS session with the client certificate and re-subscribes.
async fn tls_broker_restart<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    supervisor_through_broker_restart(dialect, sim_dialect, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uc8088_tls_session_back_after_broker_restart() {
    tls_broker_restart(Uc8088, modem_sim::Dialect::Uc8088).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_tls_session_back_after_broker_restart() {
    tls_broker_restart(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_tls_session_back_after_broker_restart() {
    tls_broker_restart(Quectel, modem_sim::Dialect::Quectel).await;
}

/// ESP-AT sends the server name and ALPN it was given: the broker's certificate is checked
/// against that name (`localhost` is in it, `wrong.example` is not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_server_name_is_what_the_certificate_is_checked_against() {
    let m = mosquitto();
    let pems = Pems::of(m);
    let mut dut = Dut::start_in(EspAt, modem_sim::Dialect::EspAt).await;
    set_tls(
        &mut dut,
        pems.tls().server_name("localhost").alpn(&["mqtt"]),
    )
    .await;
    let id = unique("sni");
    dut.connect_to(&mtls_config(m, &id)).await;
    round_trip(&mut dut, &unique("e2e/tls/sni")).await;
    let kind = connect_fails(
        EspAt,
        modem_sim::Dialect::EspAt,
        pems.tls().server_name("wrong.example"),
        &mtls_config(m, &unique("bad-sni")),
    )
    .await;
    assert_eq!(kind, ErrorKind::Link);
}

/// TLS without verifying the broker (ESP-AT scheme 2, Quectel `seclevel` 0): the connect
/// to the TLS listener works with no CA at all, and the round trip too.
async fn unverified<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let m = mosquitto();
    let mut dut = Dut::start_in(dialect, sim_dialect).await;
    let mut tap = dut.sim.traffic();
    set_tls(&mut dut, Tls::unverified()).await;
    assert_eq!(uploads_seen(&mut tap, upload_marker(sim_dialect)), 0);
    let id = unique("unverified");
    dut.connect_to(
        &Config::new("127.0.0.1", m.tls_port, &id).credentials(BARE_USER, BARE_PASSWORD),
    )
    .await;
    round_trip(&mut dut, &unique("e2e/tls/unverified")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_tls_without_verification() {
    unverified(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_tls_without_verification() {
    unverified(Quectel, modem_sim::Dialect::Quectel).await;
}
