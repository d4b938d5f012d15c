//! The ESP-AT dialect on a scripted wire: exact bytes of every command form, Espressif's own
//! transcripts parsed, the `>` prompt and `+MQTTPUB:OK|FAIL`, the LONG* fields, incoming
//! `+MQTTSUBRECV` messages and `+MQTTDISCONNECTED`.

mod common;

use common::{Exchange, MockUart, ex, run_dialect};
use mqtt_modem::{
    Config, ConnectionState, Detail, Error, ErrorKind, EspAt, Event, Events, Feature, Field,
    Invalid, LinkHint, MqttModem, Options, Qos, Tls,
};

const OK: &[u8] = b"\r\nOK\r\n";

type Esp<'a> = MqttModem<'a, MockUart, EspAt>;

fn esp<T>(
    script: Vec<Exchange>,
    chunk: usize,
    body: impl AsyncFnOnce(&mut Esp<'_>, &mut Events<'_, 2048>, &common::Wire) -> T,
) -> T {
    run_dialect(EspAt, script, chunk, Options::default(), body)
}

/// Every chunk size a test runs with: the same bytes split anywhere.
const CHUNKS: [usize; 3] = [1, 7, 64];

#[test]
fn init_identify_with_echo_on() {
    for chunk in CHUNKS {
        let id = esp(
            vec![
                ex(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n"),
                ex(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n"),
                // The dialect's state query: 0, no client set up yet.
                ex(
                    b"AT+MQTTCONN?\r\n",
                    b"\r\n+MQTTCONN:0,0,0,\"\",\"\",\"\",0\r\n\r\nOK\r\n",
                ),
                ex(
                    b"AT+GMR\r\n",
                    b"\r\nAT version:3.4.0.0(s-4c6eb5e - ESP32C3 - May 22 2024)\r\nSDK version:v5.0.6\r\ncompile time(4c6eb5e):May 22 2024 12:00:00\r\nBin version:v3.4.0.0(MINI-1)\r\n\r\nOK\r\n",
                ),
            ],
            chunk,
            async |m, _, _| {
                m.init().await.unwrap();
                m.identify().await.unwrap()
            },
        );
        assert_eq!(id.manufacturer.as_str(), "");
        assert_eq!(
            id.revision.lines().collect::<Vec<_>>(),
            [
                "AT version:3.4.0.0(s-4c6eb5e - ESP32C3 - May 22 2024)",
                "SDK version:v5.0.6",
                "compile time(4c6eb5e):May 22 2024 12:00:00",
                "Bin version:v3.4.0.0(MINI-1)"
            ]
        );
    }
}

/// Espressif's transcript: CLEAN (a dropped link takes no new connection before it), USERCFG,
/// then CONN answered `+MQTTCONNECTED:…` before `OK`; the strings escaped with `\,` `\"` `\\`.
#[test]
fn configure_and_connect_as_the_manual_shows() {
    let config = Config::new("192.168.3.102", 8883, "publisher")
        .credentials("espressif", "123456789")
        .keepalive(120)
        .clean_session(false);
    esp(
        vec![
            // Nothing to clean on a fresh module: ERROR, which configure takes as fine.
            ex(b"AT+MQTTCLEAN=0\r\n", b"\r\nERROR\r\n"),
            ex(
                b"AT+MQTTUSERCFG=0,1,\"publisher\",\"espressif\",\"123456789\",0,0,\"\"\r\n",
                OK,
            ),
            ex(b"AT+MQTTCONNCFG=0,120,1,\"\",\"\",0,0\r\n", OK),
            // The manual's own answer, reconnect flag 1 as it prints it (the driver asks for 0:
            // the supervisor reconnects).
            ex(
                b"AT+MQTTCONN=0,\"192.168.3.102\",8883,0\r\n",
                b"\r\n+MQTTCONNECTED:0,1,\"192.168.3.102\",\"8883\",\"\",1\r\n\r\nOK\r\n",
            ),
        ],
        64,
        async |m, _, _| {
            m.configure(&config).await.unwrap();
            m.connect().await.unwrap();
        },
    );
    let odd = Config::new("h", 1883, "a,b\"c\\d").credentials("u,1", "p\"w");
    esp(
        vec![
            ex(b"AT+MQTTCLEAN=0\r\n", OK),
            ex(
                b"AT+MQTTUSERCFG=0,1,\"a\\,b\\\"c\\\\d\",\"u\\,1\",\"p\\\"w\",0,0,\"\"\r\n",
                OK,
            ),
            ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK),
        ],
        64,
        async |m, _, _| m.configure(&odd).await.unwrap(),
    );
}

/// A last will goes in `AT+MQTTCONNCFG`, escaped; a will topic with a wildcard is refused.
#[test]
fn last_will() {
    let will = mqtt_modem::Will {
        topic: "dev/1/status",
        payload: b"offline, \"gone\"",
        qos: Qos::AtLeastOnce,
        retain: true,
    };
    esp(
        vec![
            ex(b"AT+MQTTCLEAN=0\r\n", OK),
            ex(b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"\r\n", OK),
            ex(
                b"AT+MQTTCONNCFG=0,60,0,\"dev/1/status\",\"offline\\, \\\"gone\\\"\",1,1\r\n",
                OK,
            ),
        ],
        64,
        async |m, _, w| {
            m.configure(&Config::new("h", 1883, "id").will(will))
                .await
                .unwrap();
            let wild = mqtt_modem::Will {
                topic: "dev/+/status",
                ..will
            };
            let before = w.sent().len();
            assert_eq!(
                m.configure(&Config::new("h", 1883, "id").will(wild)).await,
                Err(Error::InvalidInput {
                    field: Field::WillTopic,
                    reason: Invalid::Wildcard
                })
            );
            assert_eq!(w.sent().len(), before);
        },
    );
}

/// A user config line that would reach 256 bytes: the strings go through the prompted LONG*
/// commands, raw.
#[test]
fn long_credentials_go_through_the_prompt() {
    let password = "p,\"".repeat(100); // 300 bytes
    let config = Config::new("h", 1883, "dev").credentials("user", &password);
    for chunk in CHUNKS {
        esp(
            long_fields_script("dev", "user", &password),
            chunk,
            async |m, _, _| m.configure(&config).await.unwrap(),
        );
    }
}

/// `AT+MQTTPUBRAW`: `OK`, `>`, the raw payload (CR, LF, NUL, `"`, `,` as they are), then
/// `+MQTTPUB:OK`; `+MQTTPUB:FAIL` is a typed failure; an empty payload goes inline.
#[test]
fn publish_through_the_prompt() {
    let payload = b"a\r\nb\0c\"d,e\r\n\r\nOK\r\n";
    for chunk in CHUNKS {
        esp(
            vec![
                ex(b"AT+MQTTPUBRAW=0,\"t/1\",18,1,0\r\n", b"\r\nOK\r\n\r\n>"),
                ex(payload, b"\r\n+MQTTPUB:OK\r\n"),
                ex(b"AT+MQTTPUBRAW=0,\"t/1\",1,0,1\r\n", b"\r\nOK\r\n\r\n>"),
                ex(b"x", b"\r\n+MQTTPUB:FAIL\r\n"),
                ex(b"AT+MQTTPUB=0,\"t/1\",\"\",2,0\r\n", OK),
                ex(b"AT+MQTTPUBRAW=0,\"t/2\",2,2,1\r\n", b"\r\nOK\r\n\r\n>"),
                ex(b"q2", b"\r\n+MQTTPUB:OK\r\n"),
            ],
            chunk,
            async |m, _, _| {
                m.publish("t/1", payload, Qos::AtLeastOnce, false)
                    .await
                    .unwrap();
                assert_eq!(
                    m.publish("t/1", b"x", Qos::AtMostOnce, true).await,
                    Err(Error::Module {
                        kind: ErrorKind::Link,
                        detail: Detail::Result(-1),
                    })
                );
                m.publish("t/1", b"", Qos::ExactlyOnce, false)
                    .await
                    .unwrap();
                m.publish("t/2", b"q2", Qos::ExactlyOnce, true)
                    .await
                    .unwrap();
            },
        );
    }
}

/// A `>` once the data went out is no prompt: it is noise (discarded, counted, and, as any
/// noise inside an answer, it makes the answer untrustworthy: `Protocol`), not a second prompt
/// silently taken.
#[test]
fn a_stray_prompt_after_the_data_is_noise() {
    let got = esp(
        vec![
            ex(b"AT+MQTTPUBRAW=0,\"t\",2,0,0\r\n", b"\r\nOK\r\n\r\n>"),
            ex(b"hi", b"\r\n>\r\n+MQTTPUB:OK\r\n"),
            // A prompted command answered by its final result alone.
            ex(b"AT+SYSMFG=0,\"mqtt_modem\",\"ca\"\r\n", OK),
            ex(
                b"AT+SYSMFG=2,\"mqtt_ca\",\"mqtt_ca\",8,57\r\n",
                b"\r\nOK\r\n\r\n>",
            ),
            ex(CA, b"\r\n>\r\nOK\r\n"),
        ],
        64,
        async |m, _, _| {
            let publish = m.publish("t", b"hi", Qos::AtMostOnce, false).await;
            let write = m.set_tls(Tls::root_ca(CA).upload_always()).await;
            (publish, write, m.stats().discarded_bytes)
        },
    );
    assert_eq!(got, (Err(Error::Protocol), Err(Error::Protocol), 2));
}

/// A 4 KiB payload streams through the prompt; an `ERROR` instead of the prompt fails the
/// publish without writing the payload.
#[test]
fn large_payload_and_refused_prompt() {
    let payload: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    esp(
        vec![
            ex(b"AT+MQTTPUBRAW=0,\"big\",4096,0,0\r\n", b"\r\nOK\r\n\r\n>"),
            ex(&payload, b"\r\n+MQTTPUB:OK\r\n"),
            ex(b"AT+MQTTPUBRAW=0,\"big\",4096,0,0\r\n", b"\r\nERROR\r\n"),
            ex(
                b"AT+MQTTCONN?\r\n",
                b"\r\n+MQTTCONN:0,3,1,\"h\",\"1883\",\"\",0\r\n\r\nOK\r\n",
            ),
        ],
        64,
        async |m, _, _| {
            m.publish("big", &payload, Qos::AtMostOnce, false)
                .await
                .unwrap();
            assert_eq!(
                m.publish("big", &payload, Qos::AtMostOnce, false).await,
                Err(Error::Module {
                    kind: ErrorKind::Link,
                    detail: Detail::Error,
                })
            );
            assert_eq!(m.state().await, Ok(ConnectionState::Disconnected));
        },
    );
}

#[test]
fn subscribe_unsubscribe_state_disconnect() {
    esp(
        vec![
            ex(b"AT+MQTTSUB=0,\"a/+/c\",1\r\n", OK),
            ex(
                b"AT+MQTTSUB=0,\"a/+/c\",1\r\n",
                b"\r\nALREADY SUBSCRIBE\r\n\r\nOK\r\n",
            ),
            ex(
                b"AT+MQTTUNSUB=0,\"a/+/c\"\r\n",
                b"\r\nNO UNSUBSCRIBE\r\n\r\nOK\r\n",
            ),
            ex(
                b"AT+MQTTCONN?\r\n",
                b"\r\n+MQTTCONN:0,6,1,\"192.168.3.102\",\"8883\",\"\",0\r\n\r\nOK\r\n",
            ),
            ex(b"AT+MQTTCLEAN=0\r\n", OK),
        ],
        7,
        async |m, _, _| {
            m.subscribe("a/+/c", Qos::AtLeastOnce).await.unwrap();
            m.subscribe("a/+/c", Qos::AtLeastOnce).await.unwrap();
            m.unsubscribe("a/+/c").await.unwrap();
            assert_eq!(m.state().await, Ok(ConnectionState::Connected));
            m.disconnect().await.unwrap();
        },
    );
}

/// `+MQTTSUBRECV` read by length, its payload holding CR LF and `OK`; a message and a
/// disconnect arriving between a command's `OK` and its prompt are not lost.
#[test]
fn incoming_messages_and_link_loss() {
    let payload = b"{\"a\":1}\r\nOK\r\n,\"";
    let mut urc = format!("\r\n+MQTTSUBRECV:0,\"dev/cmd\",{},", payload.len()).into_bytes();
    urc.extend_from_slice(payload);
    urc.extend_from_slice(b"\r\n");
    let mut reply = b"\r\nOK\r\n".to_vec();
    reply.extend_from_slice(&urc);
    reply.extend_from_slice(b"\r\n+MQTTDISCONNECTED:0\r\n\r\n>");
    for chunk in CHUNKS {
        let (events, hint) = esp(
            vec![
                ex(b"AT+MQTTPUBRAW=0,\"t\",2,0,0\r\n", &reply),
                ex(b"hi", b"\r\n+MQTTPUB:FAIL\r\n"),
            ],
            chunk,
            async |m, ev, _| {
                assert_eq!(
                    m.publish("t", b"hi", Qos::AtMostOnce, false).await,
                    Err(Error::Module {
                        kind: ErrorKind::Link,
                        detail: Detail::Result(-1),
                    })
                );
                let mut buf = [0u8; 256];
                let mut out = Vec::new();
                for _ in 0..2 {
                    out.push(match common::next_event(ev, &mut buf).await {
                        Event::Message(msg) => {
                            format!("{} {:?}", msg.topic, String::from_utf8_lossy(msg.payload))
                        }
                        other => format!("{other:?}"),
                    });
                }
                (out, m.take_link_hint())
            },
        );
        assert_eq!(
            events,
            [
                format!("dev/cmd {:?}", String::from_utf8_lossy(payload)),
                "Disconnected".to_string()
            ]
        );
        assert_eq!(hint, Some(LinkHint::Lost));
    }
}

const CA: &[u8] = b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT: &[u8] = b"-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----\n";
const KEY: &[u8] = b"-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";
// Their 32-bit FNV-1a fingerprints, computed apart from the driver.
const CA_PRINT: &str = "391224441";
const CERT_PRINT: &str = "3020560127";
const KEY_PRINT: &str = "3617734167";

fn bad(field: Field, reason: Invalid) -> Error {
    Error::InvalidInput { field, reason }
}

fn line(text: String) -> Vec<u8> {
    text.into_bytes()
}

/// TLS with everything: the CA written (no fingerprint stored: the read fails), the client
/// certificate reused (its fingerprint matches), the key written again (another fingerprint),
/// each write through the manual's `OK`, blank, `>` answer; then `configure` sends scheme 5,
/// the server name and the ALPN protocols (escaped) after the user config.
#[test]
fn tls_uploads_what_is_missing_and_configures_scheme_sni_alpn() {
    let tls = Tls::root_ca(CA)
        .client_cert(CERT, KEY)
        .server_name("broker.example.com")
        .alpn(&["mqtt", "x,y"]);
    for chunk in CHUNKS {
        esp(
            vec![
                ex(b"AT+SYSMFG=1,\"mqtt_modem\",\"ca\"\r\n", b"\r\nERROR\r\n"),
                ex(b"AT+SYSMFG=0,\"mqtt_modem\",\"ca\"\r\n", b"\r\nERROR\r\n"),
                ex(
                    b"AT+SYSMFG=2,\"mqtt_ca\",\"mqtt_ca\",8,57\r\n",
                    b"\r\nOK\r\n\r\n>",
                ),
                ex(CA, OK),
                ex(
                    &line(format!(
                        "AT+SYSMFG=2,\"mqtt_modem\",\"ca\",5,{CA_PRINT}\r\n"
                    )),
                    OK,
                ),
                ex(
                    b"AT+SYSMFG=1,\"mqtt_modem\",\"cert\"\r\n",
                    &line(format!(
                        "\r\n+SYSMFG:\"mqtt_modem\",\"cert\",5,{CERT_PRINT}\r\n\r\nOK\r\n"
                    )),
                ),
                ex(
                    b"AT+SYSMFG=1,\"mqtt_modem\",\"key\"\r\n",
                    b"\r\n+SYSMFG:\"mqtt_modem\",\"key\",5,12345\r\n\r\nOK\r\n",
                ),
                ex(b"AT+SYSMFG=0,\"mqtt_modem\",\"key\"\r\n", OK),
                ex(
                    b"AT+SYSMFG=2,\"mqtt_key\",\"mqtt_key\",8,61\r\n",
                    b"\r\nOK\r\n\r\n>",
                ),
                ex(KEY, OK),
                ex(
                    &line(format!(
                        "AT+SYSMFG=2,\"mqtt_modem\",\"key\",5,{KEY_PRINT}\r\n"
                    )),
                    OK,
                ),
                ex(b"AT+MQTTCLEAN=0\r\n", OK),
                ex(b"AT+MQTTUSERCFG=0,5,\"id\",\"\",\"\",0,0,\"\"\r\n", OK),
                ex(b"AT+MQTTSNI=0,\"broker.example.com\"\r\n", OK),
                ex(b"AT+MQTTALPN=0,2,\"mqtt\",\"x\\,y\"\r\n", OK),
                ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK),
            ],
            chunk,
            async |m, _, _| {
                m.set_tls(tls).await.unwrap();
                m.configure(&Config::new("h", 8883, "id")).await.unwrap();
            },
        );
    }
}

