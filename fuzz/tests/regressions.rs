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

/// Disagreement between the driver's encoder and the simulator's parser (fuzz/README.md):
/// in `Quoting::Unquoted` mode the driver sends a field's leading blanks as part of the value,
/// the simulator's `split_params` skips them ("tolerate blanks before a parameter").
#[test]
fn unquoted_leading_blanks_are_lost() {
    use atat::AtatCmd;
    use mqtt_modem::command::config::SetConfig;
    use mqtt_modem::{Config, Quoting};
    use mqtt_modem_fuzz::sim_at;

    let config = Config::new(" h", 1883, " id")
        .credentials(" u", " p")
        .quoting(Quoting::Unquoted);
    let cmd = SetConfig::new(&config).expect("the driver accepts leading blanks");
    let mut buf = [0u8; 128];
    let n = cmd.write(&mut buf);
    assert_eq!(&buf[..n], b"AT+MQTTCONFIG= h,1883, id,1,60, u, p\r");
    let Ok(sim_at::Command::ConfigSet(c)) = sim_at::parse(&buf[..n - 1]) else {
        panic!("sim refused the line");
    };
    // What the simulator stores: the blanks are gone.
    assert_eq!(
        (c.host.as_str(), c.client_id.as_str(), c.user.as_str(), c.password.as_str()),
        ("h", "id", "u", "p")
    );
}

/// Observation (fuzz/README.md): a certificate of line breaks only is accepted by
/// `SetTls::upload` and, stripped, goes out as an empty upload, which the simulator treats as
/// "clear the slot".
#[test]
fn stripped_newline_only_cert_is_an_empty_upload() {
    use atat::AtatCmd;
    use mqtt_modem::CertEncoding;
    use mqtt_modem::command::tls::SetTls;
    use mqtt_modem::command::tls::types::CertKind;
    use mqtt_modem_fuzz::sim_at;

    let cmd = SetTls::upload(CertKind::RootCa, b"\r\n\n", CertEncoding::StrippedNewlines)
        .expect("accepted");
    let mut buf = [0u8; 64];
    let n = cmd.write(&mut buf);
    assert_eq!(&buf[..n], b"AT+MQTTTLS=1,0,\"\",0\r");
    assert_eq!(
        sim_at::parse(&buf[..n - 1]),
        Ok(sim_at::Command::TlsSet {
            tls: true,
            cert: Some((sim_at::CertKind::RootCa, Vec::new()))
        })
    );
}

/// Observation (fuzz/README.md): the longest publish the driver accepts is longer than the
/// simulator's line buffer (`modem_sim::MAX_LINE`, 8192 bytes), which reports it as unparsable.
#[test]
fn longest_publish_exceeds_sim_line_buffer() {
    use mqtt_modem::Qos;
    use mqtt_modem::command::publish::Publish;
    let topic = "\"".repeat(256);
    let payload = vec![b'"'; 4096];
    let cmd = Publish::new(&topic, &payload, Qos::AtMostOnce, false).expect("accepted");
    assert_eq!(cmd.encoded_len(), 8725);
    const SIM_MAX_LINE: usize = 8192; // tools/sim/src/sim.rs
    assert!(cmd.encoded_len() - 1 > SIM_MAX_LINE);
}
