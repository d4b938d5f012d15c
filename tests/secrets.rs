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
            m.set_tls(Tls::ClientKey(KEY)).await.unwrap();
            let stored = m.config().await.unwrap();
            assert_eq!(stored.password, PASSWORD);
            format!(
                "{config:?} {:?} {stored:?} {stored:#?} {:?}",
                Tls::ClientKey(KEY),
                m.stats()
            )
        },
    );
    let logged = LOGGED.lock().unwrap().clone();
    for text in [&shown, &logged] {
        assert!(!text.contains("hunter2"), "password shown: {text}");
        assert!(!text.contains("KEYSECRET"), "key shown: {text}");
    }
}
