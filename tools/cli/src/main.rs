//! `mqtt-modem-cli`: bring-up tool for a UC8088-style modem on a serial port, built on the
//! `mqtt-modem` driver. Each invocation syncs the modem (`init`) and runs one command; the
//! modem keeps its MQTT configuration, connection and subscriptions between invocations.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use mqtt_modem::{
    Config, ConnectionState, Dialect, EspAt, Event, Qos, Quectel, Quoting, Tls, Uc8088,
};
use mqtt_modem_cli::{DialectArg, Modem, Session};
use tokio::time::{Instant, timeout, timeout_at};

/// Bring-up tool for MQTT over a modem's AT+MQTT* commands.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// Serial device of the modem (e.g. /dev/ttyUSB0).
    #[arg(long, value_name = "PATH")]
    port: String,
    /// Baud rate.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Upper bound for each driver call, in milliseconds (the driver's own per-command
    /// deadlines apply within it).
    #[arg(long, value_name = "N", default_value_t = 15_000)]
    timeout_ms: u64,
    /// Show the AT traffic in both directions on stderr.
    #[arg(short, long)]
    verbose: bool,
    /// The module's MQTT command set.
    #[arg(long, value_enum, default_value_t = DialectArg::Uc8088)]
    dialect: DialectArg,
    #[command(subcommand)]
    command: Command,
}

/// The broker and session settings of `config` (and of `connect --host …`).
#[derive(Args, Debug)]
struct Broker {
    /// Broker host name or IP address.
    #[arg(long, requires_all = ["port", "client_id"])]
    host: Option<String>,
    /// Broker port.
    #[arg(long, requires = "host")]
    port: Option<u16>,
    /// MQTT client identifier.
    #[arg(long, requires = "host")]
    client_id: Option<String>,
    /// Keepalive interval in seconds.
    #[arg(long, default_value_t = 60)]
    keepalive: u16,
    /// Resume the previous session (clean session off).
    #[arg(long)]
    resume: bool,
    /// User name.
    #[arg(long, value_name = "U")]
    user: Option<String>,
    /// Password.
    #[arg(long, value_name = "P")]
    password: Option<String>,
    /// Send the strings bare, as in the manual's examples (refuses `,` and `"`).
    #[arg(long)]
    unquoted: bool,
}

/// The TLS settings of `tls` (and of `connect`).
#[derive(Args, Debug)]
struct TlsArgs {
    /// Root CA certificate that verifies the broker (without it, the broker is not verified).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Client certificate shown to the broker.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The client certificate's private key.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Server name sent in the handshake (SNI), where the module can.
    #[arg(long, value_name = "NAME")]
    sni: Option<String>,
    /// An ALPN protocol to offer (repeat for more), where the module can.
    #[arg(long, value_name = "PROTOCOL")]
    alpn: Vec<String>,
    /// Write the credentials even when the module stores them already.
    #[arg(long)]
    upload_always: bool,
}

impl TlsArgs {
    fn any(&self) -> bool {
        self.ca.is_some()
            || self.client_cert.is_some()
            || self.sni.is_some()
            || !self.alpn.is_empty()
    }
}

