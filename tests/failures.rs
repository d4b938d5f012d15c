//! Failing paths through the client: every MQTT code, every error form, quirks of timing, a
//! full event queue, oversized answers, and input refused before a byte is written.

mod common;

use common::{ex, run, run_with};
use mqtt_modem::{
    Config, ConnectionState, Detail, Error, ErrorKind, Event, Field, Invalid, Message, MqttCode,
    Options, Qos, Quoting, Tls,
};

#[test]
fn every_mqtt_code_on_connect_is_an_error_whatever_the_final_line() {
    for code in 1u16..=12 {
        for fin in ["OK", "ERROR"] {
            let reply = format!("\r\n+MQTTCONNECT:{code}\r\n\r\n{fin}\r\n");
            let err = run(
                vec![ex(b"AT+MQTTCONNECT\r", reply.as_bytes())],
                64,
                async |m, _, _| m.connect().await.unwrap_err(),
            );
            let expected = MqttCode::from_wire(code).unwrap();
            // The UC8088's table (docs/DIALECTS.md, "Errors").
            let kind = match code {
                5 | 8 | 10 => ErrorKind::Link,
                9 => ErrorKind::Broker,
                3 => ErrorKind::Input,
                _ => ErrorKind::Modem,
            };
            let detail = Detail::Result(i16::try_from(code).unwrap());
            assert_eq!(
                err,
                Error::Module { kind, detail },
                "code {code} then {fin}"
            );
            assert_eq!(err.kind(), kind);
            assert_eq!(expected.value(), code);
        }
    }
    assert_eq!(MqttCode::from_wire(12), Some(MqttCode::Other(12)));
    assert_eq!(MqttCode::from_wire(9), Some(MqttCode::ServerRefused));
}

#[test]
fn unknown_code_is_preserved() {
    let err = run(
        vec![ex(
            b"AT+MQTTCONNECT\r",
            b"\r\n+MQTTCONNECT:4242\r\n\r\nERROR\r\n",
        )],
        64,
        async |m, _, _| m.connect().await.unwrap_err(),
    );
    assert_eq!(
        err,
        Error::Module {
            kind: ErrorKind::Modem,
            detail: Detail::Result(4242),
        }
    );
    assert_eq!(MqttCode::from_wire(4242), Some(MqttCode::Other(4242)));
}

#[test]
fn publish_code_10_is_link_lost() {
    let err = run(
        vec![ex(
            b"AT+MQTTPUB=\"t\",1,0,\"x\"\r",
            b"\r\n+MQTTPUB:10\r\n\r\nERROR\r\n",
        )],
        64,
        async |m, _, _| {
            m.publish("t", b"x", Qos::AtLeastOnce, false)
                .await
                .unwrap_err()
        },
    );
    assert_eq!(
        err,
        Error::Module {
            kind: ErrorKind::Link,
            detail: Detail::Result(10),
        }
    );
    assert_eq!(err.kind(), ErrorKind::Link);
    assert_eq!(MqttCode::from_wire(10), Some(MqttCode::RetryNoResponse));
}

#[test]
fn subscribe_refused_code_9() {
    let err = run(
        vec![ex(
            b"AT+MQTTSUB=\"t\",2\r",
            b"\r\n+MQTTSUB:9\r\n\r\nERROR\r\n",
        )],
        64,
        async |m, _, _| m.subscribe("t", Qos::ExactlyOnce).await.unwrap_err(),
    );
    assert_eq!(
        err,
        Error::Module {
            kind: ErrorKind::Broker,
            detail: Detail::Result(9),
        }
    );
}

/// A failure the UC8088 reports without a code: the modem's.
fn modem(detail: Detail) -> Error {
    Error::Module {
        kind: ErrorKind::Modem,
        detail,
    }
}

#[test]
fn error_forms() {
    let cases: [(&[u8], Error); 5] = [
        (b"\r\nERROR\r\n", modem(Detail::Error)),
        (b"\r\n+CME ERROR: 50\r\n", modem(Detail::Cme(50))),
        (
            b"\r\n+CME ERROR: operation not allowed\r\n",
            // The text cut to its first 16 bytes.
            modem(Detail::CmeText("operation not al".try_into().unwrap())),
        ),
        (b"\r\n+EXT ERROR: 3\r\n", modem(Detail::Ext(3))),
        (
            b"\r\n+MQTTDISCONNECT:5\r\n\r\nOK\r\n",
            Error::Module {
                kind: ErrorKind::Link,
                detail: Detail::Result(5),
            },
        ),
    ];
    for (reply, expected) in cases {
        let err = run(
            vec![ex(b"AT+MQTTDISCONNECT\r", reply)],
            64,
            async |m, _, _| m.disconnect().await.unwrap_err(),
        );
        assert_eq!(err, expected);
    }
}