/// The schemes: TLS without verification (2, nothing written), a CA only (3), a client
/// certificate only (4, no CA), and off again (1); `upload_always` writes a stored CA again
/// without reading its fingerprint.
#[test]
fn tls_schemes_and_upload_always() {
    let user = |scheme: u8| {
        line(format!(
            "AT+MQTTUSERCFG=0,{scheme},\"id\",\"\",\"\",0,0,\"\"\r\n"
        ))
    };
    let conncfg = || ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK);
    let ca_stored = || {
        ex(
            b"AT+SYSMFG=1,\"mqtt_modem\",\"ca\"\r\n",
            &line(format!(
                "\r\n+SYSMFG:\"mqtt_modem\",\"ca\",5,{CA_PRINT}\r\n\r\nOK\r\n"
            )),
        )
    };
    let mut script = vec![ex(b"AT+MQTTCLEAN=0\r\n", OK), ex(&user(2), OK), conncfg()];
    script.extend([
        ca_stored(),
        ex(b"AT+MQTTCLEAN=0\r\n", OK),
        ex(&user(3), OK),
        conncfg(),
        ex(
            b"AT+SYSMFG=1,\"mqtt_modem\",\"cert\"\r\n",
            &line(format!(
                "\r\n+SYSMFG:\"mqtt_modem\",\"cert\",5,{CERT_PRINT}\r\n\r\nOK\r\n"
            )),
        ),
        ex(
            b"AT+SYSMFG=1,\"mqtt_modem\",\"key\"\r\n",
            &line(format!(
                "\r\n+SYSMFG:\"mqtt_modem\",\"key\",5,{KEY_PRINT}\r\n\r\nOK\r\n"
            )),
        ),
        ex(b"AT+MQTTCLEAN=0\r\n", OK),
        ex(&user(4), OK),
        conncfg(),
        ex(b"AT+MQTTCLEAN=0\r\n", OK),
        ex(&user(1), OK),
        conncfg(),
        ex(b"AT+SYSMFG=0,\"mqtt_modem\",\"ca\"\r\n", OK),
        ex(
            b"AT+SYSMFG=2,\"mqtt_ca\",\"mqtt_ca\",8,57\r\n",
            b"\r\nOK\r\n\r\n>",
        ),
        ex(CA, OK),
        // A module that cannot keep the fingerprint: the CA is stored all the same.
        ex(
            &line(format!(
                "AT+SYSMFG=2,\"mqtt_modem\",\"ca\",5,{CA_PRINT}\r\n"
            )),
            b"\r\nERROR\r\n",
        ),
    ]);
    esp(script, 7, async |m, _, _| {
        let config = Config::new("h", 8883, "id");
        for tls in [
            Tls::unverified(),
            Tls::root_ca(CA),
            Tls::unverified().client_cert(CERT, KEY),
            Tls::off(),
        ] {
            m.set_tls(tls).await.unwrap();
            m.configure(&config).await.unwrap();
        }
        m.set_tls(Tls::root_ca(CA).upload_always()).await.unwrap();
    });
}

