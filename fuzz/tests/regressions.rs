//! Replays every saved input under `fuzz/regressions/<target>/` through the same check the fuzz
//! target runs. Stable toolchain: `cargo test --manifest-path fuzz/Cargo.toml`.

use std::path::Path;

#[test]
fn replay_saved_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut failures = Vec::new();
    let mut count = 0;
    for target in ["digester", "urc", "responses", "encoders"] {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            if !path.is_file() || path.file_name().is_some_and(|n| n == ".gitkeep" || n == "README.md") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            count += 1;
            let result = std::panic::catch_unwind(|| mqtt_modem_fuzz::check(target, &data));
            if result.is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    eprintln!("replayed {count} saved inputs");
    assert!(failures.is_empty(), "saved inputs still failing: {failures:#?}");
}

#[test]
fn tls_off_reads_back() {
    mqtt_modem_fuzz::check_tls_off();
}

#[test]
fn seeds_pass() {
    // A few hand-made inputs so the checks run even with no saved crash.
    mqtt_modem_fuzz::check_digester(b"\x02\x00\x01\x00\x05\r\n+MQTTSTATE:1\r\n\r\nOK\r\n");
    mqtt_modem_fuzz::check_digester(b"\x00\xff\x00\x01\x03\x07\r\n+MQTTRECV:\"a/b\",5,he\r\nlo\r\n");
    mqtt_modem_fuzz::check_responses(b"+MQTTSUB:\"a/#\",1\r\n+MQTTSUB:b,0\r\n");
    mqtt_modem_fuzz::check_responses(b"+MQTTCONFIG:h,1883,id,1,60,u,p,w\r\n");
    mqtt_modem_fuzz::check_encoders(&[7u8; 300]);
    mqtt_modem_fuzz::check_urc(&[1u8; 300]);
}
