//! Secrets never appear in `Debug` or `log` output: configure with a password and upload a
//! client key with logging at its most verbose, and look for them in everything logged.
//! Run with `cargo test --features log --test secrets` (CI does).
#![cfg(feature = "log")]

mod common;

use std::sync::Mutex;

use common::{ex, run};
use mqtt_modem::{Config, Tls};

static LOGGED: Mutex<String> = Mutex::new(String::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LOGGED
            .lock()
            .unwrap()
            .push_str(&format!("{} {}\n", record.level(), record.args()));
    }
    fn flush(&self) {}
}

const PASSWORD: &str = "pw-hunter2-secret";
const KEY: &[u8] = b"-----BEGIN PRIVATE KEY-----\nKEYSECRETKEYSECRET\n-----END PRIVATE KEY-----\n";

#[test]
fn password_and_key_never_logged_or_debug_printed() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let config = Config::new("h", 1883, "id").credentials("user", PASSWORD);
    let mut key_line = b"AT+MQTTTLS=1,2,\"-----BEGIN PRIVATE KEY-----\\nKEYSECRETKEYSECRET\\n-----END PRIVATE KEY-----\\n\",".to_vec();
    key_line.extend_from_slice(format!("{}\r", KEY.len()).as_bytes());
    let shown = run(
        vec![
            ex(
                format!("AT+MQTTCONFIG=\"h\",1883,\"id\",1,60,\"user\",\"{PASSWORD}\"\r")
                    .as_bytes(),
                b"\r\nOK\r\n",
            ),
            ex(b"AT+MQTTTLS=1,0,\"CA\",2\r", b"\r\nOK\r\n"),
            ex(b"AT+MQTTTLS=1,1,\"C\",1\r", b"\r\nOK\r\n"),
            ex(&key_line, b"\r\nOK\r\n"),
            // A late answer and a read of the stored config, both of which log or carry it.
            ex(
                b"AT+MQTTCONFIG?\r",
                format!("\r\n+MQTTCONFIG:h,1883,id,1,60,user,{PASSWORD}\r\n\r\nOK\r\nOK\r\n")
                    .as_bytes(),
            ),
        ],
        64,
        async |m, _, _| {
            m.configure(&config).await.unwrap();
            m.set_tls(Tls::root_ca(b"CA").client_cert(b"C", KEY))
                .await
                .unwrap();
            let stored = m.config().await.unwrap();
            assert_eq!(stored.password, PASSWORD);
            format!(
                "{config:?} {:?} {stored:?} {stored:#?} {:?}",
                Tls::unverified().client_cert(b"C", KEY),
                m.stats()
            )
        },
    );
    // ESP-AT and Quectel store the key as raw bytes after a prompt; a corrupted Quectel
    // upload is an error whose `Debug` is shown too.
    let key_only = Tls::root_ca(b"CA").client_cert(b"C", KEY).upload_always();
    common::run_dialect(
        mqtt_modem::EspAt,
        esp_upload_script(),
        64,
        mqtt_modem::Options::default(),
        async |m, _, _| m.set_tls(key_only).await.unwrap(),
    );
    let quectel = common::run_dialect(
        mqtt_modem::Quectel,
        quectel_upload_script(),
        64,
        mqtt_modem::Options::default(),
        async |m, _, _| format!("{:?}", m.set_tls(key_only).await),
    );
    let logged = LOGGED.lock().unwrap().clone();
    for text in [&shown, &logged, &quectel] {
        assert!(!text.contains("hunter2"), "password shown: {text}");
        assert!(!text.contains("KEYSECRET"), "key shown: {text}");
    }
}

/// ESP-AT writing the CA, the certificate and the key (`upload_always`).
fn esp_upload_script() -> Vec<common::Exchange> {
    let ok: &[u8] = b"\r\nOK\r\n";
    let mut script = Vec::new();
    for (ns, mark, pem, print) in [
        ("mqtt_ca", "ca", b"CA".as_slice(), fnv(b"CA")),
        ("mqtt_cert", "cert", b"C", fnv(b"C")),
        ("mqtt_key", "key", KEY, fnv(KEY)),
    ] {
        script.extend([
            ex(
                format!("AT+SYSMFG=0,\"mqtt_modem\",\"{mark}\"\r\n").as_bytes(),
                ok,
            ),
            ex(
                format!("AT+SYSMFG=2,\"{ns}\",\"{ns}\",8,{}\r\n", pem.len()).as_bytes(),
                b"\r\nOK\r\n\r\n>",
            ),
            ex(pem, ok),
            ex(
                format!("AT+SYSMFG=2,\"mqtt_modem\",\"{mark}\",5,{print}\r\n").as_bytes(),
                ok,
            ),
        ]);
    }
    script
}

/// Quectel writing the CA and the certificate (each with its commit marker), then the key,
/// whose checksum comes back wrong.
fn quectel_upload_script() -> Vec<common::Exchange> {
    let ok: &[u8] = b"\r\nOK\r\n";
    let mut script = Vec::new();
    for pem in [b"CA".as_slice(), b"C", KEY] {
        let hex = format!("{:08x}", fnv(pem));
        let checksum = if pem == KEY { 1 } else { xor16(pem) };
        script.extend([
            ex(format!("AT+QFDEL=\"{hex}.ok\"\r").as_bytes(), ok),
            ex(format!("AT+QFDEL=\"{hex}.pem\"\r").as_bytes(), ok),
            ex(
                format!("AT+QFUPL=\"{hex}.pem\",{},60\r", pem.len()).as_bytes(),
                b"\r\nCONNECT\r\n",
            ),
            ex(
                pem,
                format!("\r\n+QFUPL: {},{checksum:x}\r\n\r\nOK\r\n", pem.len()).as_bytes(),
            ),
        ]);
        if pem == KEY {
            script.push(ex(format!("AT+QFDEL=\"{hex}.pem\"\r").as_bytes(), ok));
        } else {
            script.extend([
                ex(
                    format!("AT+QFUPL=\"{hex}.ok\",1,60\r").as_bytes(),
                    b"\r\nCONNECT\r\n",
                ),
                ex(b"1", b"\r\n+QFUPL: 1,3100\r\n\r\nOK\r\n"),
            ]);
        }
    }
    script
}

/// 32-bit FNV-1a.
fn fnv(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// `AT+QFUPL`'s checksum: XOR of big-endian byte pairs.
fn xor16(bytes: &[u8]) -> u16 {
    bytes.chunks(2).fold(0, |s, p| {
        s ^ (u16::from(p[0]) << 8 | u16::from(p.get(1).copied().unwrap_or(0)))
    })
}
