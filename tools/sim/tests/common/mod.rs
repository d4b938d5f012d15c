//! Shared helpers of the integration tests: a host that talks to the pty, and brokers.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use modem_sim::{Sim, SimHandle, SimOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Default deadline for one expected reply.
pub const DEADLINE: Duration = Duration::from_secs(8);

/// The host side of the serial link: raw bytes in, raw bytes out.
pub struct Host {
    port: SerialStream,
    buf: Vec<u8>,
}

impl Host {
    /// Open the simulator's device like a driver would.
    pub fn open(sim: &SimHandle) -> Host {
        let path = sim.device_path().to_string_lossy().into_owned();
        let port = tokio_serial::new(path, 115_200)
            .open_native_async()
            .expect("open pty");
        Host {
            port,
            buf: Vec::new(),
        }
    }

    /// Write raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.port.write_all(bytes).await.unwrap();
    }

    async fn fill(&mut self, n: usize, deadline: Instant) {
        let mut tmp = [0u8; 4096];
        while self.buf.len() < n {
            match timeout_at(deadline, self.port.read(&mut tmp)).await {
                Ok(Ok(k)) if k > 0 => self.buf.extend_from_slice(&tmp[..k]),
                // End of file or an error is ready at once, and would be forever: never spin.
                Ok(end) => panic!(
                    "the device closed ({end:?}): wanted {n} bytes, have {:?}",
                    self.buf.escape_ascii().to_string()
                ),
                Err(_) => panic!(
                    "timed out: wanted {n} bytes, have {:?}",
                    self.buf.escape_ascii().to_string()
                ),
            }
        }
    }

    /// Read exactly `want.len()` bytes and assert they equal `want`.
    pub async fn expect(&mut self, want: &[u8]) {
        self.fill(want.len(), Instant::now() + DEADLINE).await;
        let got: Vec<u8> = self.buf.drain(..want.len()).collect();
        assert_eq!(
            got.escape_ascii().to_string(),
            want.escape_ascii().to_string()
        );
    }

    /// Send a line and expect exactly `reply` back.
    pub async fn transact(&mut self, line: &[u8], reply: &[u8]) {
        self.send(line).await;
        self.expect(reply).await;
    }

    /// Read whatever arrives within `d` (for asserting that nothing arrives).
    pub async fn drain_for(&mut self, d: Duration) -> Vec<u8> {
        let deadline = Instant::now() + d;
        let mut tmp = [0u8; 4096];
        while let Ok(Ok(k @ 1..)) = timeout_at(deadline, self.port.read(&mut tmp)).await {
            self.buf.extend_from_slice(&tmp[..k]);
        }
        std::mem::take(&mut self.buf)
    }
}

/// Start a simulator with `opts` and open its device (echo still on, as after power-on).
pub async fn sim_open(opts: SimOptions) -> (SimHandle, Host) {
    let sim = Sim::start(opts).await.unwrap();
    let host = Host::open(&sim);
    (sim, host)
}