/// Sets TLS up as `args` say.
async fn set_tls<D: Dialect>(
    limit: Duration,
    modem: &mut Modem<D>,
    args: &TlsArgs,
) -> Result<(), String> {
    let read = |p: &Option<PathBuf>| p.as_ref().map(read_pem).transpose();
    let (ca, cert, key) = (
        read(&args.ca)?,
        read(&args.client_cert)?,
        read(&args.client_key)?,
    );
    let alpn: Vec<&str> = args.alpn.iter().map(String::as_str).collect();
    let mut tls = match &ca {
        Some(ca) => Tls::root_ca(ca),
        None => {
            eprintln!("mqtt-modem-cli: warning: no --ca: the broker's certificate is not verified");
            Tls::unverified()
        }
    }
    .alpn(&alpn);
    if let (Some(cert), Some(key)) = (&cert, &key) {
        tls = tls.client_cert(cert, key);
    }
    if let Some(name) = &args.sni {
        tls = tls.server_name(name);
    }
    if args.upload_always {
        tls = tls.upload_always();
    }
    call(limit, "tls", modem.set_tls(tls)).await
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sync with the modem and print manufacturer, model and revision.
    Probe,
    /// Set TLS up: upload the credentials (PEM files) the module does not store yet, and choose
    /// what it verifies and sends; or switch TLS off. ESP-AT takes the choice with the
    /// connection settings, so give the same options to `connect --host … ` there.
    Tls {
        #[command(flatten)]
        tls: TlsArgs,
        /// Plain TCP.
        #[arg(long, conflicts_with_all = ["ca", "client_cert", "client_key", "sni", "alpn", "upload_always"])]
        off: bool,
    },
    /// Store the broker address and credentials (AT+MQTTCONFIG on the UC8088; on ESP-AT and
    /// Quectel part of the settings stay in the driver, so give them to `connect` instead).
    #[command(group(ArgGroup::new("to").required(true).args(["host"])))]
    Config {
        #[command(flatten)]
        broker: Broker,
    },
    /// Connect to the configured broker; with `--host` (and the other `config` options),
    /// configure first, in the same run: ESP-AT and Quectel keep the host in the driver, which
    /// lives only as long as one run of this tool.
    Connect {
        /// Then print the messages that arrive within this many seconds, as `sub` does (a
        /// resumed session's queued messages come right after the connect).
        #[arg(long, value_name = "S")]
        wait: Option<u64>,
        #[command(flatten)]
        broker: Broker,
        /// Set TLS up first (as `tls` does) with these options; `--tls` alone: TLS without
        /// verifying the broker.
        #[command(flatten)]
        tls: TlsArgs,
        /// TLS on (implied by any TLS option).
        #[arg(long = "tls")]
        tls_on: bool,
    },
    /// Disconnect from the broker.
    Disconnect,
    /// Print `connected` or `disconnected`.
    State,
    /// Publish MESSAGE on TOPIC.
    Pub {
        topic: String,
        message: String,
        /// Quality of service (0, 1 or 2).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
        qos: u8,
        /// Ask the broker to retain the message.
        #[arg(long)]
        retain: bool,
    },
    /// Subscribe to TOPIC and print each message as `TOPIC<TAB>PAYLOAD`. The subscription
    /// stays on the modem after exit (see `unsub`).
    Sub {
        topic: String,
        /// Quality of service (0, 1 or 2).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
        qos: u8,
        /// Exit after this many messages (fails if `--wait` ends first).
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Exit after this many seconds.
        #[arg(long, value_name = "S")]
        wait: Option<u64>,
    },
    /// Unsubscribe from TOPIC.
    Unsub { topic: String },
    /// Print the modem's current settings.
    Show {
        what: ShowWhat,
        /// Print the password in clear.
        #[arg(long)]
        show_secrets: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ShowWhat {
    /// The stored broker configuration.
    Config,
    /// The current subscriptions.
    Subs,
    /// Whether TLS is on.
    Tls,
}

fn qos(n: u8) -> Qos {
    Qos::from_wire(u32::from(n)).unwrap_or_default()
}

/// Runs a driver call under the `--timeout-ms` bound; errors become "what: reason".
async fn call<T, E: std::fmt::Display>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what} failed: {e}")),
        Err(_) => Err(format!(
            "{what} failed: no result within {} ms",
            limit.as_millis()
        )),
    }
}

/// Prints each incoming message as `TOPIC<TAB>PAYLOAD` until `count` messages arrived or
/// `wait` seconds passed (forever with neither); losses are warned about on stderr, and a lost
/// link or a restart ends it with an error.
async fn print_messages(
    events: &mut mqtt_modem::Events<'static, { mqtt_modem_cli::EVENTS }>,
    count: Option<u64>,
    wait: Option<u64>,
    say: &mut impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let deadline = wait.map(|s| Instant::now() + Duration::from_secs(s));
    let mut buf = vec![0u8; mqtt_modem_cli::INGRESS];
    let mut got = 0u64;
    while count.is_none_or(|n| got < n) {
        let ev = match deadline {
            Some(d) => match timeout_at(d, events.next(&mut buf)).await {
                Ok(ev) => ev,
                Err(_) if count.is_some() => {
                    return Err(format!(
                        "{got} of {} messages within {} s",
                        count.unwrap_or_default(),
                        wait.unwrap_or_default()
                    ));
                }
                Err(_) => break,
            },
            None => events.next(&mut buf).await,
        };
        match ev {
            Event::Message(m) => {
                let mut line = Vec::with_capacity(m.topic.len() + m.payload.len() + 1);
                line.extend_from_slice(m.topic.as_bytes());
                line.push(b'\t');
                line.extend_from_slice(m.payload);
                say(&line)?;
                got += 1;
            }
            Event::Dropped { count } => {
                eprintln!("warning: {count} message(s) lost (queue full or line noise)");
            }
            Event::TooLargeForBuffer { len } => {
                eprintln!("warning: a {len}-byte message did not fit and was skipped");
            }
            Event::Disconnected | Event::StateChanged(ConnectionState::Disconnected) => {
                return Err("the modem lost the broker connection".into());
            }
            Event::Restarted => return Err("the modem restarted".into()),
            // A connected state, an unrecognised line, or a kind of event this CLI
            // does not know yet: nothing to print.
            _ => {}
        }
    }
    Ok(())
}

/// `configure` with the `config` options.
async fn configure<D: Dialect>(
    limit: Duration,
    modem: &mut Modem<D>,
    b: &Broker,
) -> Result<(), String> {
    // clap makes `config` require `--host`, and `--host` the port and client id.
    let (Some(host), Some(port), Some(id)) = (&b.host, b.port, &b.client_id) else {
        return Err("config: --host, --port and --client-id are needed".into());
    };
    let config = Config::new(host, port, id)
        .keepalive(b.keepalive)
        .clean_session(!b.resume)
        .credentials(
            b.user.as_deref().unwrap_or(""),
            b.password.as_deref().unwrap_or(""),
        )
        .quoting(if b.unquoted {
            Quoting::Unquoted
        } else {
            Quoting::Quoted
        });
    call(limit, "config", modem.configure(&config)).await
}

