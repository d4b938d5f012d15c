//! The Quectel QMT dialect on a scripted wire: exact bytes of every command form, `OK` then
//! the result URC (matched by client index and message id), the `>` prompt of `AT+QMTPUBEX`,
//! `+QMTRECV` read by length between quotes, and `+QMTSTAT`.

mod common;

use common::{Exchange, MockUart, ex, run_dialect};
use mqtt_modem::{
    Config, ConnectionState, Detail, Error, ErrorKind, Event, Events, Feature, Field, Invalid,
    LinkHint, MqttModem, Options, Qos, Quectel, Tls,
};

const OK: &[u8] = b"\r\nOK\r\n";

type Q<'a> = MqttModem<'a, MockUart, Quectel>;

fn quectel<T>(
    script: Vec<Exchange>,
    chunk: usize,
    body: impl AsyncFnOnce(&mut Q<'_>, &mut Events<'_, 2048>, &common::Wire) -> T,
) -> T {
    run_dialect(Quectel, script, chunk, Options::default(), body)
}

const CHUNKS: [usize; 3] = [1, 7, 64];

fn configured() -> Vec<Exchange> {
    configured_with(b"AT+QMTCFG=\"version\",0,4\r", b"AT+QMTCFG=\"will\",0,0\r")
}

/// `configure`'s settings with this version line and this will line.
fn configured_with(version: &[u8], will: &[u8]) -> Vec<Exchange> {
    vec![
        ex(version, OK),
        ex(b"AT+QMTCFG=\"keepalive\",0,60\r", OK),
        ex(b"AT+QMTCFG=\"session\",0,1\r", OK),
        ex(b"AT+QMTCFG=\"recv/mode\",0,0,1\r", OK),
        ex(will, OK),
    ]
}

/// A last will goes in `AT+QMTCFG="will"`, unescaped; one holding `"` is refused.
#[test]
fn last_will() {
    let will = mqtt_modem::Will {
        topic: "dev/1/status",
        payload: b"offline, \\gone",
        qos: Qos::AtLeastOnce,
        retain: true,
    };
    quectel(
        configured_with(
            b"AT+QMTCFG=\"version\",0,4\r",
            b"AT+QMTCFG=\"will\",0,1,1,1,\"dev/1/status\",\"offline, \\gone\"\r",
        ),
        64,
        async |m, _, w| {
            m.configure(&Config::new("h", 1883, "id").will(will))
                .await
                .unwrap();
            let quoted = mqtt_modem::Will {
                payload: b"say \"bye\"",
                ..will
            };
            let before = w.sent().len();
            assert_eq!(
                m.configure(&Config::new("h", 1883, "id").will(quoted))
                    .await,
                Err(Error::InvalidInput {
                    field: Field::WillMessage,
                    reason: Invalid::Quote
                })
            );
            assert_eq!(w.sent().len(), before);
        },
    );
}

#[test]
fn init_and_identify() {
    let id = quectel(
        vec![
            ex(b"AT\r", b"AT\r\r\nOK\r\n"),
            ex(b"ATE0\r", b"ATE0\r\r\nOK\r\n"),
            ex(b"AT+CMEE=1\r", OK),
            ex(b"AT+CFUN=1\r", OK),
            // The dialect's state query: no client open.
            ex(b"AT+QMTCONN?\r", OK),
            ex(b"AT+CGMI\r", b"\r\nQuectel\r\n\r\nOK\r\n"),
            ex(b"AT+CGMM\r", b"\r\nBG96\r\n\r\nOK\r\n"),
            ex(b"AT+CGMR\r", b"\r\nBG96MAR02A07M1G\r\n\r\nOK\r\n"),
        ],
        7,
        async |m, _, _| {
            m.init().await.unwrap();
            m.identify().await.unwrap()
        },
    );
    assert_eq!(
        (
            id.manufacturer.as_str(),
            id.model.as_str(),
            id.revision.as_str()
        ),
        ("Quectel", "BG96", "BG96MAR02A07M1G")
    );
}

