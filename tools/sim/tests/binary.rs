//! The `modem-sim` binary: prints the device path first, answers on it and on `--link`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::SerialPortBuilderExt;

/// Kills the child and removes its link even when an assertion fails.
struct Child(std::process::Child, std::path::PathBuf);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

/// Start the binary with `--link <link>` and `args`; returns it and the device path it printed.
async fn launch(link: &std::path::Path, args: &[&str]) -> (Child, String) {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_modem-sim"))
            .args(["--link", link.to_str().unwrap()])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
        link.to_path_buf(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut l = String::new();
        BufReader::new(stdout).read_line(&mut l).unwrap();
        l
    });
    let path = tokio::time::timeout(Duration::from_secs(10), line)
        .await
        .expect("path printed")
        .unwrap();
    (child, path.trim_end().to_string())
}

/// Open a device like a driver would.
fn open(path: &str) -> tokio_serial::SerialStream {
    tokio_serial::new(path, 115_200)
        .open_native_async()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_prints_path_and_answers() {
    let link = std::env::temp_dir().join(format!("modem-sim-test-{}", std::process::id()));
    let (_child, path) = launch(&link, &["--latency-ms", "1"]).await;
    assert!(path.starts_with("/dev/"), "{path}");
    assert_eq!(std::fs::read_link(&link).unwrap().to_str(), Some(&*path));

    let mut port = open(link.to_str().unwrap());
    exchange(&mut port, b"AT+CGMM\r", b"AT+CGMM\r\r\n8088\r\n\r\nOK\r\n").await;
}

/// Start the binary with `args`, wait for the path it prints, open the device.
async fn start(args: &[&str]) -> (Child, tokio_serial::SerialStream) {
    let link = std::env::temp_dir().join(format!(
        "modem-sim-test-{}-{}",
        std::process::id(),
        args.join("-")
    ));
    let (child, path) = launch(&link, args).await;
    (child, open(&path))
}

/// Send `send` and expect exactly `want` back.
async fn exchange(port: &mut tokio_serial::SerialStream, send: &[u8], want: &[u8]) {
    port.write_all(send).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want.len() {
        let n = tokio::time::timeout(Duration::from_secs(5), port.read(&mut buf))
            .await
            .expect("reply")
            .unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        got.escape_ascii().to_string(),
        want.escape_ascii().to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialect_flag_selects_the_command_set() {
    let (_quectel, mut port) = start(&["--dialect", "quectel"]).await;
    exchange(&mut port, b"AT+CGMM\r", b"AT+CGMM\r\r\nBG96\r\n\r\nOK\r\n").await;
    let (_esp, mut port) = start(&["--dialect", "esp-at"]).await;
    exchange(&mut port, b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n").await;
    exchange(
        &mut port,
        b"AT+GMR\r\n",
        b"AT version:3.4.0.0(sim)\r\nSDK version:v5.0\r\ncompile time:Dec  4 2026 12:00:00\r\nBin version:mqtt-modem-sim\r\n\r\nOK\r\n",
    )
    .await;
    let (_uc, mut port) = start(&["--dialect", "uc8088"]).await;
    exchange(
        &mut port,
        b"AT+CGMI\r",
        b"AT+CGMI\r\r\nucchip\r\n\r\nOK\r\n",
    )
    .await;
    let status = Command::new(env!("CARGO_BIN_EXE_modem-sim"))
        .args(["--dialect", "sim800"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "an unknown dialect is refused");
}