/// `set_tls` after `configure`: the scheme goes out only with the next `configure`, so
/// `connect` is refused until then (it would connect with the old setting); after it, the
/// connect goes out.
#[test]
fn tls_set_after_configure_needs_configure_again() {
    esp(
        vec![
            ex(b"AT+MQTTCLEAN=0\r\n", OK),
            ex(b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"\r\n", OK),
            ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK),
            ex(b"AT+MQTTCLEAN=0\r\n", OK),
            ex(b"AT+MQTTUSERCFG=0,2,\"id\",\"\",\"\",0,0,\"\"\r\n", OK),
            ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK),
            ex(
                b"AT+MQTTCONN=0,\"h\",8883,0\r\n",
                b"\r\n+MQTTCONNECTED:0,2,\"h\",\"8883\",\"\",0\r\n\r\nOK\r\n",
            ),
        ],
        64,
        async |m, _, w| {
            let config = Config::new("h", 8883, "id");
            m.configure(&config).await.unwrap();
            m.set_tls(Tls::unverified()).await.unwrap();
            let before = w.sent().len();
            assert_eq!(m.connect().await, Err(Error::NotConfigured));
            assert_eq!(w.sent().len(), before);
            m.configure(&config).await.unwrap();
            m.connect().await.unwrap();
        },
    );
}