/// The transcript: `AT+QMTOPEN` → `OK`, `+QMTOPEN: 0,0`; `AT+QMTCONN` → `OK`,
/// `+QMTCONN: 0,0,0`; each URC split anywhere.
#[test]
fn configure_open_connect() {
    for chunk in CHUNKS {
        let mut script = configured();
        script.extend([
            ex(
                b"AT+QMTOPEN=0,\"broker.emqx.io\",1883\r",
                b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n",
            ),
            ex(
                b"AT+QMTCONN=0,\"numodem01\",\"user\",\"p,w\"\r",
                b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
            ),
            ex(b"AT+QMTCONN?\r", b"\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n"),
        ]);
        quectel(script, chunk, async |m, _, _| {
            let config =
                Config::new("broker.emqx.io", 1883, "numodem01").credentials("user", "p,w");
            m.configure(&config).await.unwrap();
            m.connect().await.unwrap();
            assert_eq!(m.state().await, Ok(ConnectionState::Connected));
        });
    }
}

/// A result that fails, a CONNACK refusal, a client already open, and a result URC that
/// came before the `OK`.
#[test]
fn connect_results() {
    let mut script = configured();
    script.extend([
        ex(
            b"AT+QMTOPEN=0,\"h\",1883\r",
            b"\r\nOK\r\n\r\n+QMTOPEN: 0,-1\r\n",
        ),
        ex(
            b"AT+QMTOPEN=0,\"h\",1883\r",
            b"\r\nOK\r\n\r\n+QMTOPEN: 0,2\r\n",
        ),
        ex(
            b"AT+QMTCONN=0,\"id\"\r",
            b"\r\nOK\r\n\r\n+QMTCONN: 0,0,5\r\n",
        ),
        ex(
            b"AT+QMTOPEN=0,\"h\",1883\r",
            b"\r\n+QMTOPEN: 0,0\r\n\r\nOK\r\n",
        ),
        ex(b"AT+QMTCONN=0,\"id\"\r", b"\r\nOK\r\n\r\n+QMTCONN: 0,2\r\n"),
        ex(b"AT+QMTCONN?\r", OK),
    ]);
    quectel(script, 64, async |m, _, _| {
        m.configure(&Config::new("h", 1883, "id")).await.unwrap();
        let failed = |kind, detail| Err(Error::Module { kind, detail });
        // +QMTOPEN: 0,-1: the network was not opened.
        assert_eq!(
            m.connect().await,
            failed(ErrorKind::Link, Detail::Result(-1))
        );
        // +QMTCONN: 0,0,5: the broker refused (CONNACK 5).
        assert_eq!(
            m.connect().await,
            failed(ErrorKind::Broker, Detail::Connack(5))
        );
        // +QMTCONN: 0,2: the packet could not be sent.
        assert_eq!(
            m.connect().await,
            failed(ErrorKind::Link, Detail::Result(2))
        );
        assert_eq!(m.state().await, Ok(ConnectionState::Disconnected));
    });
}

/// `AT+QMTPUBEX`: `> ` (no `OK` before it), the raw payload, `OK`, `+QMTPUBEX: 0,<id>,0`.
/// QoS 0 has message id 0; QoS 1 counts from 1. A stale result URC of another message id is
/// not taken for this one.
#[test]
fn publish_through_the_prompt() {
    let payload = b"A\x1aB\"C,\r\n\0";
    for chunk in CHUNKS {
        quectel(
            vec![
                ex(b"AT+QMTPUBEX=0,0,0,0,\"data\",9\r", b"\r\n> "),
                ex(payload, b"\r\nOK\r\n\r\n+QMTPUBEX: 0,0,0\r\n"),
                ex(b"AT+QMTPUBEX=0,1,1,1,\"data\",9\r", b"\r\n> "),
                ex(
                    payload,
                    b"\r\nOK\r\n\r\n+QMTPUBEX: 0,7,0\r\n\r\n+QMTPUBEX: 0,1,2\r\n",
                ),
                ex(b"AT+QMTPUBEX=0,2,2,0,\"q/2\",2\r", b"\r\n> "),
                ex(b"q2", b"\r\nOK\r\n\r\n+QMTPUBEX: 0,2,0\r\n"),
            ],
            chunk,
            async |m, _, _| {
                m.publish("data", payload, Qos::AtMostOnce, false)
                    .await
                    .unwrap();
                assert_eq!(
                    m.publish("data", payload, Qos::AtLeastOnce, true).await,
                    Err(Error::Module {
                        kind: ErrorKind::Link,
                        detail: Detail::Result(2),
                    })
                );
                assert_eq!(m.stats().stale_responses, 1);
                m.publish("q/2", b"q2", Qos::ExactlyOnce, false)
                    .await
                    .unwrap();
            },
        );
    }
}

