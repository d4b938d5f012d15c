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
            if !path.is_file()
                || path
                    .file_name()
                    .is_some_and(|n| n == ".gitkeep" || n == "README.md")
            {
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
    assert!(
        failures.is_empty(),
        "saved inputs still failing: {failures:#?}"
    );
}

#[test]
fn tls_off_reads_back() {
    mqtt_modem_fuzz::check_tls_off();
}

#[test]
fn seeds_pass() {
    // A few hand-made inputs so the checks run even with no saved crash.
    mqtt_modem_fuzz::check_digester(b"\x02\x00\x01\x00\x05\r\n+MQTTSTATE:1\r\n\r\nOK\r\n");
    mqtt_modem_fuzz::check_digester(
        b"\x00\xff\x00\x01\x03\x07\r\n+MQTTRECV:\"a/b\",5,he\r\nlo\r\n",
    );
    mqtt_modem_fuzz::check_responses(b"+MQTTSUB:\"a/#\",1\r\n+MQTTSUB:b,0\r\n");
    mqtt_modem_fuzz::check_responses(b"+MQTTCONFIG:h,1883,id,1,60,u,p,w\r\n");
    mqtt_modem_fuzz::check_encoders(&[7u8; 300]);
    mqtt_modem_fuzz::check_urc(&[1u8; 300]);
}

/// Found by the `encoders` target (fuzz/README.md): in `Quoting::Unquoted` mode a field's
/// leading blanks were sent as part of the value, and the simulator's parser (like many modem
/// parsers) trims them. The driver now refuses blanks at either end of a bare field.
#[test]
fn unquoted_blanks_at_the_ends_are_refused() {
    use mqtt_modem::dialect::uc8088::commands::SetConfig;
    use mqtt_modem::{Config, Error, Field, Invalid, Quoting};

    let refused = |c: Config<'_>| SetConfig::new(&c.quoting(Quoting::Unquoted)).err();
    let needs_quoting = |field| {
        Some(Error::InvalidInput {
            field,
            reason: Invalid::NeedsQuoting,
        })
    };
    assert_eq!(
        refused(Config::new(" h", 1883, "id")),
        needs_quoting(Field::Host)
    );
    assert_eq!(
        refused(Config::new("h", 1883, "id\t")),
        needs_quoting(Field::ClientId)
    );
    assert_eq!(
        refused(Config::new("h", 1883, "id").credentials("u", "p ")),
        needs_quoting(Field::Password)
    );
    // Quoted, the same values are fine.
    assert!(SetConfig::new(&Config::new(" h", 1883, " id").credentials(" u", " p")).is_ok());
}

/// Found by the `encoders` target (fuzz/README.md): a certificate of line breaks only, stripped,
/// would go out as `""` with size 0, the form that clears a slot. It is refused as empty.
#[test]
fn stripped_newline_only_cert_is_refused() {
    use mqtt_modem::dialect::uc8088::commands::SetTls;
    use mqtt_modem::dialect::uc8088::types::CertKind;
    use mqtt_modem::{CertEncoding, Error, Field, Invalid};

    assert_eq!(
        SetTls::upload(CertKind::RootCa, b"\r\n\n", CertEncoding::StrippedNewlines).err(),
        Some(Error::InvalidInput {
            field: Field::Certificate,
            reason: Invalid::Empty
        })
    );
    assert!(SetTls::upload(CertKind::RootCa, b"\r\n\n", CertEncoding::EscapedNewlines).is_ok());
}
