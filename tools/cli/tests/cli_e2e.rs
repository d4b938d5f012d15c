//! The `mqtt-modem-cli` binary, run as a process per command against one simulated modem and
//! a real mosquitto, checked with mosquitto_pub / mosquitto_sub.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use modem_sim::{Dir, Sim, SimHandle, SimOptions, Traffic};
use tokio::sync::broadcast;
use tokio::time::{Instant, timeout, timeout_at};

const CLI: &str = env!("CARGO_BIN_EXE_mqtt-modem-cli");

struct Out {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn cli(port: &str, args: &[&str]) -> Out {
    let out = timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(CLI)
            .arg("--port")
            .arg(port)
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("mqtt-modem-cli {args:?} hung"))
    .expect("run mqtt-modem-cli");
    Out {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn cli_ok(port: &str, args: &[&str]) -> String {
    let out = cli(port, args).await;
    assert!(
        out.ok,
        "mqtt-modem-cli {args:?} failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// A simulated modem, and the path of its serial device.
async fn start_sim() -> (SimHandle, String) {
    sim_in(modem_sim::Dialect::Uc8088).await
}

/// A simulated modem speaking `dialect`, and the path of its serial device.
async fn sim_in(dialect: modem_sim::Dialect) -> (SimHandle, String) {
    let sim = Sim::start(SimOptions {
        dialect,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let port = sim.device_path().to_string_lossy().into_owned();
    (sim, port)
}

/// `cmd` followed by the options that point it at the shared mosquitto on `port` as `id`.
fn at_broker<'a>(
    cmd: &[&'a str],
    port: &'a str,
    id: &'a str,
    user: &'a str,
    password: &'a str,
) -> Vec<&'a str> {
    let mut args = cmd.to_vec();
    args.extend_from_slice(&["--host", "127.0.0.1", "--port", port, "--client-id", id]);
    args.extend_from_slice(&["--user", user, "--password", password]);
    args
}

/// [`cli_ok`] with `--dialect dialect`.
async fn cli_in(port: &str, dialect: &str, args: &[&str]) -> String {
    let mut all = vec!["--dialect", dialect];
    all.extend_from_slice(args);
    cli_ok(port, &all).await
}

/// `sub TOPIC --count 1` run with `global` options prints the message that mosquitto_pub
/// repeats on `topic` until the CLI (subscribed at some point) exits.
async fn sub_gets_one(global: &[&str], topic: &str) {
    let mut child = tokio::process::Command::new(CLI)
        .args(global)
        .args(["sub", topic, "--count", "1", "--wait", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(25);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "sub --count 1 did not finish");
        mosquitto_pub(topic, "héllo, \"sub\"".as_bytes(), 1, false).await;
        let _ = timeout(Duration::from_millis(200), child.wait()).await;
    };
    let out = child.wait_with_output().await.unwrap();
    assert!(
        status.success(),
        "sub failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{topic}\théllo, \"sub\"\n")
    );
}

/// `--dialect esp-at` and `--dialect quectel`: one run of the tool configures and connects
/// (`connect --host …`: these modules' host lives in the driver), the next ones find the
/// module connected and publish (a `,` and a `"` in the message) and subscribe through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_in_every_dialect() {
    let m = mosquitto();
    let broker_port = m.port.to_string();
    for (arg, dialect) in [
        ("esp-at", modem_sim::Dialect::EspAt),
        ("quectel", modem_sim::Dialect::Quectel),
    ] {
        let (sim, path) = sim_in(dialect).await;
        let global = ["--port", path.as_str(), "--dialect", arg];
        let id = unique("cli-dialect");
        let connect = at_broker(&["connect"], &broker_port, &id, BARE_USER, BARE_PASSWORD);
        cli_in(&path, arg, &connect).await;
        assert_eq!(cli_in(&path, arg, &["state"]).await, "connected\n", "{arg}");

        let topic = unique("e2e/cli/dialect");
        let mut sub = MosquittoSub::start(&topic).await;
        let msg = "a,b \"c\"";
        cli_in(&path, arg, &["pub", &topic, msg, "--qos", "1"]).await;
        let (t, p) = sub.next().await.expect("mosquitto_sub got nothing");
        assert_eq!(t, topic, "{arg}");
        assert_bytes(&p, msg.as_bytes());

        sub_gets_one(&global, &format!("{topic}/in")).await;
        cli_in(&path, arg, &["disconnect"]).await;
        assert_eq!(
            cli_in(&path, arg, &["state"]).await,
            "disconnected\n",
            "{arg}"
        );
        drop(sim);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_against_one_simulated_modem() {
    let m = mosquitto();
    let (sim, port) = start_sim().await;
    let port = port.as_str();
    let id = unique("cli");
    let base = unique("e2e/cli");
    let broker_port = m.port.to_string();

    let probe = cli_ok(port, &["probe"]).await;
    assert!(probe.contains("manufacturer: ucchip"), "{probe}");
    assert!(probe.contains("model: 8088"), "{probe}");
    assert!(probe.contains("revision: "), "{probe}");

    assert_eq!(cli_ok(port, &["state"]).await, "disconnected\n");
    let config = at_broker(
        &["config", "--keepalive", "30"],
        &broker_port,
        &id,
        USER,
        PASSWORD,
    );
    cli_ok(port, &config).await;
    let shown = cli_ok(port, &["show", "config"]).await;
    assert!(shown.contains(&format!("client-id: {id}")), "{shown}");
    assert!(shown.contains("keepalive: 30"), "{shown}");
    assert!(shown.contains(&format!("user: {USER}")), "{shown}");
    assert!(shown.contains("password: <redacted>"), "{shown}");
    assert!(
        !shown.contains(PASSWORD),
        "password shown in clear:\n{shown}"
    );
    let secret = cli_ok(port, &["show", "config", "--show-secrets"]).await;
    assert!(
        secret.contains(&format!("password: {PASSWORD}")),
        "{secret}"
    );
    assert_eq!(cli_ok(port, &["show", "tls"]).await, "off\n");

    // -v shows the AT traffic on stderr.
    let connect = cli(port, &["-v", "connect"]).await;
    assert!(connect.ok, "{}", connect.stderr);
    assert!(
        connect.stderr.contains(">> AT+MQTTCONNECT\\r"),
        "{}",
        connect.stderr
    );
    assert!(
        connect.stderr.contains("<< \\r\\n+MQTTCONNECT:0\\r\\n"),
        "{}",
        connect.stderr
    );
    assert_eq!(cli_ok(port, &["state"]).await, "connected\n");

    // pub, checked by mosquitto_sub.
    let out_topic = format!("{base}/out");
    let mut sub = MosquittoSub::start(&out_topic).await;
    let msg = r#"{"from":"cli","n":1}"#;
    cli_ok(port, &["pub", &out_topic, msg, "--qos", "1"]).await;
    let (t, p) = sub.next().await.expect("mosquitto_sub got nothing");
    assert_eq!(t, out_topic);
    assert_bytes(&p, msg.as_bytes());

    // sub --count 1: mosquitto_pub repeats until the CLI (subscribed at some point) exits.
    let in_topic = format!("{base}/in");
    sub_gets_one(&["--port", port], &in_topic).await;
    let subs = cli_ok(port, &["show", "subs"]).await;
    assert!(subs.contains(&format!("{in_topic}\tqos 0")), "{subs}");
    cli_ok(port, &["unsub", &in_topic]).await;
    let subs = cli_ok(port, &["show", "subs"]).await;
    assert!(!subs.contains(&in_topic), "{subs}");

    // A refused connect: one line naming the code's meaning, exit status 1.
    cli_ok(port, &["disconnect"]).await;
    assert_eq!(cli_ok(port, &["state"]).await, "disconnected\n");
    let mut bad = config;
    bad[12] = "wrong password";
    cli_ok(port, &bad).await;
    let refused = cli(port, &["connect"]).await;
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains("broker refused: the modem answered result 9"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.stderr.trim_end().lines().count(),
        1,
        "{}",
        refused.stderr
    );
    let status = std::process::Command::new(CLI)
        .args(["--port", port, "connect"])
        .stderr(Stdio::null())
        .status();
    // (the blocking run is fine: the simulator's tasks run on the other worker thread)
    assert_eq!(status.unwrap().code(), Some(1));
    drop(sim);
}

/// Usage errors and a missing port fail with status != 0 and a message, without hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_missing_port_fails_cleanly() {
    let out = cli("/nonexistent/tty", &["probe"]).await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains("cannot open /nonexistent/tty"),
        "{}",
        out.stderr
    );
}

/// `pub` of `payload` at QoS 1 on a fresh topic under `base` reaches mosquitto_sub byte-exact.
async fn pub_reaches_mosquitto(port: &str, base: &str, payload: &[u8]) {
    let topic = unique(base);
    let mut sub = MosquittoSub::start(&topic).await;
    let msg = std::str::from_utf8(payload).unwrap();
    cli_ok(port, &["pub", &topic, msg, "--qos", "1"]).await;
    let (t, p) = sub.next().await.expect("mosquitto_sub got nothing");
    assert_eq!(t, topic);
    assert_bytes(&p, payload);
}

/// `tls --ca FILE` uploads the CA; the modem then connects to mosquitto's TLS listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_tls_with_ca_file() {
    let m = mosquitto();
    let (sim, port) = start_sim().await;
    let port = port.as_str();
    let ca = m.dir.join("ca.crt");
    let tls_port = m.tls_port.to_string();
    let id = unique("cli-tls");

    let missing = cli(port, &["tls", "--ca", "/nonexistent/ca.pem"]).await;
    assert!(!missing.ok);
    assert!(
        missing.stderr.contains("cannot read /nonexistent/ca.pem"),
        "{}",
        missing.stderr
    );
    cli_ok(port, &["tls", "--ca", ca.to_str().unwrap()]).await;
    assert_eq!(cli_ok(port, &["show", "tls"]).await, "on\n");
    let host = "127.0.0.1";
    let config = [
        "config",
        "--host",
        host,
        "--port",
        &tls_port,
        "--client-id",
        &id,
    ];
    let creds = ["--user", USER, "--password", PASSWORD];
    cli_ok(port, &[&config[..], &creds[..]].concat()).await;
    cli_ok(port, &["connect"]).await;
    assert_eq!(cli_ok(port, &["state"]).await, "connected\n");

    pub_reaches_mosquitto(port, "e2e/cli-tls", b"over tls").await;
    cli_ok(port, &["disconnect"]).await;
    cli_ok(port, &["tls", "--off"]).await;
    assert_eq!(cli_ok(port, &["show", "tls"]).await, "off\n");
    drop(sim);
}

/// The bytes the simulator has received from the host (`Dir::Rx`) since `tap` was taken, up to
/// now. Call it after a command that got its answer, so that its bytes were all read.
fn received(tap: &mut broadcast::Receiver<Traffic>) -> Vec<u8> {
    let mut rx = Vec::new();
    loop {
        match tap.try_recv() {
            Ok(t) if t.dir == Dir::Rx => rx.extend(t.bytes),
            Ok(_) => {}
            Err(broadcast::error::TryRecvError::Empty) => return rx,
            Err(e) => panic!("traffic tap: {e}"),
        }
    }
}

/// Waits up to `within` for the simulator to send the host (`Dir::Tx`) bytes holding `needle`;
/// returns everything it sent meanwhile, and whether `needle` was among it.
async fn sent_within(
    tap: &mut broadcast::Receiver<Traffic>,
    needle: &[u8],
    within: Duration,
) -> (bool, Vec<u8>) {
    let deadline = Instant::now() + within;
    let mut tx = Vec::new();
    loop {
        if contains(&tx, needle) {
            return (true, tx);
        }
        match timeout_at(deadline, tap.recv()).await {
            Err(_) => return (false, tx),
            Ok(Ok(t)) if t.dir == Dir::Tx => tx.extend(t.bytes),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("traffic tap: {e}"),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A failed command: exit status 1 and exactly one line on stderr holding `reason`.
#[track_caller]
fn assert_fails_with(out: &Out, reason: &str) {
    assert!(!out.ok, "succeeded:\n{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(reason),
        "want {reason:?} in:\n{}",
        out.stderr
    );
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
}

/// `tls --ca --client-cert --client-key` uploads all three PEM files; the modem then passes
/// mosquitto's mTLS listener, which requires a client certificate signed by the test CA and
/// takes its CN as the user name (no password is configured). With the CA alone the same
/// connect fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_tls_client_certificate() {
    let m = mosquitto();
    let file = |name: &str| m.dir.join(name).to_string_lossy().into_owned();
    let (ca, cert, key) = (file("ca.crt"), file("client.crt"), file("client.key"));
    let mtls_port = m.mtls_port.to_string();

    // Without a client certificate: refused, one line on stderr, status 1.
    let (sim, port) = start_sim().await;
    let port = port.as_str();
    let id = unique("cli-mtls-nocert");
    cli_ok(port, &["tls", "--ca", &ca]).await;
    let config = [
        "config",
        "--host",
        "127.0.0.1",
        "--port",
        &mtls_port,
        "--client-id",
        &id,
    ];
    cli_ok(port, &config).await;
    let refused = cli(port, &["connect"]).await;
    assert_fails_with(
        &refused,
        "connect failed: link down: the modem answered result 5",
    );
    assert_eq!(cli_ok(port, &["state"]).await, "disconnected\n");
    drop(sim);

    // With the client certificate and key.
    let (sim, port) = start_sim().await;
    let port = port.as_str();
    let id = unique("cli-mtls");
    let tls = [
        "tls",
        "--ca",
        &ca,
        "--client-cert",
        &cert,
        "--client-key",
        &key,
    ];
    cli_ok(port, &tls).await;
    assert_eq!(cli_ok(port, &["show", "tls"]).await, "on\n");
    let mut config = config;
    config[6] = &id;
    cli_ok(port, &config).await;
    cli_ok(port, &["connect"]).await;
    assert_eq!(cli_ok(port, &["state"]).await, "connected\n");
    // The broker took the certificate's CN as the user name: the certificate was presented.
    let log = std::fs::read_to_string(m.dir.join("mosquitto.log")).unwrap();
    let who = format!("as {id} (");
    assert!(
        log.lines()
            .any(|l| l.contains(&who) && l.contains(&format!("u'{CLIENT_CN}'"))),
        "no connect of {id} as user {CLIENT_CN:?} in the mosquitto log:\n{log}"
    );

    pub_reaches_mosquitto(port, "e2e/cli-mtls", JSON).await;
    cli_ok(port, &["disconnect"]).await;
    drop(sim);
}

/// `tls` in every dialect: the PEM files go to the module (ESP-AT's NVS, Quectel's file
/// system), and `connect` with the same TLS options reaches mosquitto's listener that requires
/// a client certificate. ESP-AT takes a server name and ALPN; Quectel refuses them by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_tls_in_every_dialect() {
    let m = mosquitto();
    let file = |name: &str| m.dir.join(name).to_string_lossy().into_owned();
    let (ca, cert, key) = (file("ca.crt"), file("client.crt"), file("client.key"));
    let mtls_port = m.mtls_port.to_string();
    let pems = ["--ca", &ca, "--client-cert", &cert, "--client-key", &key];
    for (arg, dialect) in [
        ("esp-at", modem_sim::Dialect::EspAt),
        ("quectel", modem_sim::Dialect::Quectel),
    ] {
        let (sim, path) = sim_in(dialect).await;
        let mut tls = vec!["tls"];
        tls.extend_from_slice(&pems);
        cli_in(&path, arg, &tls).await;
        let id = unique("cli-tls-dialect");
        let mut connect = vec![
            "connect",
            "--host",
            "127.0.0.1",
            "--port",
            &mtls_port,
            "--client-id",
            &id,
        ];
        connect.extend_from_slice(&pems);
        if arg == "esp-at" {
            connect.extend_from_slice(&["--sni", "localhost", "--alpn", "mqtt"]);
        } else {
            let mut sni = tls.clone();
            sni.extend_from_slice(&["--sni", "localhost"]);
            let refused = cli(&path, &[&["--dialect", arg][..], &sni].concat()).await;
            assert_fails_with(
                &refused,
                "tls failed: this module has no TLS server name (SNI)",
            );
        }
        cli_in(&path, arg, &connect).await;
        assert_eq!(cli_in(&path, arg, &["state"]).await, "connected\n", "{arg}");
        let topic = unique("e2e/cli/tls");
        let mut sub = MosquittoSub::start(&topic).await;
        cli_in(&path, arg, &["pub", &topic, "over mTLS", "--qos", "1"]).await;
        let (t, p) = sub.next().await.expect("mosquitto_sub got nothing");
        assert_eq!(t, topic, "{arg}");
        assert_bytes(&p, b"over mTLS");
        cli_in(&path, arg, &["disconnect"]).await;
        drop(sim);
    }
}

/// `config --unquoted` writes the strings bare (checked in the bytes the simulator received),
/// and the modem connects and publishes with them; a field holding `,` or `"` is refused
/// before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_config_unquoted() {
    let m = mosquitto();
    let (sim, port) = start_sim().await;
    let port = port.as_str();
    let id = unique("cli-unquoted");
    let broker_port = m.port.to_string();
    let config = at_broker(
        &["config", "--unquoted"],
        &broker_port,
        &id,
        BARE_USER,
        BARE_PASSWORD,
    );

    let mut tap = sim.traffic();
    cli_ok(port, &config).await;
    let rx = received(&mut tap);
    let bare =
        format!("AT+MQTTCONFIG=127.0.0.1,{broker_port},{id},1,60,{BARE_USER},{BARE_PASSWORD}\r");
    assert!(
        contains(&rx, bare.as_bytes()),
        "want {:?} in what the modem received:\n{}",
        bare,
        rx.escape_ascii()
    );
    let shown = cli_ok(port, &["show", "config"]).await;
    assert!(shown.contains(&format!("client-id: {id}\n")), "{shown}");
    assert!(shown.contains(&format!("user: {BARE_USER}\n")), "{shown}");

    // The bare credentials are the ones mosquitto accepts.
    cli_ok(port, &["connect"]).await;
    assert_eq!(cli_ok(port, &["state"]).await, "connected\n");
    pub_reaches_mosquitto(port, "e2e/cli-unquoted", b"bare, \"config\"").await;
    cli_ok(port, &["disconnect"]).await;

    // Fields that would need quoting: refused, naming the field; nothing reaches the modem.
    for (arg, value, field) in [
        (7, "id,2", "client id"),
        (9, "we\"ird", "username"),
        (11, PASSWORD, "password"),
    ] {
        let mut bad = config.clone();
        bad[arg] = value;
        let mut tap = sim.traffic();
        let out = cli(port, &bad).await;
        assert_fails_with(&out, &format!("config failed: invalid {field}"));
        // A later command's answer shows that everything the refused one wrote was read.
        let shown = cli_ok(port, &["show", "config"]).await;
        let rx = received(&mut tap);
        assert!(
            !contains(&rx, b"AT+MQTTCONFIG="),
            "{field}: a config was written:\n{}",
            rx.escape_ascii()
        );
        assert!(shown.contains(&format!("client-id: {id}\n")), "{shown}");
        assert!(shown.contains(&format!("user: {BARE_USER}\n")), "{shown}");
    }
    drop(sim);
}

/// What the resume tests saw after reconnecting.
struct Reconnected {
    /// Whether the modem wrote the queued message to the serial line (`+MQTTRECV`).
    on_serial: bool,
    /// Everything the modem wrote after the reconnect's `AT+MQTTCONNECT`.
    tx: Vec<u8>,
    /// The session-present flag of the broker's CONNACK to the reconnect (from its log).
    session_present: bool,
    /// stderr of the reconnecting `connect -v`.
    connect_trace: String,
    /// stdout of the reconnecting `connect --wait 2`: the messages it printed.
    connect_out: String,
}

/// With a fixed client id: connect, subscribe at QoS 1, disconnect; publish at QoS 1 with
/// mosquitto_pub while the modem is offline; reconnect. `resume` adds `--resume` to both
/// configs (clean session off).
async fn queued_while_offline(resume: bool, topic: &str, payload: &[u8]) -> Reconnected {
    let m = mosquitto();
    let (sim, port) = start_sim().await;
    let port = port.as_str();
    let id = unique("cli-resume");
    let broker_port = m.port.to_string();
    let mut config = vec![
        "config",
        "--host",
        "127.0.0.1",
        "--port",
        &broker_port,
        "--client-id",
        &id,
        "--user",
        USER,
        "--password",
        PASSWORD,
    ];
    if resume {
        config.push("--resume");
    }
    cli_ok(port, &config).await;
    let shown = cli_ok(port, &["show", "config"]).await;
    assert!(
        shown.contains(&format!("clean-session: {}\n", !resume)),
        "{shown}"
    );
    cli_ok(port, &["connect"]).await;
    // `--wait 0`: subscribe and return.
    let out = cli_ok(port, &["sub", topic, "--qos", "1", "--wait", "0"]).await;
    assert_eq!(out, "");
    let subs = cli_ok(port, &["show", "subs"]).await;
    assert!(subs.contains(&format!("{topic}\tqos 1")), "{subs}");
    cli_ok(port, &["disconnect"]).await;
    assert_eq!(cli_ok(port, &["state"]).await, "disconnected\n");

    mosquitto_pub(topic, payload, 1, false).await;

    cli_ok(port, &config).await;
    let mut tap = sim.traffic();
    // `--wait 2`: print what arrives in the two seconds after the connect.
    let connect = cli(port, &["-v", "connect", "--wait", "2"]).await;
    assert!(connect.ok, "{}", connect.stderr);
    let urc = modem_sim::recv_urc(topic.as_bytes(), payload);
    let within = if resume { DEADLINE } else { QUIET };
    let (on_serial, tx) = sent_within(&mut tap, &urc, within).await;
    drop(sim);
    // mosquitto logs `Sending CONNACK to <id> (<session present>, <code>)` before sending it.
    let log = std::fs::read_to_string(m.dir.join("mosquitto.log")).unwrap();
    let connack = format!("Sending CONNACK to {id} (");
    let last = log.lines().rfind(|l| l.contains(&connack));
    let session_present = match last.and_then(|l| l.split_once(&connack)) {
        Some((_, "1, 0)")) => true,
        Some((_, "0, 0)")) => false,
        _ => panic!("no CONNACK to {id} in the mosquitto log:\n{log}"),
    };
    Reconnected {
        on_serial,
        tx,
        session_present,
        connect_trace: connect.stderr,
        connect_out: connect.stdout,
    }
}

/// `config --resume` (clean session off): a QoS 1 message published while the modem was
/// offline is delivered when it reconnects to the session the broker kept. The broker sends it
/// right after its CONNACK; `connect --wait` prints it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_resume_delivers_message_queued_offline() {
    let topic = unique("e2e/cli-resume");
    let payload = "queued, \"offline\"".as_bytes();
    let r = queued_while_offline(true, &topic, payload).await;
    assert!(
        r.on_serial,
        "the modem did not pass the queued message on; it wrote:\n{}",
        r.tx.escape_ascii()
    );
    assert_eq!(
        r.connect_out,
        format!("{topic}\t{}\n", std::str::from_utf8(payload).unwrap()),
        "connect --wait did not print the queued message once:\n{}",
        r.connect_trace
    );
    assert!(r.session_present, "the broker did not resume the session");
}

/// The same sequence without `--resume`: the session (and its subscription) ends with the
/// disconnect, so the message published meanwhile never reaches the modem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_clean_session_drops_message_queued_offline() {
    let topic = unique("e2e/cli-clean");
    let r = queued_while_offline(false, &topic, b"not for a clean session").await;
    assert!(
        !contains(&r.tx, b"+MQTTRECV"),
        "a message reached the modem:\n{}",
        r.tx.escape_ascii()
    );
    assert!(
        !r.connect_trace.contains("+MQTTRECV"),
        "{}",
        r.connect_trace
    );
    assert_eq!(r.connect_out, "");
    assert!(!r.session_present, "the broker resumed a session");
}

