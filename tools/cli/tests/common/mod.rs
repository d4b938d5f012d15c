//! Shared helpers of the end-to-end tests: one mosquitto per test binary (plain + TLS
//! listeners with password auth, and a TLS listener that requires a client certificate),
//! mosquitto_pub / mosquitto_sub as independent clients, and a driver session on a simulated
//! modem.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use modem_sim::{Sim, SimHandle, SimOptions};
use mqtt_modem::{Config, Dialect, Event, Options, Qos, Uc8088};
use mqtt_modem_cli::Session;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use tokio::time::{Instant, timeout, timeout_at};

/// Deadline for anything that should happen promptly.
pub const DEADLINE: Duration = Duration::from_secs(15);
/// How long a message that must NOT arrive is given to show up anyway.
pub const QUIET: Duration = Duration::from_millis(1500);

pub const USER: &str = "modem";
pub const PASSWORD: &str = "s3cret,\"pw\"";
/// A second account whose name and password need no quoting on an AT line.
pub const BARE_USER: &str = "bare-user";
pub const BARE_PASSWORD: &str = "Bare_pw-42.x";
/// Common name of the client certificate; the mTLS listener takes it as the user name.
pub const CLIENT_CN: &str = "mqtt-modem test client";

/// A running mosquitto on 127.0.0.1: a plain and a TLS listener (password auth), and an mTLS
/// listener that requires a client certificate signed by the test CA and takes its CN as the
/// user name (no password).
pub struct Mosquitto {
    pub port: u16,
    pub tls_port: u16,
    pub mtls_port: u16,
    /// Holds `ca.crt`, `client.crt`, `client.key` (EC P-256, signed by the CA) and
    /// `mosquitto.log`.
    pub dir: PathBuf,
    /// PEM of the CA that signed the TLS listener's certificate.
    pub ca_pem: Vec<u8>,
    /// A `sh` that runs mosquitto and kills it when its stdin closes (this process exits).
    watchdog: std::process::Child,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        // Closing stdin makes the watchdog kill mosquitto and remove the directory.
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found: these end-to-end tests need a real broker and clients. \
                 Install them (Debian/Ubuntu: apt-get install mosquitto mosquitto-clients openssl)"
            )
        })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a CA, a server certificate for 127.0.0.1 / localhost and a client certificate (CN
/// [`CLIENT_CN`]) with openssl.
fn make_certs(dir: &Path) {
    let openssl = find_tool("openssl");
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    run(Command::new(&openssl)
        .current_dir(dir)
        .args(["req", "-x509", "-nodes", "-days", "2"])
        .args(ec)
        .args([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=mqtt-modem test CA",
        ])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]));
    issue(
        &openssl,
        dir,
        "server",
        "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         basicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    );
    issue(
        &openssl,
        dir,
        "client",
        &format!("/CN={CLIENT_CN}"),
        "basicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=clientAuth\n",
    );
}

/// Makes a CA of its own in `dir` (`ca.crt`, `ca.key`): one that signed nothing the broker
/// shows.
pub fn other_ca(dir: &Path) -> Vec<u8> {
    let openssl = find_tool("openssl");
    run(Command::new(&openssl)
        .current_dir(dir)
        .args(["req", "-x509", "-nodes", "-days", "2"])
        .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=some other CA",
        ]));
    std::fs::read(dir.join("ca.crt")).unwrap()
}

impl Mosquitto {
    /// A PEM file of its directory (`ca.crt`, `client.crt`, `client.key`).
    pub fn pem(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap()
    }
}

