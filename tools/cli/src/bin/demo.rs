//! End-to-end demo: an in-process broker, the simulated modem on a pty, and the real driver
//! over tokio-serial, through a full MQTT session. Prints each step and the AT traffic.
//!
//! ```sh
//! cargo run --release -p mqtt-modem-cli --bin demo                    # embedded broker
//! cargo run --release -p mqtt-modem-cli --bin demo -- --broker HOST:PORT
//! cargo run --release -p mqtt-modem-cli --bin demo -- --dialect esp-at   # or quectel
//! ```

use std::collections::HashMap;
use std::fmt::Display;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use modem_sim::{Dir, Sim, SimOptions, Traffic};
use mqtt_modem::{Config, Dialect, EspAt, Event, Options, Qos, Quectel, Uc8088};
use mqtt_modem_cli::{DialectArg, Direction, Session, Trace};
use tokio::sync::broadcast;
use tokio::time::timeout;

/// Runs the mqtt-modem driver against a simulated modem (UC8088, ESP-AT or Quectel) and a
/// real MQTT broker.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Use this broker instead of starting one in-process.
    #[arg(long, value_name = "HOST:PORT")]
    broker: Option<String>,
    /// How long to wait for the published message to come back, in seconds.
    #[arg(long, default_value_t = 10)]
    wait: u64,
    /// The module's command set: the simulator speaks it, and so does the driver.
    #[arg(long, value_enum, default_value_t = DialectArg::Uc8088)]
    dialect: DialectArg,
}

/// Prints the simulator's serial traffic, one line per AT line, in the order it happened.
struct TrafficView {
    rx: broadcast::Receiver<Traffic>,
    trace: Trace,
}

impl TrafficView {
    /// Prints everything that arrives until the line has been idle for a moment.
    async fn show(&mut self) {
        loop {
            match timeout(Duration::from_millis(40), self.rx.recv()).await {
                Ok(Ok(t)) => {
                    let dir = match t.dir {
                        Dir::Rx => Direction::ToModem,
                        Dir::Tx => Direction::FromModem,
                    };
                    for line in self.trace.push(dir, &t.bytes) {
                        println!("    {line}");
                    }
                }
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                    println!("    ({n} traffic chunks not shown)");
                }
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => break,
            }
        }
        for rest in self.trace.flush() {
            println!("    {rest}");
        }
    }
}

/// Starts rumqttd (MQTT 3.1.1) on a free loopback port, in its own thread.
fn start_broker() -> Result<(String, u16), String> {
    use rumqttd::{Broker, ConnectionSettings, RouterConfig, ServerSettings};
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
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
    let config = rumqttd::Config {
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
        if let Err(e) = Broker::new(config).start() {
            eprintln!("rumqttd stopped: {e}");
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(listen).is_err() {
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "the embedded broker did not listen on {listen} within 5 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(("127.0.0.1".into(), port))
}

fn parse_broker(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("--broker {s:?}: expected HOST:PORT"))?;
    let port = port
        .parse()
        .map_err(|_| format!("--broker {s:?}: bad port {port:?}"))?;
    Ok((host.to_string(), port))
}

/// Numbers and announces steps; turns a failure into "step N (name): reason".
struct Steps {
    n: u32,
    view: TrafficView,
}

impl Steps {
    async fn run<T, E: Display>(
        &mut self,
        name: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        self.n += 1;
        println!("[{}] {name}", self.n);
        // The driver's own deadlines apply; this one only guards against a hang.
        let r = timeout(Duration::from_secs(30), fut).await;
        self.view.show().await;
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("step {} ({name}) failed: {e}", self.n)),
            Err(_) => Err(format!("step {} ({name}) hung for 30 s", self.n)),
        }
    }
}