/// Parts given with TLS off are refused, not dropped; the `Debug` of the prompted writes
/// shows a key's length only.
#[test]
fn tls_parts_with_tls_off_refused_and_blob_debug_redacted() {
    esp(vec![], 64, async |m, _, w| {
        for (tls, field) in [
            (Tls::off().client_cert(CERT, KEY), Field::Certificate),
            (Tls::off().server_name("h"), Field::ServerName),
            (Tls::off().alpn(&["mqtt"]), Field::Alpn),
        ] {
            assert_eq!(m.set_tls(tls).await, Err(bad(field, Invalid::TlsOff)));
        }
        assert!(w.sent().is_empty());
    });
    let blob = mqtt_modem::dialect::esp_at::commands::WriteBlob {
        namespace: b"mqtt_key",
        key: b"mqtt_key",
        value: KEY,
    };
    let shown = format!("{blob:?}");
    assert!(
        shown.contains("<redacted, 61 bytes>")
            && !shown.contains("SECRET")
            && !shown.contains("83, 69"),
        "{shown}"
    );
}

/// TLS input refused by name before a byte is written: an empty or oversized certificate,
/// more than five ALPN protocols, a server name or protocol with a line break, one too long.
#[test]
fn tls_refused_before_a_byte() {
    esp(vec![], 64, async |m, _, w| {
        let big = vec![b'A'; 8193];
        let long_name = "n".repeat(129);
        let cases = [
            (Tls::root_ca(b""), bad(Field::Certificate, Invalid::Empty)),
            (
                Tls::unverified().client_cert(CERT, &big),
                bad(Field::Certificate, Invalid::TooLong { max: 8192 }),
            ),
            (
                Tls::unverified().alpn(&["a", "b", "c", "d", "e", "f"]),
                bad(Field::Alpn, Invalid::OutOfRange),
            ),
            (
                Tls::unverified().server_name("host\r\nAT+RST"),
                bad(Field::ServerName, Invalid::LineBreakOrNul),
            ),
            (
                Tls::unverified().server_name(&long_name),
                bad(Field::ServerName, Invalid::TooLong { max: 128 }),
            ),
            (
                Tls::unverified().alpn(&["mqtt\0"]),
                bad(Field::Alpn, Invalid::LineBreakOrNul),
            ),
            (
                Tls::unverified().alpn(&["", "mqtt"]),
                bad(Field::Alpn, Invalid::Empty),
            ),
        ];
        for (tls, err) in cases {
            assert_eq!(m.set_tls(tls).await, Err(err), "{tls:?}");
        }
        assert!(w.sent().is_empty());
    });
}