fn read_pem(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The `show` queries, which only the UC8088's command set answers.
trait Queries: Dialect {
    async fn show(
        _modem: &mut mqtt_modem_cli::Modem<Self>,
        _limit: Duration,
        _what: ShowWhat,
        _show_secrets: bool,
        _say: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        Err("show: only the UC8088 dialect can read back its settings".into())
    }
}

impl Queries for Uc8088 {
    async fn show(
        modem: &mut mqtt_modem_cli::Modem<Self>,
        limit: Duration,
        what: ShowWhat,
        show_secrets: bool,
        say: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        match what {
            ShowWhat::Config => {
                let c = call(limit, "read config", modem.config()).await?;
                let password = if c.password.is_empty() {
                    ""
                } else if show_secrets {
                    c.password.as_str()
                } else {
                    "<redacted>"
                };
                say(format!("host: {}", c.host).as_bytes())?;
                say(format!("port: {}", c.port).as_bytes())?;
                say(format!("client-id: {}", c.client_id).as_bytes())?;
                say(format!("clean-session: {}", c.clean_session).as_bytes())?;
                say(format!("keepalive: {}", c.keepalive_s).as_bytes())?;
                say(format!("user: {}", c.username).as_bytes())?;
                say(format!("password: {password}").as_bytes())?;
            }
            ShowWhat::Subs => {
                let subs = call(
                    limit,
                    "read subscriptions",
                    modem.subscriptions::<32, 256>(),
                )
                .await?;
                for s in subs {
                    say(format!("{}\tqos {}", s.filter, s.qos as u8).as_bytes())?;
                }
            }
            ShowWhat::Tls => {
                let on = call(limit, "read tls", modem.tls()).await?;
                say(if on { b"on" } else { b"off" })?;
            }
        }
        Ok(())
    }
}

/// ESP-AT and Quectel: no query of the stored settings in this command set.
impl Queries for EspAt {}
impl Queries for Quectel {}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.dialect {
        DialectArg::Uc8088 => run_with(Uc8088, cli).await,
        DialectArg::EspAt => run_with(EspAt, cli).await,
        DialectArg::Quectel => run_with(Quectel, cli).await,
    }
}

async fn run_with<D: Queries>(dialect: D, cli: Cli) -> Result<(), String> {
    let limit = Duration::from_millis(cli.timeout_ms);
    let mut session = Session::open_dialect(
        dialect,
        &cli.port,
        cli.baud,
        cli.verbose,
        mqtt_modem::Options::default(),
    )
    .map_err(|e| e.to_string())?;
    let Session { modem, events, .. } = &mut session;
    call(limit, "sync with the modem", modem.init()).await?;
    let mut out = std::io::stdout().lock();
    let mut say = |line: &[u8]| -> Result<(), String> {
        out.write_all(line)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))
    };
    match cli.command {
        Command::Probe => {
            let id = call(limit, "identify", modem.identify()).await?;
            say(format!("manufacturer: {}", id.manufacturer).as_bytes())?;
            say(format!("model: {}", id.model).as_bytes())?;
            say(format!("revision: {}", id.revision).as_bytes())?;
        }
        Command::Tls { tls, off } => {
            if off {
                call(limit, "tls off", modem.set_tls(Tls::off())).await?;
            } else {
                set_tls(limit, modem, &tls).await?;
            }
        }
        Command::Config { broker } => configure(limit, modem, &broker).await?,
        Command::Connect {
            wait,
            broker,
            tls,
            tls_on,
        } => {
            if tls_on || tls.any() {
                set_tls(limit, modem, &tls).await?;
            }
            if broker.host.is_some() {
                configure(limit, modem, &broker).await?;
            }
            call(limit, "connect", modem.connect()).await?;
            if wait.is_some() {
                print_messages(events, None, wait, &mut say)
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
            }
        }
        Command::Disconnect => call(limit, "disconnect", modem.disconnect()).await?,
        Command::State => {
            let state = call(limit, "state", modem.state()).await?;
            say(state.to_string().as_bytes())?;
        }
        Command::Pub {
            topic,
            message,
            qos: q,
            retain,
        } => {
            let fut = modem.publish(&topic, message.as_bytes(), qos(q), retain);
            call(limit, "publish", fut).await?;
        }
        Command::Sub {
            topic,
            qos: q,
            count,
            wait,
        } => {
            call(limit, "subscribe", modem.subscribe(&topic, qos(q))).await?;
            print_messages(events, count, wait, &mut say)
                .await
                .map_err(|e| format!("sub: {e}"))?;
        }
        Command::Unsub { topic } => call(limit, "unsubscribe", modem.unsubscribe(&topic)).await?,
        Command::Show { what, show_secrets } => {
            D::show(modem, limit, what, show_secrets, &mut say).await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("mqtt-modem-cli: {reason}");
            ExitCode::FAILURE
        }
    }
}
