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
                Ok(_) => continue,
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
        while let Ok(Ok(k)) = timeout_at(deadline, self.port.read(&mut tmp)).await {
            self.buf.extend_from_slice(&tmp[..k]);
        }
        std::mem::take(&mut self.buf)
    }
}

/// Start a simulator and open its device; echo is turned off so replies are just responses.
pub async fn sim_quiet() -> (SimHandle, Host) {
    let sim = Sim::start(SimOptions::default()).await.unwrap();
    let mut host = Host::open(&sim);
    host.transact(b"ATE0\r", b"ATE0\r\r\nOK\r\n").await;
    (sim, host)
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

/// An outside MQTT client on the broker at `port`, with its event loop running.
pub async fn outside_client(
    port: u16,
    id: &str,
) -> (
    rumqttc::AsyncClient,
    tokio::sync::mpsc::UnboundedReceiver<rumqttc::Publish>,
) {
    let mut opts = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = rumqttc::AsyncClient::new(opts, 16);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
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
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    tokio::time::timeout(DEADLINE, ready_rx)
        .await
        .expect("outside client connects")
        .unwrap();
    (client, rx)
}

/// `AT+MQTTCONFIG=...` for a local broker, quoted strings as the driver sends them.
pub fn config_line(port: u16, id: &str) -> Vec<u8> {
    format!("AT+MQTTCONFIG=\"127.0.0.1\",{port},\"{id}\",1,60,\"\",\"\"\r").into_bytes()
}