/// Start a simulator and open its device; echo is turned off so replies are just responses.
pub async fn sim_quiet() -> (SimHandle, Host) {
    sim_dialect(modem_sim::Dialect::Uc8088, SimOptions::default()).await
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start an in-process rumqttd (MQTT 3.1.1) on 127.0.0.1 and return its port.
///
/// rumqttd never sends a refusing CONNACK (it just closes) and refuses keepalive 0.
pub fn start_rumqttd() -> u16 {
    use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
    let port = free_port();
    let listen: SocketAddr = ([127, 0, 0, 1], port).into();
    let server = ServerSettings {
        name: "v4".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            max_payload_size: 1 << 20,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 100,
            max_outgoing_packet_count: 200,
            max_segment_size: 1 << 20,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([("v4".to_string(), server)])),
        ..Default::default()
    };
    std::thread::spawn(move || {
        let _ = Broker::new(config).start();
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(listen).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "rumqttd did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    port
}

/// A fake broker that reads the CONNECT and answers a CONNACK with `code` (or never answers
/// with `None`). After a CONNACK 0 it reads packets and answers every SUBSCRIBE with a
/// refusing SUBACK (0x80) and never acknowledges a PUBLISH. Returns its port.
pub async fn fake_broker(code: Option<u8>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                // The simulator's reachability probe closes without sending anything.
                let Some((0x10, _)) = read_packet(&mut s).await else {
                    return;
                };
                let Some(code) = code else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                };
                let _ = s.write_all(&[0x20, 0x02, 0x00, code]).await;
                while let Some((header, body)) = read_packet(&mut s).await {
                    if header == 0x82 && body.len() >= 2 {
                        let _ = s.write_all(&[0x90, 0x03, body[0], body[1], 0x80]).await;
                    } else if header == 0xc0 {
                        let _ = s.write_all(&[0xd0, 0x00]).await; // PINGRESP
                    }
                }
            });
        }
    });
    port
}

/// Read one MQTT packet: fixed header byte and body.
async fn read_packet(s: &mut tokio::net::TcpStream) -> Option<(u8, Vec<u8>)> {
    let header = s.read_u8().await.ok()?;
    let mut len = 0usize;
    for shift in 0..4 {
        let b = s.read_u8().await.ok()?;
        len |= usize::from(b & 0x7f) << (7 * shift);
        if b & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0; len];
    s.read_exact(&mut body).await.ok()?;
    Some((header, body))
}

/// An outside MQTT client and the messages it receives.
pub type Outside = (
    rumqttc::AsyncClient,
    tokio::sync::mpsc::UnboundedReceiver<rumqttc::Publish>,
);

/// An outside MQTT client on the broker at `port`, with its event loop running.
pub async fn outside_client(port: u16, id: &str) -> Outside {
    let (outside, _subacks) = outside_with_subacks(port, id).await;
    outside
}

/// An [`outside_client`] subscribed to `filter` at QoS 1: it returns once the broker has
/// granted the subscription (its SUBACK), so that whatever is published next reaches it.
pub async fn outside_subscriber(port: u16, id: &str, filter: &str) -> Outside {
    let ((client, inbox), mut subacks) = outside_with_subacks(port, id).await;
    client
        .subscribe(filter, rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    let ack = tokio::time::timeout(DEADLINE, subacks.recv())
        .await
        .expect("the broker answers the SUBSCRIBE")
        .unwrap();
    assert!(
        matches!(
            ack.return_codes[..],
            [rumqttc::SubscribeReasonCode::Success(_)]
        ),
        "{filter} refused: {ack:?}"
    );
    (client, inbox)
}

/// An outside client, and the SUBACKs its event loop sees.
async fn outside_with_subacks(
    port: u16,
    id: &str,
) -> (
    Outside,
    tokio::sync::mpsc::UnboundedReceiver<rumqttc::SubAck>,
) {
    let mut opts = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = rumqttc::AsyncClient::new(opts, 16);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (subacks_tx, subacks_rx) = tokio::sync::mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready = Some(ready_tx);
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Incoming::ConnAck(_))) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Incoming::Publish(p))) => {
                    let _ = tx.send(p);
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Incoming::SubAck(a))) => {
                    let _ = subacks_tx.send(a);
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    tokio::time::timeout(DEADLINE, ready_rx)
        .await
        .expect("outside client connects")
        .unwrap();
    ((client, rx), subacks_rx)
}

/// `AT+MQTTCONFIG=...` for a local broker, quoted strings as the driver sends them.
pub fn config_line(port: u16, id: &str) -> Vec<u8> {
    format!("AT+MQTTCONFIG=\"127.0.0.1\",{port},\"{id}\",1,60,\"\",\"\"\r").into_bytes()
}

