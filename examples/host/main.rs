//! A host program on a serial port, as a Linux gateway or a test bench would run the driver:
//! the supervisor brings the modem up and keeps the link, `demo/<id>/cmd` is subscribed (and
//! made again on every reconnect), a counter is published on `demo/<id>/tele` every second
//! while the link is up, and every incoming message and link event is printed.
//!
//! ```sh
//! cargo run --example host -- --serial /tmp/modem --broker 127.0.0.1:1883
//! ```
//!
//! Options: `--serial <path>` (default `/tmp/modem`), `--dialect uc8088|esp-at|quectel`,
//! `--broker <host>:<port>` (as the modem reaches it), `--user`, `--password`, `--id <client id>`,
//! `--baud <rate>`. It runs until interrupted.

use std::error::Error;

use embassy_futures::select::{Either, select};
use embassy_time::{Duration, Instant, Timer};
use embedded_io_adapters::tokio_1::FromTokio;
use mqtt_modem::{
    Config, Dialect, EspAt, Event, MqttModem, Options, Policy, Qos, Quectel, Resources, Supervisor,
    Uc8088,
};
use tokio_serial::SerialPortBuilderExt;

/// The command line.
struct Args {
    serial: String,
    dialect: String,
    host: String,
    port: u16,
    user: Option<String>,
    password: String,
    id: String,
    baud: u32,
}

fn args() -> Result<Args, Box<dyn Error>> {
    let mut a = Args {
        serial: "/tmp/modem".into(),
        dialect: "uc8088".into(),
        host: "127.0.0.1".into(),
        port: 1883,
        user: None,
        password: String::new(),
        id: format!("host-{}", std::process::id()),
        baud: 115_200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--serial" => a.serial = value()?,
            "--dialect" => a.dialect = value()?,
            "--broker" => {
                let v = value()?;
                let (host, port) = v.rsplit_once(':').ok_or("--broker is <host>:<port>")?;
                (a.host, a.port) = (host.into(), port.parse()?);
            }
            "--user" => a.user = Some(value()?),
            "--password" => a.password = value()?,
            "--id" => a.id = value()?,
            "--baud" => a.baud = value()?.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = args()?;
    match args.dialect.as_str() {
        "uc8088" => run(Uc8088, &args).await,
        "esp-at" => run(EspAt, &args).await,
        "quectel" => run(Quectel, &args).await,
        other => Err(format!("unknown dialect {other} (uc8088, esp-at, quectel)").into()),
    }
}

async fn run<D: Dialect>(dialect: D, args: &Args) -> Result<(), Box<dyn Error>> {
    // The serial port, split into the runner's receive half and the client's transmit half.
    // The simulator may still be making its pty: try for a few seconds.
    let mut tries = 0;
    let serial = loop {
        match tokio_serial::new(&args.serial, args.baud).open_native_async() {
            Ok(serial) => break serial,
            Err(_) if tries < 50 => tries += 1,
            Err(e) => return Err(format!("cannot open {}: {e}", args.serial).into()),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let (rx, tx) = tokio::io::split(serial);
    // The driver's buffers live as long as the program (a `static` on a microcontroller).
    let resources: &'static mut Resources = Box::leak(Box::new(Resources::new()));
    let (mut modem, runner, mut events) = MqttModem::with_dialect(
        dialect,
        resources,
        FromTokio::new(rx),
        FromTokio::new(tx),
        Options::default(),
    );
    tokio::spawn(async move { runner.run().await });

    let mut config = Config::new(&args.host, args.port, &args.id).keepalive(30);
    if let Some(user) = &args.user {
        config = config.credentials(user, &args.password);
    }
    let policy = Policy {
        poll_interval: Some(Duration::from_secs(2)),
        backoff_initial: Duration::from_millis(500),
        backoff_max: Duration::from_secs(5),
        ..Policy::default()
    };
    let mut sup: Supervisor<'_> = Supervisor::new(config, policy);
    let cmd = format!("demo/{}/cmd", args.id);
    let tele = format!("demo/{}/tele", args.id);
    // Registered now, subscribed on every connect.
    sup.subscribe(&mut modem, &cmd, Qos::AtLeastOnce).await?;
    println!(
        "serial {} ({}), subscribing {cmd}, publishing {tele}",
        args.serial, args.dialect
    );

    let mut buf = [0u8; 1024];
    let mut next_publish = Instant::now();
    let mut count = 0u32;
    loop {
        let wake = sup.next_deadline().min(next_publish);
        if let Either::First(event) = select(events.next(&mut buf), Timer::at(wake)).await {
            match event {
                Event::Message(m) => println!(
                    "message on {}: {}",
                    m.topic,
                    String::from_utf8_lossy(m.payload)
                ),
                other => println!("event: {other}"),
            }
        }
        while let Some(link) = sup.poll(&mut modem).await {
            println!("link: {link}");
        }
        if Instant::now() >= next_publish {
            next_publish = Instant::now() + Duration::from_secs(1);
            if sup.is_connected() {
                count += 1;
                let payload = count.to_string();
                match sup
                    .publish(
                        &mut modem,
                        &tele,
                        payload.as_bytes(),
                        Qos::AtMostOnce,
                        false,
                    )
                    .await
                {
                    Ok(()) => println!("published {payload}"),
                    Err(e) => println!("publish failed: {e}"),
                }
            }
        }
    }
}
