//! `mqtt-modem-cli probe` against simulated modems that answer identification commands in one
//! line, in several bare lines, and in several `+NAME:` lines.

use std::time::Duration;

use modem_sim::{Ident, REVISION, Sim, SimOptions};

const CLI: &str = env!("CARGO_BIN_EXE_mqtt-modem-cli");

async fn probe(ident: Ident) -> String {
    let sim = Sim::start(SimOptions {
        ident,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(CLI)
            .arg("--port")
            .arg(sim.device_path())
            .arg("probe")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("probe hung")
    .expect("run mqtt-modem-cli");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "probe failed ({ident:?}):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_reads_every_identification_shape() {
    assert_eq!(
        probe(Ident::Single).await,
        format!("manufacturer: ucchip\nmodel: 8088\nrevision: {REVISION}\n")
    );
    let every_line = format!(
        "manufacturer: ucchip | www.ucchip.cn\n\
         model: 8088 | GPRS module\n\
         revision: {REVISION} | HW: V1.2 | Build: 2026-12-04, 12:00:00\n"
    );
    assert_eq!(probe(Ident::Lines).await, every_line);
    // The `+CGMR: ` heads are removed: the same text as the bare lines.
    assert_eq!(probe(Ident::Prefixed).await, every_line);
}