/// Refusals before a byte is written: topics over 128 bytes, keepalive over 7200 s, CR/LF in
/// a string, connecting unconfigured.
#[test]
fn refused_before_a_byte() {
    esp(vec![], 64, async |m, _, w| {
        let long = "t".repeat(129);
        assert_eq!(
            m.publish(&long, b"x", Qos::AtMostOnce, false).await,
            Err(Error::InvalidInput {
                field: Field::Topic,
                reason: Invalid::TooLong { max: 128 }
            })
        );
        assert_eq!(
            m.subscribe(&long, Qos::AtMostOnce).await,
            Err(Error::InvalidInput {
                field: Field::TopicFilter,
                reason: Invalid::TooLong { max: 128 }
            })
        );
        // 120 commas escape to 240 bytes: the line would pass 255 bytes.
        let commas = ",".repeat(120);
        assert_eq!(
            m.publish(&commas, b"x", Qos::AtMostOnce, false).await,
            Err(Error::InvalidInput {
                field: Field::Topic,
                reason: Invalid::TooLong { max: 128 }
            })
        );
        assert_eq!(
            m.configure(&Config::new("h", 1, "id").keepalive(7201))
                .await,
            Err(Error::InvalidInput {
                field: Field::Keepalive,
                reason: Invalid::OutOfRange
            })
        );
        assert_eq!(
            m.configure(&Config::new("h", 1, "i\r\nd")).await,
            Err(Error::InvalidInput {
                field: Field::ClientId,
                reason: Invalid::LineBreakOrNul
            })
        );
        assert_eq!(m.connect().await, Err(Error::NotConfigured));
        assert_eq!(
            m.configure(&Config::new("h", 1, "id").quoting(mqtt_modem::Quoting::Unquoted))
                .await,
            Err(Error::Unsupported(Feature::UnquotedStrings))
        );
        assert!(w.sent().is_empty());
    });
}