/// Makes `<name>.key` (EC prime256v1) and `<name>.crt` for `subject`, signed by the CA in `dir`
/// with the X.509 extensions `ext`.
fn issue(openssl: &Path, dir: &Path, name: &str, subject: &str, ext: &str) {
    let file = |suffix: &str| format!("{name}.{suffix}");
    run(Command::new(openssl)
        .current_dir(dir)
        .args([
            "req",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-keyout",
            &file("key"),
            "-out",
            &file("csr"),
            "-subj",
            subject,
        ]));
    std::fs::write(dir.join(file("ext")), ext).unwrap();
    run(Command::new(openssl)
        .current_dir(dir)
        .args([
            "x509",
            "-req",
            "-in",
            &file("csr"),
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
        ])
        .args(["-CAcreateserial", "-days", "2", "-out", &file("crt")])
        .args(["-extfile", &file("ext")]));
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn start_mosquitto() -> Mosquitto {
    start_mosquitto_on(free_port(), free_port())
}

/// A mosquitto of its own on these ports (for a test that kills and restarts the broker); its
/// mTLS listener gets a free port of its own.
pub fn start_mosquitto_on(port: u16, tls_port: u16) -> Mosquitto {
    start_mosquitto_with(port, tls_port, free_port(), None)
}

/// The certificate files of a mosquitto's directory.
pub const CERT_FILES: [&str; 6] = [
    "ca.crt",
    "ca.key",
    "server.crt",
    "server.key",
    "client.crt",
    "client.key",
];

/// A mosquitto of its own on these three ports, with new certificates, or with the
/// [`CERT_FILES`] copied from `certs` (a broker restarted with the same identity).
pub fn start_mosquitto_with(
    port: u16,
    tls_port: u16,
    mtls_port: u16,
    certs: Option<&Path>,
) -> Mosquitto {
    let mosquitto = find_tool("mosquitto");
    let passwd = find_tool("mosquitto_passwd");
    find_tool("mosquitto_pub");
    find_tool("mosquitto_sub");
    let dir = tempfile::Builder::new()
        .prefix("mqtt-modem-e2e-")
        .tempdir()
        .unwrap()
        .keep();
    match certs {
        Some(from) => {
            for f in CERT_FILES {
                std::fs::copy(from.join(f), dir.join(f)).unwrap();
            }
        }
        None => make_certs(&dir),
    }
    run(Command::new(&passwd)
        .args(["-b", "-c"])
        .arg(dir.join("passwd"))
        .args([USER, PASSWORD]));
    run(Command::new(&passwd)
        .arg("-b")
        .arg(dir.join("passwd"))
        .args([BARE_USER, BARE_PASSWORD]));
    let d = dir.display();
    let conf = format!(
        "user {user}\n\
         per_listener_settings false\n\
         allow_anonymous false\n\
         password_file {d}/passwd\n\
         persistence false\n\
         log_dest file {d}/mosquitto.log\n\
         log_type all\n\
         listener {port} 127.0.0.1\n\
         listener {tls_port} 127.0.0.1\n\
         cafile {d}/ca.crt\n\
         certfile {d}/server.crt\n\
         keyfile {d}/server.key\n\
         listener {mtls_port} 127.0.0.1\n\
         cafile {d}/ca.crt\n\
         certfile {d}/server.crt\n\
         keyfile {d}/server.key\n\
         require_certificate true\n\
         use_identity_as_username true\n",
        user = current_user(),
    );
    std::fs::write(dir.join("mosquitto.conf"), conf).unwrap();
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(r#""$1" -c "$2/mosquitto.conf" 2>/dev/null & pid=$!; read _ignored; kill $pid; wait $pid; rm -rf "$2""#)
        .arg("sh")
        .arg(&mosquitto)
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mosquitto");
    let m = Mosquitto {
        port,
        tls_port,
        mtls_port,
        ca_pem: std::fs::read(dir.join("ca.crt")).unwrap(),
        dir,
        watchdog,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for p in [port, tls_port, mtls_port] {
        while TcpStream::connect(("127.0.0.1", p)).is_err() {
            if std::time::Instant::now() > deadline {
                let log = std::fs::read_to_string(m.dir.join("mosquitto.log")).unwrap_or_default();
                panic!("mosquitto did not listen on {p} within 10 s; log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    m
}

/// The mosquitto of this test binary, started on first use. It is stopped when the test
/// binary exits (its watchdog sees stdin close).
pub fn mosquitto() -> &'static Mosquitto {
    static M: OnceLock<Mosquitto> = OnceLock::new();
    M.get_or_init(start_mosquitto)
}

/// A name unique in this run: `prefix-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn client_args(cmd: &mut tokio::process::Command, m: &Mosquitto) {
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &m.port.to_string(),
        "-u",
        USER,
        "-P",
        PASSWORD,
    ]);
}

/// `mosquitto_pub` with the exact bytes of `payload` (read from stdin with `-s`).
pub async fn mosquitto_pub(topic: &str, payload: &[u8], qos: u8, retain: bool) {
    mosquitto_pub_to(mosquitto(), topic, payload, qos, retain).await;
}

/// [`mosquitto_pub`] to a given broker.
pub async fn mosquitto_pub_to(m: &Mosquitto, topic: &str, payload: &[u8], qos: u8, retain: bool) {
    let mut cmd = tokio::process::Command::new("mosquitto_pub");
    client_args(&mut cmd, m);
    cmd.args(["-t", topic, "-q", &qos.to_string()]);
    // `-s` refuses empty input; `-n` sends a zero-length message (clears a retained one).
    cmd.arg(if payload.is_empty() { "-n" } else { "-s" });
    if retain {
        cmd.arg("-r");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mosquitto_pub");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(payload).await.unwrap();
    drop(stdin);
    let out = timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("mosquitto_pub hung")
        .unwrap();
    assert!(
        out.status.success(),
        "mosquitto_pub failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `mosquitto_sub` that is known to be subscribed: it also subscribes to a topic holding a
/// retained marker and is returned once the marker arrived.
pub struct MosquittoSub {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    marker: String,
    /// Messages that came before the marker.
    early: std::collections::VecDeque<(String, Vec<u8>)>,
}

impl MosquittoSub {
    pub async fn start(filter: &str) -> Self {
        let m = mosquitto();
        let marker = unique("e2e/ready");
        mosquitto_pub(&marker, b"ready", 1, true).await;
        let mut cmd = tokio::process::Command::new("mosquitto_sub");
        client_args(&mut cmd, m);
        cmd.args(["-t", &marker, "-t", filter, "-q", "1", "-F", "%t %x"]);
        let mut child = cmd
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn mosquitto_sub");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut sub = Self {
            child,
            lines,
            marker: marker.clone(),
            early: Default::default(),
        };
        loop {
            let (topic, payload) = sub
                .raw_next(Instant::now() + DEADLINE)
                .await
                .expect("mosquitto_sub: no retained marker");
            if topic == marker {
                assert_eq!(payload, b"ready");
                break;
            }
            sub.early.push_back((topic, payload));
        }
        mosquitto_pub(&marker, b"", 1, true).await; // clear the retained marker
        sub
    }

    /// The next message, or `None` if none came within `DEADLINE`.
    pub async fn next(&mut self) -> Option<(String, Vec<u8>)> {
        self.next_within(DEADLINE).await
    }

    pub async fn next_within(&mut self, d: Duration) -> Option<(String, Vec<u8>)> {
        if let Some(early) = self.early.pop_front() {
            return Some(early);
        }
        let deadline = Instant::now() + d;
        loop {
            let (topic, payload) = self.raw_next(deadline).await?;
            if topic != self.marker {
                return Some((topic, payload));
            }
        }
    }

    async fn raw_next(&mut self, deadline: Instant) -> Option<(String, Vec<u8>)> {
        let line = timeout_at(deadline, self.lines.next_line())
            .await
            .ok()?
            .ok()??;
        let (topic, hex) = line.rsplit_once(' ').unwrap_or((&line, ""));
        Some((topic.to_string(), unhex(hex)))
    }
}

impl Drop for MosquittoSub {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The simulated modem and a driver session on its pty, initialised, both speaking dialect `D`.
pub struct Dut<D: Dialect = Uc8088> {
    pub session: Session<D>,
    pub sim: SimHandle,
}

impl Dut {
    pub async fn start() -> Self {
        Self::start_in(Uc8088, modem_sim::Dialect::Uc8088).await
    }

    /// Configures the plain listener of mosquitto with the right password and connects.
    pub async fn connected(client_id: &str) -> Self {
        let mut dut = Self::start().await;
        let m = mosquitto();
        let config = Config::new("127.0.0.1", m.port, client_id).credentials(USER, PASSWORD);
        dut.connect_to(&config).await;
        dut
    }
}

impl<D: Dialect> Dut<D> {
    /// A simulator speaking `sim_dialect` and a session speaking `dialect` on its pty.
    pub async fn start_in(dialect: D, sim_dialect: modem_sim::Dialect) -> Self {
        let sim = Sim::start(SimOptions {
            dialect: sim_dialect,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let path = sim.device_path().to_string_lossy().into_owned();
        let mut session =
            Session::open_dialect(dialect, &path, 115_200, false, Options::default()).unwrap();
        timeout(DEADLINE, session.modem.init())
            .await
            .expect("init hung")
            .expect("init");
        Self { session, sim }
    }

    /// Configures `config` and connects.
    pub async fn connect_to(&mut self, config: &Config<'_>) {
        let modem = &mut self.session.modem;
        timeout(DEADLINE, modem.configure(config))
            .await
            .unwrap()
            .expect("configure");
        timeout(DEADLINE, modem.connect())
            .await
            .unwrap()
            .expect("connect");
    }

    pub async fn subscribe(&mut self, filter: &str, qos: Qos) {
        timeout(DEADLINE, self.session.modem.subscribe(filter, qos))
            .await
            .expect("subscribe hung")
            .expect("subscribe");
    }

    pub async fn publish(&mut self, topic: &str, payload: &[u8], qos: Qos, retain: bool) {
        timeout(
            DEADLINE,
            self.session.modem.publish(topic, payload, qos, retain),
        )
        .await
        .expect("publish hung")
        .expect("publish");
    }

    /// The next message through `events.next()` within `d`; other events are skipped.
    pub async fn message_within(&mut self, d: Duration) -> Option<(String, Vec<u8>)> {
        let deadline = Instant::now() + d;
        let mut buf = vec![0u8; mqtt_modem_cli::INGRESS];
        loop {
            match timeout_at(deadline, self.session.events.next(&mut buf)).await {
                Err(_) => return None,
                Ok(Event::Message(m)) => return Some((m.topic.to_string(), m.payload.to_vec())),
                Ok(Event::Dropped { count }) => panic!("{count} message(s) dropped by the driver"),
                Ok(Event::TooLargeForBuffer { len }) => panic!("{len}-byte message too large"),
                Ok(_) => {}
            }
        }
    }

    pub async fn message(&mut self) -> (String, Vec<u8>) {
        self.message_within(DEADLINE)
            .await
            .expect("no message through the driver within the deadline")
    }
}

/// Compares payloads, showing them escaped on failure.
#[track_caller]
pub fn assert_bytes(got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "payload differs:\n got  {} bytes: {}\n want {} bytes: {}",
        got.len(),
        got.escape_ascii(),
        want.len(),
        want.escape_ascii()
    );
}

/// JSON with quotes, commas and a backslash.
pub const JSON: &[u8] = br#"{"name":"dev \"1\"","path":"C:\\tmp","list":[1,2,3]}"#;
/// UTF-8 beyond ASCII.
pub const UTF8: &str = "température 21,5 °C — ✓ 漢字 🚀";

/// 1 KiB of printable ASCII including `"`, `,` and `\` (sendable in both directions).
pub fn kib_text() -> Vec<u8> {
    (0..1024u32).map(|i| b' ' + (i % 95) as u8).collect()
}

/// A supervisor policy for tests: quick polls and a short backoff.
pub fn fast_policy() -> mqtt_modem::Policy {
    mqtt_modem::Policy {
        poll_interval: Some(embassy_time::Duration::from_millis(300)),
        backoff_initial: embassy_time::Duration::from_millis(100),
        backoff_max: embassy_time::Duration::from_millis(800),
        ..mqtt_modem::Policy::default()
    }
}

/// A supervisor connected to a mosquitto of its own (`tls`: with the CA and client
/// certificate, on the listener that requires one; else with a password, in plain TCP) and
/// subscribed; mosquitto killed and restarted on the same ports with the same certificates:
/// the supervisor sees the loss, reconnects, re-subscribes, and a message published
/// afterwards arrives.
pub async fn supervisor_through_broker_restart<D: Dialect + Copy>(
    dialect: D,
    sim_dialect: modem_sim::Dialect,
    tls: bool,
) {
    use mqtt_modem::{LinkEvent, Supervisor, Tls};
    let (port, tls_port, mtls_port) = (free_port(), free_port(), free_port());
    let broker = start_mosquitto_with(port, tls_port, mtls_port, None);
    let saved = tempfile::tempdir().unwrap();
    for f in CERT_FILES {
        std::fs::copy(broker.dir.join(f), saved.path().join(f)).unwrap();
    }
    let (ca, cert, key) = (
        broker.pem("ca.crt"),
        broker.pem("client.crt"),
        broker.pem("client.key"),
    );
    let mut dut = Dut::start_in(dialect, sim_dialect).await;
    let id = unique("restart");
    let topic = unique("e2e/restart");
    let mut sup: Supervisor<'_> = if tls {
        Supervisor::new(Config::new("127.0.0.1", mtls_port, &id), fast_policy())
            .with_tls(Tls::root_ca(&ca).client_cert(&cert, &key))
    } else {
        let config = Config::new("127.0.0.1", port, &id).credentials(BARE_USER, BARE_PASSWORD);
        Supervisor::new(config, fast_policy())
    };
    let modem = &mut dut.session.modem;
    until(&mut sup, modem, |e| *e == LinkEvent::Connected, DEADLINE).await;
    sup.subscribe(modem, &topic, Qos::AtLeastOnce)
        .await
        .unwrap();

    drop(broker);
    until(
        &mut sup,
        modem,
        |e| matches!(e, LinkEvent::Disconnected(_)),
        DEADLINE,
    )
    .await;
    let broker = start_mosquitto_with(port, tls_port, mtls_port, Some(saved.path()));
    resubscribed_and_delivered(&mut sup, &mut dut, &broker, &topic, b"after restart").await;
}

/// With `broker` back after an outage: the supervisor reconnects and makes its one
/// subscription (`topic`) again, and `text`, published to `broker` on `topic` by
/// mosquitto_pub, reaches the application.
pub async fn resubscribed_and_delivered<D: Dialect>(
    sup: &mut mqtt_modem::Supervisor<'_>,
    dut: &mut Dut<D>,
    broker: &Mosquitto,
    topic: &str,
    text: &[u8],
) {
    let seen = until(
        sup,
        &mut dut.session.modem,
        |e| matches!(e, mqtt_modem::LinkEvent::Resubscribed { count: 1 }),
        Duration::from_secs(30),
    )
    .await;
    assert!(seen.contains(&mqtt_modem::LinkEvent::Connected), "{seen:?}");
    mosquitto_pub_to(broker, topic, text, 1, false).await;
    let (t, p) = dut.message().await;
    assert_eq!((t.as_str(), p.as_slice()), (topic, text));
}

/// Polls the supervisor until `want` (other link events are collected), within `limit`.
pub async fn until<
    W: embedded_io_async::Write,
    const R: usize,
    const E: usize,
    D: mqtt_modem::Dialect,
>(
    sup: &mut mqtt_modem::Supervisor<'_>,
    modem: &mut mqtt_modem::MqttModem<'_, W, D, R, E>,
    want: impl Fn(&mqtt_modem::LinkEvent) -> bool,
    limit: Duration,
) -> Vec<mqtt_modem::LinkEvent> {
    let end = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        while let Some(e) = sup.poll(modem).await {
            let done = want(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
        assert!(
            Instant::now() < end,
            "link event not seen in {limit:?}: {seen:?}"
        );
        let wait = sup
            .next_deadline()
            .saturating_duration_since(embassy_time::Instant::now());
        tokio::time::sleep(Duration::from_micros(wait.as_micros()).min(Duration::from_millis(50)))
            .await;
    }
}