#[test]
fn state_bare_ok_is_an_error_not_a_state() {
    // The manual's STATE example shows a bare OK; treated as an error.
    let err = run(
        vec![ex(b"AT+MQTTSTATE\r", b"\r\nOK\r\n")],
        64,
        async |m, _, _| m.state().await.unwrap_err(),
    );
    assert_eq!(err, Error::Protocol);
    let err = run(
        vec![ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:7\r\n\r\nOK\r\n")],
        64,
        async |m, _, _| m.state().await.unwrap_err(),
    );
    assert_eq!(err, Error::Protocol);
}

#[test]
fn cfun_reply_is_not_taken_for_mqttstate() {
    // `+CFUN: 1` is unsolicited here; the answer is the `+MQTTSTATE:0` line.
    let (state, ev) = run(
        vec![ex(
            b"AT+MQTTSTATE\r",
            b"\r\n+CFUN: 1\r\n\r\n+MQTTSTATE:0\r\n\r\nOK\r\n",
        )],
        64,
        async |m, ev, _| {
            let s = m.state().await.unwrap();
            let mut buf = [0u8; 64];
            let e = format!("{:?}", common::next_event(ev, &mut buf).await);
            (s, e)
        },
    );
    assert_eq!(state, ConnectionState::Disconnected);
    assert_eq!(ev, format!("{:?}", Event::Unrecognised(b"+CFUN: 1")));
}

#[test]
fn urc_between_info_line_and_ok_loses_neither() {
    let (state, msg) = run(
        vec![ex(
            b"AT+MQTTSTATE\r",
            b"\r\n+MQTTSTATE:1\r\n\r\n+MQTTRECV:\"dev/cmd\",13,{\"a\":\"b,c\"}\r\n\r\n\r\nOK\r\n",
        )],
        1,
        async |m, ev, _| {
            let s = m.state().await.unwrap();
            let mut buf = [0u8; 64];
            let e = match common::next_event(ev, &mut buf).await {
                Event::Message(Message { topic, payload }) => (topic.to_owned(), payload.to_vec()),
                other => panic!("{other:?}"),
            };
            (s, e)
        },
    );
    assert_eq!(state, ConnectionState::Connected);
    assert_eq!(msg, ("dev/cmd".to_owned(), b"{\"a\":\"b,c\"}\r\n".to_vec()));
}

#[test]
fn incoming_message_split_across_many_reads_with_ok_inside_payload() {
    let payload = b"x\r\nOK\r\n,\"q\"";
    let mut urc = format!("\r\n+MQTTRECV:\"a/\\\"b\\\"\",{},", payload.len()).into_bytes();
    urc.extend_from_slice(payload);
    urc.extend_from_slice(b"\r\n");
    let got = run(vec![], 1, async |_, ev, w| {
        w.inject(&urc);
        let mut buf = [0u8; 64];
        match common::next_event(ev, &mut buf).await {
            Event::Message(m) => (m.topic.to_owned(), m.payload.to_vec()),
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(got, ("a/\"b\"".to_owned(), payload.to_vec()));
}

#[test]
fn unsolicited_state_and_unknown_mqtt_lines_reach_the_app() {
    let got = run(vec![], 5, async |_, ev, w| {
        w.inject(b"\r\n+MQTTSTATE:0\r\n\r\n+MQTTFOO:1,2\r\n\r\nRDY\r\n\r\n+MQTTDISCONNECTED\r\n");
        let mut buf = [0u8; 64];
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(format!("{:?}", common::next_event(ev, &mut buf).await));
        }
        out
    });
    assert_eq!(
        got,
        [
            format!("{:?}", Event::StateChanged(ConnectionState::Disconnected)),
            format!("{:?}", Event::Unrecognised(b"+MQTTFOO:1,2")),
            format!("{:?}", Event::Restarted),
            format!("{:?}", Event::Disconnected),
        ]
    );
}

#[test]
fn late_response_is_never_taken_for_the_next_command() {
    let (first, second, stats) = run(
        vec![
            ex(b"AT+MQTTSTATE\r", b""),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, w| {
            let first = m.state().await;
            // The first command's answer arrives after its deadline.
            w.inject(b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n");
            let second = m.state().await;
            (first, second, m.stats())
        },
    );
    assert_eq!(first, Err(Error::Timeout));
    assert_eq!(second, Ok(ConnectionState::Disconnected));
    assert_eq!(stats.stale_responses, 1);
}

#[test]
fn dropped_future_mid_command_leaves_the_driver_consistent() {
    let got = run(
        vec![
            ex(b"AT+MQTTPUB=\"t\",0,0,\"one\"\r", b""),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, w| {
            // Cancel the publish while it waits for its answer.
            let publish = m.publish("t", b"one", Qos::AtMostOnce, false);
            let timeout = embassy_time::Timer::after_millis(20);
            match embassy_futures::select::select(publish, timeout).await {
                embassy_futures::select::Either::First(r) => panic!("publish finished: {r:?}"),
                embassy_futures::select::Either::Second(()) => {}
            }
            // Its OK arrives late, after the future was dropped.
            w.inject(b"\r\nOK\r\n");
            m.state().await
        },
    );
    assert_eq!(got, Ok(ConnectionState::Connected));
}

#[test]
fn full_event_queue_never_stalls_commands_and_drops_are_reported() {
    let (stats, events) = run(
        vec![
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, ev, w| {
            // 100 messages of ~110 bytes into a 2 KiB queue nobody reads.
            let body = [b'p'; 100];
            for i in 0..100 {
                let mut urc = format!("\r\n+MQTTRECV:\"t/{i}\",100,").into_bytes();
                urc.extend_from_slice(&body);
                urc.extend_from_slice(b"\r\n");
                w.inject(&urc);
            }
            assert_eq!(m.state().await, Ok(ConnectionState::Connected));
            let stats = m.stats();
            // Drain what was queued, then one more message brings the loss report.
            let mut buf = [0u8; 256];
            let mut n = 0;
            while stats.dropped_queue_full > 0 && n < 100 {
                match common::next_event(ev, &mut buf).await {
                    Event::Message(_) => n += 1,
                    other => panic!("{other:?}"),
                }
                if n + stats.dropped_queue_full as usize == 100 {
                    break;
                }
            }
            w.inject(b"\r\n+MQTTRECV:\"last\",1,z\r\n");
            assert_eq!(m.state().await, Ok(ConnectionState::Connected));
            let a = format!("{:?}", common::next_event(ev, &mut buf).await);
            let b = format!("{:?}", common::next_event(ev, &mut buf).await);
            (stats, vec![a, b])
        },
    );
    // Each queued message takes a 5-byte frame header, its topic and its 100 bytes: 10 of 108
    // (`t/0`..`t/9`) and 8 of 109 fill 1952 of the 2048 bytes; the other 82 are dropped.
    assert_eq!(stats.dropped_queue_full, 82, "{stats:?}");
    assert_eq!(
        events,
        [
            format!(
                "{:?}",
                Event::Dropped {
                    count: stats.dropped_queue_full
                }
            ),
            format!(
                "{:?}",
                Event::Message(Message {
                    topic: "last",
                    payload: b"z"
                })
            ),
        ]
    );
}

#[test]
fn event_larger_than_app_buffer_is_reported() {
    let got = run(vec![], 64, async |_, ev, w| {
        w.inject(b"\r\n+MQTTRECV:\"t\",10,0123456789\r\n");
        let mut small = [0u8; 4];
        format!("{:?}", common::next_event(ev, &mut small).await)
    });
    assert_eq!(got, format!("{:?}", Event::TooLargeForBuffer { len: 11 }));
}

#[test]
fn response_larger_than_slot_is_an_error() {
    let mut reply = Vec::new();
    for i in 0..40 {
        reply.extend_from_slice(format!("\r\n+MQTTSUB:\"some/long/topic/{i}\",1\r\n").as_bytes());
    }
    reply.extend_from_slice(b"\r\nOK\r\n");
    let err = run(vec![ex(b"AT+MQTTSUB?\r", &reply)], 16, async |m, _, _| {
        m.subscriptions::<64, 64>().await.unwrap_err()
    });
    assert_eq!(err, Error::ResponseTooLarge);
}

#[test]
fn garbage_between_answers_is_ignored_and_inside_one_fails_it_typed() {
    let got = run(
        vec![
            ex(
                b"AT+MQTTSTATE\r",
                b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n\xff\xfe\x00junk\r\n",
            ),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n~~\r\n\r\nOK\r\n"),
            // A garbled line may have been one of the answer's: a list would come back short.
            ex(
                b"AT+MQTTSUB?\r",
                b"\r\n+MQTTSUB:\"a\",1\r\n+MQTTSVB:\"b\",1\r\n\r\nOK\r\n",
            ),
            // A code-carrying command whose code line arrived intact is still trusted.
            ex(
                b"AT+MQTTCONNECT\r",
                b"\r\n+MQTTCONNECT:0\r\nx~x\r\n\r\nOK\r\n",
            ),
        ],
        3,
        async |m, _, _| {
            let first = m.state().await;
            let second = m.state().await;
            let subs = m.subscriptions::<4, 16>().await.map(|s| s.len());
            let connect = m.connect().await;
            (first, m.stats().discarded_bytes, second, subs, connect)
        },
    );
    assert_eq!(got.0, Ok(ConnectionState::Connected));
    // The noise lines, without their line ends: `\xff\xfe\x00junk` (7), `~~` (2), `x~x` (3).
    assert_eq!(got.1, 12);
    assert_eq!(got.2, Err(Error::Protocol));
    assert_eq!(got.3, Err(Error::Protocol));
    assert_eq!(got.4, Ok(()));
}

#[test]
fn silent_modem_times_out_within_deadline() {
    let opts = Options::default();
    let (err, elapsed) = run_with(vec![ex(b"AT\r", b"")], 64, opts, async |m, _, _| {
        let t = std::time::Instant::now();
        let e = m.send(&mqtt_modem::dialect::basic::At).await.unwrap_err();
        (e, t.elapsed())
    });
    assert_eq!(err, Error::Timeout);
    // The deadline of AT is 300 ms: not given up early, and not waited much past (1 s of slack
    // for a loaded machine; a deadline that never fired would hang on the scripted silence).
    assert!(
        elapsed >= std::time::Duration::from_millis(300)
            && elapsed < std::time::Duration::from_millis(1300),
        "{elapsed:?}"
    );
}

/// Refused input writes nothing at all.
#[test]
fn invalid_input_is_refused_before_any_byte() {
    let results = run(vec![], 64, async |m, _, w| {
        let mut r = vec![
            m.publish("", b"x", Qos::AtMostOnce, false).await,
            m.publish("a/+", b"x", Qos::AtMostOnce, false).await,
            m.publish("a/#", b"x", Qos::AtMostOnce, false).await,
            m.publish("a\rAT+MQTTDISCONNECT", b"x", Qos::AtMostOnce, false)
                .await,
            m.publish("t", b"x\r\nAT+MQTTDISCONNECT\r", Qos::AtMostOnce, false)
                .await,
            m.publish("t", b"nul\0", Qos::AtMostOnce, false).await,
            m.publish("t", &[b'x'; 5000], Qos::AtMostOnce, false).await,
            m.subscribe("a/b#", Qos::AtMostOnce).await,
            m.subscribe("a/#/b", Qos::AtMostOnce).await,
            m.subscribe("a+/b", Qos::AtMostOnce).await,
            m.unsubscribe("").await,
            m.configure(&Config::new("", 1883, "id")).await,
            m.configure(&Config::new("h", 0, "id")).await,
            m.configure(&Config::new("h", 1883, "")).await,
            m.configure(&Config::new("h", 1883, "id").keepalive(0))
                .await,
            m.configure(&Config::new("h", 1883, "id").credentials("u\n", "p"))
                .await,
            m.configure(
                &Config::new("h", 1883, "id")
                    .credentials("u", "a,b")
                    .quoting(Quoting::Unquoted),
            )
            .await,
            m.configure(&Config::new("h\"", 1883, "id").quoting(Quoting::Unquoted))
                .await,
            m.set_tls(Tls::root_ca(&[b'A'; 1537])).await,
            m.set_tls(Tls::root_ca(b"CA").client_cert(b"C", b"")).await,
            m.set_tls(Tls::root_ca(b"a\0b")).await,
        ];
        r.push(Qos::try_from(3u8).map(drop));
        assert!(w.sent().is_empty(), "bytes were written: {:?}", w.sent());
        r
    });
    let expected = expected_refusals();
    assert_eq!(results.len(), expected.len());
    for (got, (field, reason)) in results.into_iter().zip(expected) {
        assert_eq!(got, Err(Error::InvalidInput { field, reason }));
    }
}

fn expected_refusals() -> Vec<(Field, Invalid)> {
    use Field::*;
    use Invalid::*;
    vec![
        (Topic, Empty),
        (Topic, Wildcard),
        (Topic, Wildcard),
        (Topic, LineBreakOrNul),
        (Payload, LineBreakOrNul),
        (Payload, LineBreakOrNul),
        (Payload, TooLong { max: 4096 }),
        (TopicFilter, MisplacedWildcard),
        (TopicFilter, MisplacedWildcard),
        (TopicFilter, MisplacedWildcard),
        (TopicFilter, Empty),
        (Host, Empty),
        (Port, OutOfRange),
        (ClientId, Empty),
        (Keepalive, OutOfRange),
        (Username, LineBreakOrNul),
        (Password, NeedsQuoting),
        (Host, NeedsQuoting),
        (Certificate, TooLong { max: 1536 }),
        (Certificate, Empty),
        (Certificate, LineBreakOrNul),
        (Qos, OutOfRange),
    ]
}

#[test]
fn debug_never_shows_secrets() {
    let cfg = Config::new("h", 1883, "id").credentials("user", "hunter2-secret");
    let shown = format!("{cfg:?} {cfg:#?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("user"));
    let key = b"-----BEGIN PRIVATE KEY-----\nSECRETKEY\n";
    let shown = format!("{:?}", Tls::root_ca(b"CA").client_cert(b"C", key));
    assert!(
        shown.contains("key: Some(<redacted, 38 bytes>)") && !shown.contains("SECRET"),
        "{shown}"
    );
    assert_eq!(format!("{:?}", Tls::off()), "Tls::off");
    let cmd = mqtt_modem::dialect::uc8088::commands::SetTls::upload(
        mqtt_modem::dialect::uc8088::types::CertKind::ClientKey,
        key,
        mqtt_modem::CertEncoding::EscapedNewlines,
    )
    .unwrap();
    let shown = format!("{cmd:?}");
    assert!(
        !shown.contains("SECRET") && !shown.contains("83, 69, 67"),
        "{shown}"
    );
}

/// Noise turned a message's length `5` into `500`: its "payload" would hold back every later
/// answer. The command times out, and the next one starts fresh and gets its own answer.
#[test]
fn message_length_changed_by_noise_does_not_hold_the_line_for_good() {
    let got = run(
        vec![
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, w| {
            w.inject(b"\r\n+MQTTRECV:\"t\",500,hello\r\n");
            let first = m.state().await;
            let second = m.state().await;
            (first, second, m.stats().discarded_bytes)
        },
    );
    assert_eq!(got.0, Err(Error::Timeout));
    assert_eq!(got.1, Ok(ConnectionState::Disconnected));
    // The broken message (27 bytes) and the answer held behind it (22), dropped together.
    assert_eq!(got.2, 27 + 22);
}

/// The UC8088 has no last will: a config with one is refused before a byte is written.
#[test]
fn uc8088_refuses_a_last_will() {
    let will = mqtt_modem::Will {
        topic: "dev/status",
        payload: b"offline",
        qos: Qos::AtMostOnce,
        retain: false,
    };
    let (r, sent) = run(vec![], 64, async |m, _, w| {
        (
            m.configure(&Config::new("h", 1883, "id").will(will)).await,
            w.sent(),
        )
    });
    assert_eq!(r, Err(Error::Unsupported(mqtt_modem::Feature::LastWill)));
    assert!(sent.is_empty());
}

/// The UC8088 is not known to speak MQTT 3.1: refused before a byte is written.
#[test]
fn uc8088_refuses_mqtt_3_1() {
    let (r, sent) = run(vec![], 64, async |m, _, w| {
        let config = Config::new("h", 1883, "id").mqtt_version(mqtt_modem::MqttVersion::V3_1);
        (m.configure(&config).await, w.sent())
    });
    assert_eq!(r, Err(Error::Unsupported(mqtt_modem::Feature::Mqtt31)));
    assert!(sent.is_empty());
}

/// Every length limit takes exactly its maximum and refuses one byte more; a bare field with a
/// blank at one end only is refused as it is at both (the modem may trim either).
#[test]
fn limits_are_inclusive_and_a_blank_at_either_end_needs_quoting() {
    use mqtt_modem::dialect::uc8088::commands::{Publish, SetConfig, Subscribe};
    use mqtt_modem::{Field, Invalid, Quoting};
    let at = |n: usize| "a".repeat(n);
    let config = |host: &str, id: &str, user: &str, pass: &str, quoting| {
        SetConfig::new(
            &Config::new(host, 1883, id)
                .credentials(user, pass)
                .quoting(quoting),
        )
        .map(drop)
    };
    let refused = |field, reason| Err(Error::InvalidInput { field, reason });
    let q = Quoting::Quoted;
    assert_eq!(config(&at(253), "i", "", "", q), Ok(()));
    assert_eq!(
        config(&at(254), "i", "", "", q),
        refused(Field::Host, Invalid::TooLong { max: 253 })
    );
    assert_eq!(config("h", &at(128), "", "", q), Ok(()));
    assert_eq!(
        config("h", &at(129), "", "", q),
        refused(Field::ClientId, Invalid::TooLong { max: 128 })
    );
    assert_eq!(config("h", "i", &at(256), &at(256), q), Ok(()));
    assert_eq!(
        config("h", "i", &at(257), "", q),
        refused(Field::Username, Invalid::TooLong { max: 256 })
    );
    assert_eq!(
        config("h", "i", "", &at(257), q),
        refused(Field::Password, Invalid::TooLong { max: 256 })
    );
    assert_eq!(Subscribe::new(&at(256), Qos::AtMostOnce).map(drop), Ok(()));
    assert_eq!(
        Subscribe::new(&at(257), Qos::AtMostOnce).map(drop),
        refused(Field::TopicFilter, Invalid::TooLong { max: 256 })
    );
    let payload = vec![b'p'; 4096];
    assert_eq!(
        Publish::new(&at(256), &payload, Qos::AtMostOnce, false).map(drop),
        Ok(())
    );
    assert_eq!(
        Publish::new("t", &[b'p'; 4097], Qos::AtMostOnce, false).map(drop),
        refused(Field::Payload, Invalid::TooLong { max: 4096 })
    );
    let bare = Quoting::Unquoted;
    assert_eq!(config("h", "i", "u", "p w", bare), Ok(()));
    for blank in [" pw", "pw ", "\tpw", "pw\t"] {
        assert_eq!(
            config("h", "i", "u", blank, bare),
            refused(Field::Password, Invalid::NeedsQuoting),
            "{blank:?}"
        );
    }
    assert_eq!(
        config("h", "i", " u", "p", bare),
        refused(Field::Username, Invalid::NeedsQuoting)
    );
}

/// A write that fails halfway through a command line: once the UART works again, the next
/// command first ends the half line with CR (its answer is stale) instead of gluing its own
/// line onto it.
#[test]
fn a_line_cut_by_a_failed_write_is_ended_before_the_next_command() {
    let got = run(
        vec![
            ex(b"AT+MQ\r", b"\r\nERROR\r\n"),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, w| {
            w.fail_writes_at(5);
            let cut = m.state().await.map_err(|e| e.kind());
            w.revive();
            (cut, m.state().await)
        },
    );
    assert_eq!(got, (Err(ErrorKind::Io), Ok(ConnectionState::Connected)));
}

/// A write that fails in a prompted command's raw data: the next command first gives the
/// modem the bytes it still counts (zeros), so that it leaves data mode.
#[test]
fn data_cut_by_a_failed_write_is_padded_before_the_next_command() {
    let line = b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n";
    let got = esp_publish_cut_then_state(
        vec![
            ex(line, b"\r\nOK\r\n\r\n>"),
            ex(b"hel\0\0\0\0\0", b"\r\n+MQTTPUB:FAIL\r\n"),
            ex(b"AT+MQTTCONN?\r\n", b"\r\nOK\r\n"),
        ],
        |w| w.fail_writes_at(line.len() + 3),
    );
    assert_eq!(got, (Err(ErrorKind::Io), Ok(ConnectionState::Disconnected)));
}

/// A prompted command whose line went out whole but whose flush failed: the modem took it and
/// counts the data, so the next command first ends the line (the CR is one byte of that data)
/// and pads the data with zeros, instead of giving its own line as the data.
#[test]
fn a_prompted_line_whose_flush_failed_leaves_the_data_owed() {
    let line = b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n";
    let got = esp_publish_cut_then_state(
        vec![
            ex(line, b"\r\nOK\r\n\r\n>"),
            ex(b"\r", b""),
            ex(b"\0\0\0\0\0", b"\r\n+MQTTPUB:OK\r\n"),
            ex(b"AT+MQTTCONN?\r\n", b"\r\nOK\r\n"),
        ],
        |w| w.fail_flushes(),
    );
    assert_eq!(got, (Err(ErrorKind::Io), Ok(ConnectionState::Disconnected)));
}

/// A certificate upload cut in its data after Quectel's `CONNECT` prompt line: the call says
/// I/O, and the next command first gives the module the rest of the file (zeros), so that it
/// leaves data mode, instead of storing the next command's line in the file. The file the
/// module now holds has the right name and size but zeros in it: with no commit marker
/// written, the next `set_tls` writes it again instead of reusing it.
#[test]
fn a_file_upload_cut_after_connect_is_padded_and_not_reused() {
    let ok: &[u8] = b"\r\nOK\r\n";
    let list = b"AT+QFLST=\"f9808ff2.ok\"\r";
    let deletes: [&[u8]; 2] = [
        b"AT+QFDEL=\"f9808ff2.ok\"\r",
        b"AT+QFDEL=\"f9808ff2.pem\"\r",
    ];
    let upload = b"AT+QFUPL=\"f9808ff2.pem\",10,60\r";
    let mut script = vec![
        ex(list, ok),
        ex(deletes[0], ok),
        ex(deletes[1], ok),
        ex(upload, b"\r\nCONNECT\r\n"),
        // The driver cannot know how much of the failed write went out: it pads all ten
        // (the module counts six of them; the rest, in command mode, it ignores).
        ex(
            b"0123\0\0\0\0\0\0\0\0\0\0",
            b"\r\n+QFUPL: 10,3031\r\n\r\nOK\r\n",
        ),
        ex(b"AT+QMTCONN?\r", b"\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n"),
        // Again: no marker, so the file is written afresh.
        ex(list, ok),
        ex(deletes[0], ok),
        ex(deletes[1], ok),
        ex(upload, b"\r\nCONNECT\r\n"),
        ex(b"0123456789", b"\r\n+QFUPL: 10,3839\r\n\r\nOK\r\n"),
        ex(b"AT+QFUPL=\"f9808ff2.ok\",1,60\r", b"\r\nCONNECT\r\n"),
        ex(b"1", b"\r\n+QFUPL: 1,3100\r\n\r\nOK\r\n"),
    ];
    for l in [
        &b"AT+QSSLCFG=\"sslversion\",0,4\r"[..],
        b"AT+QSSLCFG=\"ciphersuite\",0,0XFFFF\r",
        b"AT+QSSLCFG=\"seclevel\",0,1\r",
        b"AT+QSSLCFG=\"cacert\",0,\"f9808ff2.pem\"\r",
        b"AT+QSSLCFG=\"sni\",0,1\r",
        b"AT+QMTCFG=\"ssl\",0,1,0\r",
    ] {
        script.push(ex(l, ok));
    }
    let before_data: usize = [&list[..], deletes[0], deletes[1], upload]
        .iter()
        .map(|l| l.len())
        .sum();
    let got = common::run_dialect(
        mqtt_modem::Quectel,
        script,
        7,
        Options::default(),
        async |m, _, w| {
            let tls = mqtt_modem::Tls::root_ca(b"0123456789");
            w.fail_writes_at(before_data + 4);
            let cut = m.set_tls(tls).await.map_err(|e| e.kind());
            w.revive();
            let state = m.state().await;
            (cut, state, m.set_tls(tls).await)
        },
    );
    assert_eq!(
        got,
        (Err(ErrorKind::Io), Ok(ConnectionState::Connected), Ok(()))
    );
}

/// ESP-AT: a 5-byte publish with the UART failing as `cut` sets up, then (UART working again)
/// the state.
fn esp_publish_cut_then_state(
    script: Vec<common::Exchange>,
    cut: impl FnOnce(&common::Wire),
) -> (Result<(), ErrorKind>, Result<ConnectionState, Error>) {
    common::run_dialect(
        mqtt_modem::EspAt,
        script,
        64,
        Options::default(),
        async |m, _, w| {
            cut(w);
            let cut = m
                .publish("t", b"hello", Qos::AtMostOnce, false)
                .await
                .map_err(|e| e.kind());
            w.revive();
            (cut, m.state().await)
        },
    )
}

/// A prompt garbled on the line (`>` with one bit flipped is `?`): the publish times out, but
/// the modem sent its prompt and counts the data, so the next command first pads it (zeros);
/// otherwise the modem would take that command's line as the data. ESP-AT and Quectel.
#[test]
fn a_garbled_prompt_leaves_the_data_owed() {
    let esp = publish_then_state(
        mqtt_modem::EspAt,
        vec![
            ex(b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n", b"\r\nOK\r\n\r\n?"),
            ex(b"\0\0\0\0\0", b"\r\n+MQTTPUB:OK\r\n"),
            ex(b"AT+MQTTCONN?\r\n", b"\r\nOK\r\n"),
        ],
    );
    assert_eq!(
        esp,
        (Err(Error::Timeout), Ok(ConnectionState::Disconnected))
    );
    let quectel = publish_then_state(
        mqtt_modem::Quectel,
        vec![
            ex(b"AT+QMTPUBEX=0,0,0,0,\"t\",5\r", b"\r\n? "),
            ex(b"\0\0\0\0\0", b"\r\nOK\r\n\r\n+QMTPUBEX: 0,0,0\r\n"),
            ex(b"AT+QMTCONN?\r", b"\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n"),
        ],
    );
    assert_eq!(
        quectel,
        (Err(Error::Timeout), Ok(ConnectionState::Connected))
    );
}

/// Publishes 5 bytes at QoS 0, then asks for the state, with a 100 ms deadline on each.
fn publish_then_state<D: mqtt_modem::Dialect>(
    dialect: D,
    script: Vec<common::Exchange>,
) -> (Result<(), Error>, Result<ConnectionState, Error>) {
    let options = Options {
        max_deadline: embassy_time::Duration::from_millis(100),
        resync_quiet: embassy_time::Duration::from_millis(50),
        ..Options::default()
    };
    common::run_dialect(dialect, script, 7, options, async |m, _, _| {
        let timed_out = m.publish("t", b"hello", Qos::AtMostOnce, false).await;
        (timed_out, m.state().await)
    })
}

/// Options::command_gap: the next command is written no sooner than that after the last
/// answer.
#[test]
fn the_command_gap_is_kept() {
    let options = Options {
        command_gap: embassy_time::Duration::from_millis(150),
        ..Options::default()
    };
    let state = ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n");
    let times = run_with(vec![state.clone(), state], 64, options, async |m, _, w| {
        m.state().await.unwrap();
        m.state().await.unwrap();
        w.write_times()
    });
    assert_eq!(times.len(), 2);
    assert!(
        times[1] - times[0] >= std::time::Duration::from_millis(150),
        "{:?}",
        times[1] - times[0]
    );
}

/// After a timeout, the next command waits for a quiet line (`resync_quiet`), not for the
/// longest wait allowed (`resync_max`).
#[test]
fn resync_ends_once_the_line_is_quiet() {
    let options = Options {
        max_deadline: embassy_time::Duration::from_millis(100),
        resync_quiet: embassy_time::Duration::from_millis(50),
        resync_max: embassy_time::Duration::from_secs(60),
        ..Options::default()
    };
    let (first, second, took) = run_with(
        vec![
            ex(b"AT+MQTTSTATE\r", b""),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
        ],
        64,
        options,
        async |m, _, _| {
            let first = m.state().await;
            let start = std::time::Instant::now();
            let second = m.state().await;
            (first, second, start.elapsed())
        },
    );
    assert_eq!(first, Err(Error::Timeout));
    assert_eq!(second, Ok(ConnectionState::Connected));
    // 50 ms in principle; 10 s leaves any slow machine room, and is far below the 60 s.
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
}

/// A command future dropped while it waits for its answer gives the answer up at once: a
/// line that comes next is unsolicited again, not taken as that answer's.
#[test]
fn a_dropped_command_leaves_later_lines_unsolicited() {
    let event = run(vec![ex(b"AT+MQTTSTATE\r", b"")], 64, async |m, ev, w| {
        let waited =
            embassy_time::with_timeout(embassy_time::Duration::from_millis(50), m.state()).await;
        assert!(waited.is_err(), "no answer was scripted");
        w.inject(b"\r\n+MQTTSTATE:0\r\n\r\n+MQTTSTATE:1\r\n");
        let mut buf = [0u8; 16];
        let first = format!("{:?}", common::next_event(ev, &mut buf).await);
        let second = format!("{:?}", common::next_event(ev, &mut buf).await);
        (first, second)
    });
    assert_eq!(
        event,
        (
            "StateChanged(Disconnected)".to_owned(),
            "StateChanged(Connected)".to_owned()
        )
    );
}

/// Noise in an answer: a discarded line of 256 bytes or more (the response buffer's size) is
/// part of an answer too large for it; a shorter one only makes the answer doubtful.
#[test]
fn noise_in_an_answer_as_long_as_the_response_buffer_is_too_large() {
    for (len, want) in [(255, Error::Protocol), (256, Error::ResponseTooLarge)] {
        let reply = format!("\r\n{}\r\n\r\n+MQTTSTATE:1\r\n\r\nOK\r\n", "x".repeat(len));
        let got = run(
            vec![ex(b"AT+MQTTSTATE\r", reply.as_bytes())],
            64,
            async |m, _, _| m.state().await,
        );
        assert_eq!(got, Err(want), "{len} bytes of noise");
    }
}

/// A staged publish (ESP-AT) after its data: `ERROR` ends it with the refusal; an `OK` is an
/// earlier command's, stale, and its completion line still ends it.
#[test]
fn a_final_result_after_staged_data() {
    let line = b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n";
    for (reply, want, stale) in [
        (
            &b"\r\nERROR\r\n"[..],
            Err(Error::Module {
                kind: ErrorKind::Link,
                detail: Detail::Error,
            }),
            0,
        ),
        (b"\r\nOK\r\n\r\n+MQTTPUB:OK\r\n", Ok(()), 1),
    ] {
        let got = common::run_dialect(
            mqtt_modem::EspAt,
            vec![ex(line, b"\r\nOK\r\n\r\n>"), ex(b"hello", reply)],
            64,
            Options::default(),
            async |m, _, _| {
                let r = m.publish("t", b"hello", Qos::AtMostOnce, false).await;
                (r, m.stats().stale_responses)
            },
        );
        assert_eq!(got, (want, stale), "{reply:?}");
    }
}