/// ESP-AT writes a URC straight after the previous line's end, with no CRLF of its own: the
/// `OK` before it keeps its line end (found end to end: the answer was lost).
#[test]
fn urc_right_after_ok_without_its_own_crlf() {
    let reply: &[u8] = b"+MQTTCONN:0,6,1,\"127.0.0.1\",\"46155\",\"\",0\r\n\r\nOK\r\n+MQTTSUBRECV:0,\"t/x\",15,while answering\r\n";
    for chunk in CHUNKS {
        let (state, event) = esp(
            vec![ex(b"AT+MQTTCONN?\r\n", reply)],
            chunk,
            async |m, ev, _| {
                let state = m.state().await;
                let mut buf = [0u8; 64];
                let event = match common::next_event(ev, &mut buf).await {
                    Event::Message(msg) => format!("{} {:?}", msg.topic, msg.payload),
                    other => format!("{other:?}"),
                };
                (state, event)
            },
        );
        assert_eq!(state, Ok(ConnectionState::Connected), "chunk {chunk}");
        assert_eq!(event, format!("t/x {:?}", b"while answering"));
    }
}

/// The manual's own subscriber transcripts, byte for byte: `+MQTTSUBRECV:0,"topic",4,test`
/// after a subscribe, and a 427-byte message (the manual's PUBRAW example) right after an `OK`.
#[test]
fn incoming_as_the_manual_shows() {
    let json: Vec<u8> = b"{\"headers\": \"x\"}"
        .iter()
        .copied()
        .cycle()
        .take(427)
        .collect();
    let mut reply = b"\r\nOK\r\n+MQTTSUBRECV:0,\"topic\",4,test\r\n".to_vec();
    reply.extend_from_slice(b"+MQTTSUBRECV:0,\"topic\",427,");
    reply.extend_from_slice(&json);
    reply.extend_from_slice(b"\r\n");
    for chunk in CHUNKS {
        let got = esp(
            vec![ex(b"AT+MQTTSUB=0,\"topic\",1\r\n", &reply)],
            chunk,
            async |m, ev, _| {
                m.subscribe("topic", Qos::AtLeastOnce).await.unwrap();
                let mut got = Vec::new();
                for _ in 0..2 {
                    let mut buf = [0u8; 512];
                    match common::next_event(ev, &mut buf).await {
                        Event::Message(msg) => {
                            got.push((msg.topic.to_owned(), msg.payload.to_vec()))
                        }
                        other => panic!("{other:?}"),
                    }
                }
                got
            },
        );
        assert_eq!(
            got[0],
            ("topic".to_owned(), b"test".to_vec()),
            "chunk {chunk}"
        );
        assert_eq!(got[1], ("topic".to_owned(), json.clone()), "chunk {chunk}");
    }
}