/// `-v` traces each command before the modem's answer to it, in every dialect: no final result
/// is shown before the command it ends, and the state query is followed by its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_trace_shows_each_command_before_its_answer() {
    for (arg, dialect, query) in [
        ("uc8088", modem_sim::Dialect::Uc8088, ">> AT+MQTTSTATE\\r"),
        ("esp-at", modem_sim::Dialect::EspAt, ">> AT+MQTTCONN?\\r\\n"),
        ("quectel", modem_sim::Dialect::Quectel, ">> AT+QMTCONN?\\r"),
    ] {
        let (sim, path) = sim_in(dialect).await;
        let out = cli(&path, &["--dialect", arg, "-v", "state"]).await;
        assert!(out.ok, "{arg}: {}", out.stderr);
        let trace: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with(">> ") || l.starts_with("<< "))
            .collect();
        assert!(
            trace.first().is_some_and(|l| l.starts_with(">> ")),
            "{arg}: {trace:#?}"
        );
        // Each final result ends a command already shown.
        let (mut commands, mut finals) = (0, 0);
        for line in &trace {
            if line.starts_with(">> ") {
                commands += 1;
            } else if line.ends_with("OK\\r\\n") || line.ends_with("ERROR\\r\\n") {
                finals += 1;
                assert!(
                    finals <= commands,
                    "{arg}: an answer before its command: {trace:#?}"
                );
            }
        }
        let q = trace
            .iter()
            .position(|l| *l == query)
            .unwrap_or_else(|| panic!("{arg}: no {query:?} in {trace:#?}"));
        assert!(
            trace.get(q + 1).is_some_and(|l| l.starts_with("<< ")),
            "{arg}: {trace:#?}"
        );
        drop(sim);
    }
}
