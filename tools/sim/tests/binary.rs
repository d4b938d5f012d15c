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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_prints_path_and_answers() {
    let link = std::env::temp_dir().join(format!("modem-sim-test-{}", std::process::id()));
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_modem-sim"))
            .args(["--link", link.to_str().unwrap(), "--latency-ms", "1"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
        link.clone(),
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
    let path = path.trim_end();
    assert!(path.starts_with("/dev/"), "{path}");
    assert_eq!(std::fs::read_link(&link).unwrap().to_str(), Some(path));

    let mut port = tokio_serial::new(link.to_str().unwrap(), 115_200)
        .open_native_async()
        .unwrap();
    port.write_all(b"AT+CGMM\r").await.unwrap();
    let want = b"AT+CGMM\r\r\n8088\r\n\r\nOK\r\n";
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < want.len() {
        let n = tokio::time::timeout(Duration::from_secs(5), port.read(&mut buf))
            .await
            .expect("reply")
            .unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, want);
}