/// ESP-AT speaks MQTT 3.1.1 only: 3.1 is refused before a byte is written.
#[test]
fn mqtt_3_1_refused() {
    esp(vec![], 64, async |m, _, w| {
        let config = Config::new("h", 1883, "id").mqtt_version(mqtt_modem::MqttVersion::V3_1);
        assert_eq!(
            m.configure(&config).await,
            Err(Error::Unsupported(Feature::Mqtt31))
        );
        assert!(w.sent().is_empty());
    });
}

/// `configure` with the client id, user name and password all sent through the LONG* prompts
/// (USERCFG then carries them empty), keepalive 60 and no last will.
fn long_fields_script(client_id: &str, user: &str, password: &str) -> Vec<Exchange> {
    let mut script = vec![
        ex(b"AT+MQTTCLEAN=0\r\n", OK),
        ex(b"AT+MQTTUSERCFG=0,1,\"\",\"\",\"\",0,0,\"\"\r\n", OK),
    ];
    for (name, value) in [
        ("CLIENTID", client_id),
        ("USERNAME", user),
        ("PASSWORD", password),
    ] {
        let line = format!("AT+MQTTLONG{name}=0,{}\r\n", value.len());
        script.push(ex(line.as_bytes(), b"\r\nOK\r\n\r\n>"));
        script.push(ex(value.as_bytes(), OK));
    }
    script.push(ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK));
    script
}