async fn demo(args: Args) -> Result<(), String> {
    let (host, port) = match &args.broker {
        Some(b) => {
            let (host, port) = parse_broker(b)?;
            println!("broker: external, {host}:{port}");
            (host, port)
        }
        None => {
            let (host, port) = start_broker()?;
            println!("broker: rumqttd in-process on {host}:{port}");
            (host, port)
        }
    };
    let name = match args.dialect {
        DialectArg::Uc8088 => "UC8088",
        DialectArg::EspAt => "ESP-AT module",
        DialectArg::Quectel => "Quectel module",
    };
    let sim = Sim::start(SimOptions {
        dialect: args.dialect.sim(),
        ..SimOptions::default()
    })
    .await
    .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let device = sim.device_path().to_string_lossy().into_owned();
    println!("modem: simulated {name} on {device}");
    let view = TrafficView {
        rx: sim.traffic(),
        trace: Trace::new(),
    };
    let steps = Steps { n: 0, view };
    // The same application code for every dialect; only the type named here changes.
    match args.dialect {
        DialectArg::Uc8088 => session(Uc8088, &device, steps, &host, port, args.wait).await?,
        DialectArg::EspAt => session(EspAt, &device, steps, &host, port, args.wait).await?,
        DialectArg::Quectel => session(Quectel, &device, steps, &host, port, args.wait).await?,
    }
    drop(sim);
    Ok(())
}

/// One MQTT session through the driver, step by step.
async fn session<D: Dialect>(
    dialect: D,
    device: &str,
    mut steps: Steps,
    host: &str,
    port: u16,
    wait_s: u64,
) -> Result<(), String> {
    let mut session = Session::open_dialect(dialect, device, 115_200, false, Options::default())
        .map_err(|e| e.to_string())?;
    let Session { modem, events, .. } = &mut session;

    let id = format!("demo-{}", std::process::id());
    let topic = format!("mqtt-modem/demo/{}", std::process::id());
    let payload = format!(r#"{{"from":"{id}","msg":"hello, broker"}}"#);

    steps.run("init", modem.init()).await?;
    let who = steps.run("identify", modem.identify()).await?;
    println!(
        "    = manufacturer {}, model {}, revision {}",
        who.manufacturer, who.model, who.revision
    );
    let config = Config::new(host, port, &id)
        .keepalive(60)
        .clean_session(true);
    steps.run("configure", modem.configure(&config)).await?;
    steps.run("connect", modem.connect()).await?;
    steps
        .run("subscribe", modem.subscribe(&topic, Qos::AtLeastOnce))
        .await?;
    steps
        .run(
            "publish",
            modem.publish(&topic, payload.as_bytes(), Qos::AtLeastOnce, false),
        )
        .await?;

    let wait = Duration::from_secs(wait_s);
    let mut buf = vec![0u8; 8192];
    let received = steps
        .run("receive the message back", async {
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let ev = tokio::time::timeout_at(deadline, events.next(&mut buf))
                    .await
                    .map_err(|_| format!("no message on {topic} within {} s", wait.as_secs()))?;
                match ev {
                    Event::Message(m) if m.topic == topic => {
                        return Ok::<_, String>(m.payload.to_vec());
                    }
                    other => println!("    (event: {other:?})"),
                }
            }
        })
        .await?;
    if received != payload.as_bytes() {
        return Err(format!(
            "received {:?}, published {:?}",
            String::from_utf8_lossy(&received),
            payload
        ));
    }
    println!(
        "    = {topic}: {} (byte-exact)",
        String::from_utf8_lossy(&received)
    );
    let state = steps.run("state", modem.state()).await?;
    println!("    = {state:?}");
    steps.run("unsubscribe", modem.unsubscribe(&topic)).await?;
    steps.run("disconnect", modem.disconnect()).await?;
    let state = steps.run("state", modem.state()).await?;
    println!("    = {state:?}");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match demo(args).await {
        Ok(()) => {
            println!("demo: success");
            ExitCode::SUCCESS
        }
        Err(reason) => {
            println!("demo: FAILED: {reason}");
            eprintln!("demo failed: {reason}");
            ExitCode::FAILURE
        }
    }
}
