//! `modem-sim`: run a simulated modem (UC8088, ESP-AT or Quectel) on a pseudo-terminal until
//! Ctrl-C.
//!
//! The first line on stdout is the device path the host should open. SIGINT or SIGTERM stops
//! it and removes the `--link` symlink.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use modem_sim::{Dialect, Dir, Ident, Sim, SimOptions};

/// Simulated modem (UCchip UC8088, Espressif ESP-AT or Quectel QMT MQTT dialect) on a
/// pseudo-terminal.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Also make the device reachable through a symlink at this path.
    #[arg(long)]
    link: Option<PathBuf>,
    /// Pace both directions at this baud rate (8N1); unpaced when absent.
    #[arg(long)]
    baud: Option<u32>,
    /// Delay before each response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Probability per modem→host byte of corruption (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Seed of the noise generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The AT command set: `uc8088`, `esp-at` or `quectel`.
    #[arg(long, default_value = "uc8088")]
    dialect: Dialect,
    /// How AT+CGMI/CGMM/CGMR answer (UC8088): `single` line, several bare `lines`, or several
    /// `prefixed` (+CGMR: ...) lines.
    #[arg(long, default_value = "single")]
    ident: Ident,
    /// Print the serial traffic in both directions on stderr.
    #[arg(long)]
    trace: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.noise) {
        eprintln!("--noise must be between 0 and 1");
        std::process::exit(2);
    }
    let sim = Sim::start(SimOptions {
        link: args.link,
        baud: args.baud.filter(|&b| b > 0),
        latency: Duration::from_millis(args.latency_ms),
        noise_rate: args.noise,
        seed: args.seed,
        ident: args.ident,
        dialect: args.dialect,
        ..SimOptions::default()
    })
    .await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", sim.device_path().display())?;
        out.flush()?;
    }
    if args.trace {
        let mut rx = sim.traffic();
        tokio::spawn(async move {
            while let Ok(t) = rx.recv().await {
                let arrow = match t.dir {
                    Dir::Rx => "host->modem",
                    Dir::Tx => "modem->host",
                };
                eprintln!("{arrow} {}", t.bytes.escape_ascii());
            }
        });
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    drop(sim); // removes the --link symlink
    Ok(())
}