/// A user name over 64 bytes (USERCFG's own limit) goes through the prompt even when the line
/// would be short enough.
#[test]
fn long_user_name_goes_through_the_prompt() {
    let user = "u".repeat(65);
    let config = Config::new("h", 1883, "dev").credentials(&user, "pw");
    esp(
        long_fields_script("dev", &user, "pw"),
        7,
        async |m, _, _| m.configure(&config).await.unwrap(),
    );
}

/// A plain `ERROR` to `AT+MQTTSUB` (a full table of 10 filters, a refused filter) is the
/// modem's, not the link's: no link hint, so a supervisor does not reconnect for it; an `ERROR`
/// to `AT+MQTTCONN` is the link's (docs/DIALECTS.md, "Errors").
#[test]
fn subscribe_error_is_the_modems_and_connect_error_the_links() {
    esp(
        vec![
            ex(b"AT+MQTTSUB=0,\"t\",1\r\n", b"\r\nERROR\r\n"),
            ex(b"AT+MQTTCLEAN=0\r\n", OK),
            ex(b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"\r\n", OK),
            ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK),
            ex(b"AT+MQTTCONN=0,\"h\",1883,0\r\n", b"\r\nERROR\r\n"),
        ],
        7,
        async |m, _, _| {
            let refused = m.subscribe("t", Qos::AtLeastOnce).await.unwrap_err();
            assert_eq!(
                refused,
                Error::Module {
                    kind: ErrorKind::Modem,
                    detail: Detail::Error
                }
            );
            assert_eq!(m.take_link_hint(), None);
            m.configure(&Config::new("h", 1883, "id")).await.unwrap();
            let down = m.connect().await.unwrap_err();
            assert_eq!(down.kind(), ErrorKind::Link);
            assert_eq!(m.take_link_hint(), Some(LinkHint::Lost));
        },
    );
}

/// `configure` on an open session is refused, after the module confirms it is connected
/// (state 4 to 6), before its `AT+MQTTCLEAN` would drop the session unasked.
#[test]
fn configure_while_connected_is_refused() {
    let refused = esp(
        vec![
            ex(b"AT+MQTTCLEAN=0\r\n", b"\r\nERROR\r\n"),
            ex(b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"\r\n", OK),
            ex(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", OK),
            ex(
                b"AT+MQTTCONN=0,\"h\",1883,0\r\n",
                b"\r\n+MQTTCONNECTED:0,1,\"h\",\"1883\",\"\",0\r\n\r\nOK\r\n",
            ),
            ex(
                b"AT+MQTTCONN?\r\n",
                b"\r\n+MQTTCONN:0,4,1,\"h\",\"1883\",\"\",0\r\n\r\nOK\r\n",
            ),
        ],
        7,
        async |m, _, _| {
            m.configure(&Config::new("h", 1883, "id")).await.unwrap();
            m.connect().await.unwrap();
            m.configure(&Config::new("other", 1883, "id")).await
        },
    );
    assert_eq!(refused, Err(mqtt_modem::Error::StillConnected));
}

/// A `+MQTTPUB:FAIL` that comes before the next publish's prompt is the late completion of an
/// earlier publish: this one still sends its data and takes its own completion.
#[test]
fn a_late_completion_before_the_prompt_is_not_this_publishs() {
    for chunk in CHUNKS {
        esp(
            vec![
                ex(
                    b"AT+MQTTPUBRAW=0,\"t\",1,0,0\r\n",
                    b"\r\n+MQTTPUB:FAIL\r\n\r\nOK\r\n\r\n>",
                ),
                ex(b"x", b"\r\n+MQTTPUB:OK\r\n"),
            ],
            chunk,
            async |m, _, _| {
                assert_eq!(m.publish("t", b"x", Qos::AtMostOnce, false).await, Ok(()));
            },
        );
    }
}
