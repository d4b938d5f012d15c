//! The `mqtt-modem-cli` binary, run as a process per command against one simulated modem and
//! a real mosquitto, checked with mosquitto_pub / mosquitto_sub.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use modem_sim::{Sim, SimOptions};
use tokio::time::{Instant, timeout};

const CLI: &str = env!("CARGO_BIN_EXE_mqtt-modem-cli");

struct Out {
    ok: bool,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_against_one_simulated_modem() {
    let m = mosquitto();
    let sim = Sim::start(SimOptions::default()).await.unwrap();
    let port = sim.device_path().to_string_lossy().into_owned();
    let port = port.as_str();
    let id = unique("cli");
    let base = unique("e2e/cli");
    let broker_port = m.port.to_string();

    let probe = cli_ok(port, &["probe"]).await;
    assert!(probe.contains("manufacturer: ucchip"), "{probe}");
    assert!(probe.contains("model: 8088"), "{probe}");
    assert!(probe.contains("revision: "), "{probe}");

    assert_eq!(cli_ok(port, &["state"]).await, "disconnected\n");
    let config = [
        "config",
        "--host",
        "127.0.0.1",
        "--port",
        &broker_port,
        "--client-id",
        &id,
        "--keepalive",
        "30",
        "--user",
        USER,
        "--password",
        PASSWORD,
    ];
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
    let mut child = tokio::process::Command::new(CLI)
        .args([
            "--port", port, "sub", &in_topic, "--count", "1", "--wait", "20",
        ])
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
        mosquitto_pub(&in_topic, "héllo, \"sub\"".as_bytes(), 1, false).await;
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
        format!("{in_topic}\théllo, \"sub\"\n")
    );
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
        refused.stderr.contains("server refused (code 9)"),
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

/// `tls --ca FILE` uploads the CA; the modem then connects to mosquitto's TLS listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_tls_with_ca_file() {
    let m = mosquitto();
    let sim = Sim::start(SimOptions::default()).await.unwrap();
    let port = sim.device_path().to_string_lossy().into_owned();
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

    let topic = unique("e2e/cli-tls");
    let mut sub = MosquittoSub::start(&topic).await;
    cli_ok(port, &["pub", &topic, "over tls", "--qos", "1"]).await;
    let (t, p) = sub.next().await.expect("mosquitto_sub got nothing");
    assert_eq!(t, topic);
    assert_bytes(&p, b"over tls");
    cli_ok(port, &["disconnect"]).await;
    cli_ok(port, &["tls", "--off"]).await;
    assert_eq!(cli_ok(port, &["show", "tls"]).await, "off\n");
    drop(sim);
}
