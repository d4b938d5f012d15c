//! `examples/host` (the README's host program) run as a user runs it, `cargo run --example host`,
//! against the simulator on a real pty and a real mosquitto: it connects, publishes every second,
//! prints the messages sent to its command topic, and survives a broker restart.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use modem_sim::{Sim, SimOptions};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::{Instant, timeout, timeout_at};

/// Builds the example as `cargo run --example host` would and returns its path.
fn build_host_example() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = std::process::Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["build", "-p", "mqtt-modem", "--example", "host"])
        .status()
        .expect("run cargo build --example host");
    assert!(status.success(), "cargo build --example host failed");
    // This test binary is <target>/debug/deps/host_example-…; the example <target>/debug/examples/host.
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap();
    debug.join("examples").join("host")
}

/// The example's stdout, line by line, with what was read so far for failure messages.
struct Output {
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<String>,
}

impl Output {
    /// Reads lines until one satisfies `want` (returned), or panics with all seen.
    async fn until(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match timeout_at(deadline, self.lines.next_line()).await {
                Ok(Ok(Some(line))) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                other => panic!(
                    "host example: no {what} ({other:?}); its output:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

/// One message from `topic` as `mosquitto_sub` receives it.
async fn receive_one(broker: &Mosquitto, topic: &str) -> String {
    let out = timeout(
        Duration::from_secs(20),
        Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
            .args(["-u", USER, "-P", PASSWORD, "-t", topic, "-C", "1"])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("no telemetry at the broker within 20 s")
    .expect("run mosquitto_sub");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn run_example(dialect: &str, sim_dialect: modem_sim::Dialect) {
    let exe = build_host_example();
    let (port, tls_port) = (free_port(), free_port());
    let broker = start_mosquitto_on(port, tls_port);
    let sim = Sim::start(SimOptions {
        dialect: sim_dialect,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let id = unique("host");
    let mut child: Child = Command::new(exe)
        .args(["--serial", &sim.device_path().to_string_lossy()])
        .args(["--dialect", dialect, "--id", &id])
        .args(["--broker", &format!("127.0.0.1:{port}")])
        .args(["--user", BARE_USER, "--password", BARE_PASSWORD])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the host example");
    let mut out = Output {
        lines: BufReader::new(child.stdout.take().unwrap()).lines(),
        seen: Vec::new(),
    };
    let (tele, cmd) = (format!("demo/{id}/tele"), format!("demo/{id}/cmd"));

    out.until("connect", |l| l == "link: connected").await;
    let n: u32 = receive_one(&broker, &tele)
        .await
        .parse()
        .expect("a counter");
    assert!(n >= 1);
    mosquitto_pub_to(&broker, &cmd, b"hello host", 1, false).await;
    out.until("message", |l| l == format!("message on {cmd}: hello host"))
        .await;

    // The broker goes away and comes back on the same port.
    drop(broker);
    out.until("loss", |l| l.starts_with("link: disconnected"))
        .await;
    let broker = start_mosquitto_on(port, tls_port);
    out.until("reconnect", |l| l == "link: connected").await;
    out.until("re-subscription", |l| {
        l == "link: 1 subscription(s) restored"
    })
    .await;
    let m: u32 = receive_one(&broker, &tele)
        .await
        .parse()
        .expect("a counter");
    assert!(m > n, "telemetry after the restart: {m} after {n}");
    mosquitto_pub_to(&broker, &cmd, b"after restart", 1, false).await;
    out.until("message after the restart", |l| {
        l == format!("message on {cmd}: after restart")
    })
    .await;
    let _ = child.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_example_round_trip_and_broker_restart_uc8088() {
    run_example("uc8088", modem_sim::Dialect::Uc8088).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_example_round_trip_and_broker_restart_esp_at() {
    run_example("esp-at", modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_example_round_trip_and_broker_restart_quectel() {
    run_example("quectel", modem_sim::Dialect::Quectel).await;
}