/// Start a simulator speaking `dialect` (with `opts` otherwise) and open its device; echo is
/// turned off so replies are just responses.
pub async fn sim_dialect(dialect: modem_sim::Dialect, opts: SimOptions) -> (SimHandle, Host) {
    let (sim, mut host) = sim_open(SimOptions { dialect, ..opts }).await;
    match dialect {
        modem_sim::Dialect::EspAt => host.transact(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n").await,
        _ => host.transact(b"ATE0\r", b"ATE0\r\r\nOK\r\n").await,
    }
    (sim, host)
}

/// A TCP proxy on 127.0.0.1 in front of a broker; [`Proxy::cut`] makes the broker "go away":
/// every proxied connection is closed and no new one is accepted.
pub struct Proxy {
    /// The port clients connect to.
    pub port: u16,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    /// Close every connection and stop listening.
    pub fn cut(&self) {
        let _ = self.stop.send(true);
    }
}

/// Start a [`Proxy`] to `127.0.0.1:target`.
pub async fn proxy(target: u16) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let mut accept_rx = rx.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = accept_rx.changed() => return, // drops the listener
                accepted = listener.accept() => {
                    let Ok((mut inbound, _)) = accepted else { return };
                    let mut rx = rx.clone();
                    tokio::spawn(async move {
                        let Ok(mut outbound) =
                            tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                        else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = rx.changed() => {}
                        }
                    });
                }
            }
        }
    });
    Proxy { port, stop }
}

/// A fake broker that accepts every CONNECT with CONNACK 0, hands the CONNECT packet's body
/// to the returned receiver, then answers PINGREQ and otherwise listens.
pub async fn capture_broker() -> (u16, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let Some((0x10, body)) = read_packet(&mut s).await else {
                    return; // the reachability probe
                };
                let _ = tx.send(body);
                let _ = s.write_all(&[0x20, 0x02, 0x00, 0x00]).await;
                while let Some((header, _)) = read_packet(&mut s).await {
                    if header == 0xc0 {
                        let _ = s.write_all(&[0xd0, 0x00]).await;
                    }
                }
            });
        }
    });
    (port, rx)
}

/// The fields of an MQTT 3.1.1 CONNECT packet's body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Connect {
    /// Clean-session flag.
    pub clean: bool,
    /// Keepalive in seconds.
    pub keepalive: u16,
    /// Client identifier.
    pub client_id: Vec<u8>,
    /// Will topic, message, QoS and retain flag.
    pub will: Option<(Vec<u8>, Vec<u8>, u8, bool)>,
    /// User name.
    pub user: Option<Vec<u8>>,
    /// Password.
    pub password: Option<Vec<u8>>,
}

/// Decode a CONNECT body as captured by [`capture_broker`].
pub fn parse_connect(body: &[u8]) -> Connect {
    fn field(b: &[u8], at: &mut usize) -> Vec<u8> {
        let n = usize::from(u16::from_be_bytes([b[*at], b[*at + 1]]));
        let v = b[*at + 2..*at + 2 + n].to_vec();
        *at += 2 + n;
        v
    }
    assert_eq!(&body[..7], b"\x00\x04MQTT\x04", "MQTT 3.1.1");
    let flags = body[7];
    let keepalive = u16::from_be_bytes([body[8], body[9]]);
    let mut at = 10;
    let client_id = field(body, &mut at);
    let will = (flags & 0x04 != 0).then(|| {
        let topic = field(body, &mut at);
        let msg = field(body, &mut at);
        (topic, msg, (flags >> 3) & 3, flags & 0x20 != 0)
    });
    let user = (flags & 0x80 != 0).then(|| field(body, &mut at));
    let password = (flags & 0x40 != 0).then(|| field(body, &mut at));
    Connect {
        clean: flags & 0x02 != 0,
        keepalive,
        client_id,
        will,
        user,
        password,
    }
}