#[test]
fn subscribe_unsubscribe_disconnect() {
    quectel(
        vec![
            ex(
                b"AT+QMTSUB=0,1,\"test/#\",1\r",
                b"\r\nOK\r\n\r\n+QMTSUB: 0,1,0,1\r\n",
            ),
            ex(
                b"AT+QMTSUB=0,2,\"no/way\",2\r",
                b"\r\nOK\r\n\r\n+QMTSUB: 0,2,0,128\r\n",
            ),
            ex(
                b"AT+QMTUNS=0,3,\"test/#\"\r",
                b"\r\nOK\r\n\r\n+QMTUNS: 0,3,0\r\n",
            ),
            ex(b"AT+QMTDISC=0\r", b"\r\nOK\r\n\r\n+QMTDISC: 0,0\r\n"),
        ],
        7,
        async |m, _, _| {
            m.subscribe("test/#", Qos::AtLeastOnce).await.unwrap();
            assert_eq!(
                m.subscribe("no/way", Qos::ExactlyOnce).await,
                Err(Error::Module {
                    kind: ErrorKind::Broker,
                    detail: Detail::Result(128),
                })
            );
            m.unsubscribe("test/#").await.unwrap();
            m.disconnect().await.unwrap();
        },
    );
}

/// `+QMTRECV` with the length: the payload between quotes, holding quotes, commas and CR LF;
/// `+QMTSTAT` is link loss.
#[test]
fn incoming_messages_and_link_loss() {
    let payload = b"say \"hi\",\r\nOK\r\n";
    let mut reply = format!("\r\n+QMTRECV: 0,5,\"dev/cmd\",{},\"", payload.len()).into_bytes();
    reply.extend_from_slice(payload);
    reply.extend_from_slice(b"\"\r\n\r\n+QMTSTAT: 0,1\r\n\r\n+QMTCONN: 0,4\r\n\r\nOK\r\n");
    for chunk in CHUNKS {
        let (state, events, hint) = quectel(
            vec![ex(b"AT+QMTCONN?\r", &reply)],
            chunk,
            async |m, ev, _| {
                let state = m.state().await.unwrap();
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
                (state, out, m.take_link_hint())
            },
        );
        assert_eq!(state, ConnectionState::Disconnected);
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

/// Refused before a byte: `"` in any quoted string (Quectel has no escape), certificates,
/// keepalive over 3600 s, a host over 100 bytes.
#[test]
fn refused_before_a_byte() {
    quectel(vec![], 64, async |m, _, w| {
        assert_eq!(
            m.publish("a\"b", b"x", Qos::AtMostOnce, false).await,
            Err(Error::InvalidInput {
                field: Field::Topic,
                reason: Invalid::Quote
            })
        );
        assert_eq!(
            m.configure(&Config::new("h", 1, "id").credentials("u", "p\"w"))
                .await,
            Err(Error::InvalidInput {
                field: Field::Password,
                reason: Invalid::Quote
            })
        );
        assert_eq!(
            m.configure(&Config::new("h", 1, "id").keepalive(3601))
                .await,
            Err(Error::InvalidInput {
                field: Field::Keepalive,
                reason: Invalid::OutOfRange
            })
        );
        assert_eq!(
            m.configure(&Config::new(&"h".repeat(101), 1, "id")).await,
            Err(Error::InvalidInput {
                field: Field::Host,
                reason: Invalid::TooLong { max: 100 }
            })
        );
        for (tls, feature) in [
            (Tls::root_ca(CA).server_name("h"), Feature::ServerName),
            (Tls::root_ca(CA).alpn(&["mqtt"]), Feature::Alpn),
            // `seclevel` 2 verifies the server: a client certificate needs a CA.
            (
                Tls::unverified().client_cert(CERT, KEY),
                Feature::UnverifiedTls,
            ),
        ] {
            assert_eq!(m.set_tls(tls).await, Err(Error::Unsupported(feature)));
        }
        assert_eq!(
            m.set_tls(Tls::root_ca(&[b'A'; 10241])).await,
            Err(Error::InvalidInput {
                field: Field::Certificate,
                reason: Invalid::TooLong { max: 10240 }
            })
        );
        assert_eq!(
            m.configure(&Config::new("h", 1, "id").quoting(mqtt_modem::Quoting::Unquoted))
                .await,
            Err(Error::Unsupported(Feature::UnquotedStrings))
        );
        assert!(w.sent().is_empty());
    });
}

/// MQTT 3.1 is Quectel's `"version",0,3`.
#[test]
fn mqtt_3_1() {
    quectel(
        configured_with(b"AT+QMTCFG=\"version\",0,3\r", b"AT+QMTCFG=\"will\",0,0\r"),
        64,
        async |m, _, _| {
            m.configure(&Config::new("h", 1883, "id").mqtt_version(mqtt_modem::MqttVersion::V3_1))
                .await
                .unwrap();
        },
    );
}

/// `configure` on an open session is refused, after the module confirms it is connected, and
/// writes no `AT+QMTCFG` (Quectel would keep the open connection on its old settings).
#[test]
fn configure_while_connected_is_refused() {
    let mut script = configured();
    script.extend([
        ex(
            b"AT+QMTOPEN=0,\"h\",1883\r",
            b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n",
        ),
        ex(
            b"AT+QMTCONN=0,\"id\"\r",
            b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
        ),
        ex(b"AT+QMTCONN?\r", b"\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n"),
    ]);
    let refused = quectel(script, 7, async |m, _, _| {
        let config = Config::new("h", 1883, "id");
        m.configure(&config).await.unwrap();
        m.connect().await.unwrap();
        m.configure(&Config::new("other", 1883, "id")).await
    });
    assert_eq!(refused, Err(mqtt_modem::Error::StillConnected));
}

/// A result URC that comes before the next publish's `> ` is the late one of an earlier publish
/// (at QoS 0 every message id is 0, so its fields match this one's too): stale, not this
/// publish's result.
#[test]
fn a_late_result_before_the_prompt_is_not_this_publishs() {
    for chunk in CHUNKS {
        quectel(
            vec![
                ex(
                    b"AT+QMTPUBEX=0,0,0,0,\"t\",1\r",
                    b"\r\n+QMTPUBEX: 0,0,2\r\n\r\n> ",
                ),
                ex(b"x", b"\r\nOK\r\n\r\n+QMTPUBEX: 0,0,0\r\n"),
            ],
            chunk,
            async |m, _, _| {
                assert_eq!(m.publish("t", b"x", Qos::AtMostOnce, false).await, Ok(()));
                assert_eq!(m.stats().stale_responses, 1);
            },
        );
    }
}

const CA: &[u8] = b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT: &[u8] = b"-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----\n";
const KEY: &[u8] = b"-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";
// Their file names: the 32-bit FNV-1a fingerprint in hex, computed apart from the driver; and
// their `AT+QFUPL` checksums.
const CA_FILE: &str = "17519c79.pem";
const CERT_FILE: &str = "b40a16ff.pem";
const KEY_FILE: &str = "d7a23e17.pem";

fn line(text: String) -> Vec<u8> {
    text.into_bytes()
}

/// `AT+QFLST="<name>"` answered as by a module that does not hold the file.
fn not_listed(name: &str) -> Exchange {
    ex(
        &line(format!("AT+QFLST=\"{name}\"\r")),
        b"\r\n+CME ERROR: 405\r\n",
    )
}

/// `AT+QFLST="<name>"` answered as by a module that holds it with `size` bytes (`UFS:` or not).
fn listed(name: &str, size: usize, ufs: bool) -> Exchange {
    let shown = if ufs {
        format!("UFS:{name}")
    } else {
        name.to_owned()
    };
    ex(
        &line(format!("AT+QFLST=\"{name}\"\r")),
        &line(format!("\r\n+QFLST: \"{shown}\",{size}\r\n\r\nOK\r\n")),
    )
}

/// Writing `<hex>.pem` afresh: its commit marker `<hex>.ok` and the file deleted (absent: a
/// `+CME ERROR` that is no failure), the file through `CONNECT` with its checksum, then the
/// marker (one byte, `1`: checksum `3100`).
fn fresh_upload(hex: &str, pem: &[u8], checksum: &str) -> Vec<Exchange> {
    vec![
        ex(
            &line(format!("AT+QFDEL=\"{hex}.ok\"\r")),
            b"\r\n+CME ERROR: 405\r\n",
        ),
        ex(&line(format!("AT+QFDEL=\"{hex}.pem\"\r")), OK),
        ex(
            &line(format!("AT+QFUPL=\"{hex}.pem\",{},60\r", pem.len())),
            b"\r\nCONNECT\r\n",
        ),
        ex(
            pem,
            &line(format!(
                "\r\n+QFUPL: {},{checksum}\r\n\r\nOK\r\n",
                pem.len()
            )),
        ),
        ex(
            &line(format!("AT+QFUPL=\"{hex}.ok\",1,60\r")),
            b"\r\nCONNECT\r\n",
        ),
        ex(b"1", b"\r\n+QFUPL: 1,3100\r\n\r\nOK\r\n"),
    ]
}

/// TLS with a client certificate: the CA has no commit marker (`+CME ERROR`), so it goes up
/// through `CONNECT`, then its marker; the certificate is stored and marked (listed with
/// `UFS:`), reused; the key is marked but stored with another size, written again; then SSL
/// context 0 and the client. An `ERROR` to `"sni"` (older firmware) is no failure.
#[test]
fn tls_files_uploaded_once_and_context_bound() {
    let tls = Tls::root_ca(CA).client_cert(CERT, KEY);
    let mut script = vec![not_listed("17519c79.ok")];
    script.extend(fresh_upload("17519c79", CA, "3b3b"));
    script.extend([
        listed("b40a16ff.ok", 1, true),
        listed(CERT_FILE, 57, true),
        listed("d7a23e17.ok", 1, false),
        listed(KEY_FILE, 12, false),
    ]);
    script.extend(fresh_upload("d7a23e17", KEY, "4256"));
    script.extend([
        ex(b"AT+QSSLCFG=\"sslversion\",0,4\r", OK),
        ex(b"AT+QSSLCFG=\"ciphersuite\",0,0XFFFF\r", OK),
        ex(b"AT+QSSLCFG=\"seclevel\",0,2\r", OK),
        ex(
            &line(format!("AT+QSSLCFG=\"cacert\",0,\"{CA_FILE}\"\r")),
            OK,
        ),
        ex(
            &line(format!("AT+QSSLCFG=\"clientcert\",0,\"{CERT_FILE}\"\r")),
            OK,
        ),
        ex(
            &line(format!("AT+QSSLCFG=\"clientkey\",0,\"{KEY_FILE}\"\r")),
            OK,
        ),
        ex(b"AT+QSSLCFG=\"sni\",0,1\r", b"\r\nERROR\r\n"),
        ex(b"AT+QMTCFG=\"ssl\",0,1,0\r", OK),
    ]);
    for chunk in CHUNKS {
        quectel(script.clone(), chunk, async |m, _, _| {
            m.set_tls(tls).await.unwrap()
        });
    }
}

/// TLS without verification (`seclevel` 0, no files), a checksum printed without leading
/// zeros (`21c`, as modules print it), a marker listed without its file (written again),
/// `upload_always` (no listing), and off.
#[test]
fn tls_unverified_short_checksum_upload_always_and_off() {
    let ctx = |level: u8| {
        vec![
            ex(b"AT+QSSLCFG=\"sslversion\",0,4\r", OK),
            ex(b"AT+QSSLCFG=\"ciphersuite\",0,0XFFFF\r", OK),
            ex(&line(format!("AT+QSSLCFG=\"seclevel\",0,{level}\r")), OK),
        ]
    };
    let bound = || {
        vec![
            ex(b"AT+QSSLCFG=\"cacert\",0,\"717bac1b.pem\"\r", OK),
            ex(b"AT+QSSLCFG=\"sni\",0,1\r", OK),
            ex(b"AT+QMTCFG=\"ssl\",0,1,0\r", OK),
        ]
    };
    let mut script = ctx(0);
    script.extend([
        ex(b"AT+QSSLCFG=\"sni\",0,1\r", OK),
        ex(b"AT+QMTCFG=\"ssl\",0,1,0\r", OK),
        // The bytes 0x02 0x1c: checksum 0x021c. Not listed: a bare `OK`.
        ex(b"AT+QFLST=\"717bac1b.ok\"\r", OK),
    ]);
    script.extend(fresh_upload("717bac1b", b"\x02\x1c", "21c"));
    script.extend(ctx(1));
    script.extend(bound());
    script.extend([
        listed("717bac1b.ok", 1, false),
        ex(b"AT+QFLST=\"717bac1b.pem\"\r", OK),
    ]);
    script.extend(fresh_upload("717bac1b", b"\x02\x1c", "21c"));
    script.extend(ctx(1));
    script.extend(bound());
    script.extend(fresh_upload("717bac1b", b"\x02\x1c", "21c"));
    script.extend(ctx(1));
    script.extend(bound());
    script.push(ex(b"AT+QMTCFG=\"ssl\",0,0\r", OK));
    quectel(script, 7, async |m, _, _| {
        m.set_tls(Tls::unverified()).await.unwrap();
        for tls in [
            Tls::root_ca(b"\x02\x1c"),
            Tls::root_ca(b"\x02\x1c"),
            Tls::root_ca(b"\x02\x1c").upload_always(),
            Tls::off(),
        ] {
            m.set_tls(tls).await.unwrap();
        }
    });
}

/// A corrupted upload (the module's checksum is not the data's) is deleted and reported, and
/// no marker is written; an `ERROR` instead of `CONNECT` fails the call without writing the
/// data.
#[test]
fn tls_corrupted_or_refused_upload() {
    let mut script = vec![not_listed("17519c79.ok")];
    let mut corrupted = fresh_upload("17519c79", CA, "3b3a");
    corrupted.truncate(4);
    script.extend(corrupted);
    script.push(ex(&line(format!("AT+QFDEL=\"{CA_FILE}\"\r")), OK));
    script.push(not_listed("17519c79.ok"));
    let mut refused = fresh_upload("17519c79", CA, "3b3b");
    refused.truncate(3);
    refused[2].reply = b"\r\n+CME ERROR: 407\r\n".to_vec();
    script.extend(refused);
    quectel(script, 7, async |m, _, w| {
        assert_eq!(m.set_tls(Tls::root_ca(CA)).await, Err(Error::Protocol));
        let err = m.set_tls(Tls::root_ca(CA)).await.unwrap_err();
        assert_eq!(
            err,
            Error::Module {
                kind: ErrorKind::Modem,
                detail: Detail::Cme(407)
            }
        );
        assert!(!w.sent().ends_with(CA));
    });
}

/// The `Debug` of a file upload shows the data's length only (it may be a key).
#[test]
fn upload_debug_is_redacted() {
    let up = mqtt_modem::dialect::quectel::commands::Upload {
        name: b"d7a23e17.pem",
        data: KEY,
    };
    let shown = format!("{up:?}");
    assert!(
        shown.contains("<redacted, 61 bytes>")
            && !shown.contains("SECRET")
            && !shown.contains("83, 69"),
        "{shown}"
    );
}

/// `+QFUPL: <size>,<checksum>` read strictly: hex of one to four digits, any case, nothing
/// after it; anything else is a parse error (the upload then fails, `Error::Protocol`).
#[test]
fn upload_answer_parsed_strictly() {
    use atat::AtatCmd;
    let cmd = mqtt_modem::dialect::quectel::commands::Upload {
        name: b"x.pem",
        data: b"ab",
    };
    let parse = |answer: &[u8]| cmd.parse(Ok(answer)).map(|u| (u.size, u.checksum));
    assert_eq!(parse(b"+QFUPL: 1221,21c"), Ok((1221, 0x21c)));
    assert_eq!(parse(b"+QFUPL: 2,FFFF"), Ok((2, 0xffff)));
    assert_eq!(parse(b"+QFUPL: 2,0"), Ok((2, 0)));
    for bad in [
        &b"+QFUPL: 2,"[..],
        b"+QFUPL: 2,12345",
        b"+QFUPL: 2,21c,1",
        b"+QFUPL: 2,2g",
        b"+QFUPL: ,21c",
        b"+QFUPL: 2",
        b"",
    ] {
        assert!(parse(bad).is_err(), "{}", bad.escape_ascii());
    }
}