/// The next CONNECT body a [`capture_broker`] received, within [`DEADLINE`], decoded.
pub async fn next_connect(connects: &mut tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) -> Connect {
    let body = tokio::time::timeout(DEADLINE, connects.recv())
        .await
        .expect("a CONNECT reaches the broker")
        .unwrap();
    parse_connect(&body)
}

/// The next message an outside subscriber received, within [`DEADLINE`].
pub async fn next_message(
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<rumqttc::Publish>,
) -> rumqttc::Publish {
    tokio::time::timeout(DEADLINE, inbox.recv())
        .await
        .expect("message reaches the outside subscriber")
        .unwrap()
}

/// A payload holding every byte that must never end a line or a parameter early.
pub const AWKWARD: &[u8] = b"a\r\nb\"c\0,d\\\x1a";

/// The next message an outside subscriber receives is `payload` on `topic`.
pub async fn expect_message(
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<rumqttc::Publish>,
    topic: &str,
    payload: &[u8],
) {
    let p = next_message(inbox).await;
    assert_eq!((p.topic.as_str(), &p.payload[..]), (topic, payload));
}

/// Silence swallows `line` and an emitted message alike; the simulator speaks again after.
pub async fn assert_silence_swallows(sim: &SimHandle, host: &mut Host, line: &[u8]) {
    sim.set_silent(true);
    host.send(line).await;
    sim.emit_message("t", b"x");
    assert!(host.drain_for(Duration::from_millis(300)).await.is_empty());
    sim.set_silent(false);
}

/// 300 ms of latency delay the answer `reply` to `line`; latency is off again after.
pub async fn assert_latency_delays(sim: &SimHandle, host: &mut Host, line: &[u8], reply: &[u8]) {
    sim.set_latency(Duration::from_millis(300));
    let t0 = Instant::now();
    host.transact(line, reply).await;
    assert!(t0.elapsed() >= Duration::from_millis(300));
    sim.set_latency(Duration::ZERO);
}

/// Baud pacing applies to prompted data too: at 9600 baud, after `prompt` is answered with
/// its prompt, 200 bytes of data take ~208 ms to bring `reply`. Pacing is off again after.
pub async fn assert_prompted_data_paced(
    sim: &SimHandle,
    host: &mut Host,
    prompt: (&[u8], &[u8]),
    reply: &[u8],
) {
    sim.set_baud(Some(9600));
    host.transact(prompt.0, prompt.1).await;
    let t0 = Instant::now();
    host.transact(&[b'p'; 200], reply).await;
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(200), "too fast: {took:?}");
    sim.set_baud(None);
}

/// Full noise corrupts the answer to `line`: something comes, and not the `clean` answer.
pub async fn assert_noise_corrupts(sim: &SimHandle, host: &mut Host, line: &[u8], clean: &[u8]) {
    sim.set_noise(1.0, 3);
    host.send(line).await;
    let got = host.drain_for(Duration::from_millis(300)).await;
    assert!(!got.is_empty() && got != clean, "{got:?}");
}

/// An outside client publishes `payload` on `topic` with `qos`, not retained.
pub async fn publish_from(
    outside: &rumqttc::AsyncClient,
    topic: &str,
    qos: rumqttc::QoS,
    payload: &[u8],
) {
    outside
        .publish(topic, qos, false, payload.to_vec())
        .await
        .unwrap();
}

/// A message that arrives while a prompted command collects its data waits: once `prompt` is
/// answered with its prompt, an outside client publishes "mid" on "down" and nothing comes,
/// until the data "xyz" brings `reply` (the command's result, then the message).
pub async fn assert_message_waits_for_data(
    host: &mut Host,
    outside: &rumqttc::AsyncClient,
    prompt: (&[u8], &[u8]),
    reply: &[u8],
) {
    host.transact(prompt.0, prompt.1).await;
    publish_from(outside, "down", rumqttc::QoS::AtMostOnce, b"mid").await;
    assert!(host.drain_for(Duration::from_millis(300)).await.is_empty());
    host.transact(b"xyz", reply).await;
}
