//! The real driver over the simulated modem's pty, against a real mosquitto, with
//! `mosquitto_pub` / `mosquitto_sub` as independent clients.

mod common;

use std::time::Duration;

use common::*;
use mqtt_modem::{Config, ConnectionState, Detail, Error, ErrorKind, MqttCode, Qos, Tls};
use tokio::time::timeout;

/// Outbound: what the driver publishes arrives at mosquitto_sub byte-exact, QoS 0 and 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_publish_arrives_at_mosquitto_sub_byte_exact() {
    let base = unique("e2e/out");
    let mut sub = MosquittoSub::start(&format!("{base}/#")).await;
    let mut dut = Dut::connected(&unique("out")).await;
    let kib = kib_text();
    let cases: [(&str, &[u8], Qos); 5] = [
        ("json", JSON, Qos::AtMostOnce),
        ("json1", JSON, Qos::AtLeastOnce),
        ("utf8", UTF8.as_bytes(), Qos::AtLeastOnce),
        ("kib", &kib, Qos::AtLeastOnce),
        ("kib0", &kib, Qos::AtMostOnce),
    ];
    for (name, payload, qos) in cases {
        let topic = format!("{base}/{name}");
        dut.publish(&topic, payload, qos, false).await;
        let (t, p) = sub
            .next()
            .await
            .unwrap_or_else(|| panic!("{name}: nothing reached mosquitto_sub"));
        assert_eq!(t, topic);
        assert_bytes(&p, payload);
    }
}

/// Inbound: what mosquitto_pub sends arrives through `events.next()` byte-exact, QoS 0 and 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_pub_arrives_through_events_byte_exact() {
    let base = unique("e2e/in");
    let mut dut = Dut::connected(&unique("in")).await;
    dut.subscribe(&format!("{base}/q0/#"), Qos::AtMostOnce)
        .await;
    dut.subscribe(&format!("{base}/q1/#"), Qos::AtLeastOnce)
        .await;
    let kib = kib_text();
    let binary: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 256) as u8).collect();
    let cases: [(&str, &[u8]); 7] = [
        ("json", JSON),
        ("crlf", b"line 1\r\nline 2\nline 3\r\n\r\nOK\r\n"),
        ("utf8", UTF8.as_bytes()),
        ("kib", &kib),
        ("binary-kib", &binary),
        ("urc-lookalike", b"\r\n+MQTTSTATE:0\r\nOK\r\nERROR\r\n"),
        ("empty-ish", b" "),
    ];
    for qos in [0u8, 1] {
        for (name, payload) in cases {
            let topic = format!("{base}/q{qos}/{name}");
            mosquitto_pub(&topic, payload, qos, false).await;
            let (t, p) = dut.message().await;
            assert_eq!(t, topic, "qos {qos} {name}");
            assert_bytes(&p, payload);
        }
    }
}

/// Retain in both directions: a retained message reaches a subscriber that comes later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_messages_reach_later_subscribers() {
    let base = unique("e2e/retain");
    let mut dut = Dut::connected(&unique("retain")).await;

    // Driver → broker (retained) → a mosquitto_sub started afterwards.
    let out = format!("{base}/from-driver");
    dut.publish(&out, br#"{"retained":true}"#, Qos::AtLeastOnce, true)
        .await;
    let mut sub = MosquittoSub::start(&out).await;
    let (t, p) = sub.next().await.expect("retained message not delivered");
    assert_eq!(t, out);
    assert_bytes(&p, br#"{"retained":true}"#);

    // mosquitto_pub (retained) → broker → the driver subscribing afterwards.
    let inbound = format!("{base}/from-pub");
    mosquitto_pub(&inbound, b"kept, \"for\" later", 1, true).await;
    dut.subscribe(&inbound, Qos::AtLeastOnce).await;
    let (t, p) = dut.message().await;
    assert_eq!(t, inbound);
    assert_bytes(&p, b"kept, \"for\" later");

    // Clear both retained messages.
    mosquitto_pub(&out, b"", 1, true).await;
    mosquitto_pub(&inbound, b"", 1, true).await;
}

/// TLS: the CA goes up through AT+MQTTTLS, the modem verifies mosquitto's TLS listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_uploaded_root_ca() {
    let m = mosquitto();
    let mut dut = Dut::start().await;
    let id = unique("tls");
    let topic = unique("e2e/tls");
    let modem = &mut dut.session.modem;
    timeout(DEADLINE, modem.set_tls(Tls::root_ca(&m.ca_pem)))
        .await
        .unwrap()
        .expect("upload CA");
    assert!(timeout(DEADLINE, modem.tls()).await.unwrap().unwrap());
    let config = Config::new("127.0.0.1", m.tls_port, &id).credentials(USER, PASSWORD);
    timeout(DEADLINE, modem.configure(&config))
        .await
        .unwrap()
        .expect("configure");
    timeout(DEADLINE, modem.connect())
        .await
        .unwrap()
        .expect("connect over TLS");
    assert_eq!(
        timeout(DEADLINE, modem.state()).await.unwrap().unwrap(),
        ConnectionState::Connected
    );
    // A round trip over TLS, checked by an independent client.
    let mut sub = MosquittoSub::start(&topic).await;
    dut.subscribe(&topic, Qos::AtLeastOnce).await;
    dut.publish(&topic, JSON, Qos::AtLeastOnce, false).await;
    let (t, p) = sub.next().await.expect("mosquitto_sub got nothing");
    assert_eq!(t, topic);
    assert_bytes(&p, JSON);
    let (t, p) = dut.message().await;
    assert_eq!(t, topic);
    assert_bytes(&p, JSON);

    // The plain listener with TLS on fails the handshake: code 5.
    let modem = &mut dut.session.modem;
    timeout(DEADLINE, modem.disconnect())
        .await
        .unwrap()
        .unwrap();
    let plain = Config::new("127.0.0.1", m.port, &id).credentials(USER, PASSWORD);
    timeout(DEADLINE, modem.configure(&plain))
        .await
        .unwrap()
        .unwrap();
    let r = timeout(DEADLINE, modem.connect()).await.unwrap();
    assert_eq!(
        r,
        Err(Error::Module {
            kind: ErrorKind::Link,
            detail: Detail::Result(5),
        })
    );
    assert_eq!(MqttCode::from_wire(5), Some(MqttCode::NetworkError));
}

/// A wrong password: mosquitto refuses the CONNECT, the driver reports code 9.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_server_refused() {
    let m = mosquitto();
    let mut dut = Dut::start().await;
    let id = unique("badpw");
    let modem = &mut dut.session.modem;
    let config = Config::new("127.0.0.1", m.port, &id).credentials(USER, "wrong");
    let err = connect_error(modem, &config).await;
    assert_eq!(
        err,
        Error::Module {
            kind: ErrorKind::Broker,
            detail: Detail::Result(9),
        }
    );
    assert_eq!(MqttCode::from_wire(9), Some(MqttCode::ServerRefused));
    assert_eq!(
        err.to_string(),
        "broker refused: the modem answered result 9"
    );
    assert_eq!(
        timeout(DEADLINE, modem.state()).await.unwrap().unwrap(),
        ConnectionState::Disconnected
    );
}

/// Configures, connects, and returns the error the connect must fail with.
async fn connect_error(modem: &mut mqtt_modem_cli::Modem, config: &Config<'_>) -> Error {
    timeout(DEADLINE, modem.configure(config))
        .await
        .unwrap()
        .unwrap();
    timeout(DEADLINE, modem.connect())
        .await
        .unwrap()
        .unwrap_err()
}

/// A closed local port: the modem cannot reach the broker, code 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_network_error() {
    let port = free_port(); // bound and released: nothing listens there
    let mut dut = Dut::start().await;
    let modem = &mut dut.session.modem;
    let config = Config::new("127.0.0.1", port, "nobody").credentials(USER, PASSWORD);
    let err = connect_error(modem, &config).await;
    assert_eq!(
        err,
        Error::Module {
            kind: ErrorKind::Link,
            detail: Detail::Result(5),
        }
    );
    assert_eq!(err.kind(), ErrorKind::Link);
}

/// Subscribe and unsubscribe take effect at the broker.
///
/// The negative check is ordered, not timed: after the unsubscribed topic's message, a message
/// on a still-subscribed sentinel topic is sent; the broker delivers in order on one connection,
/// so when the sentinel arrives first, the other would have come before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_and_unsubscribe_take_effect_at_broker() {
    let base = unique("e2e/subunsub");
    let topic = format!("{base}/topic");
    let sentinel = format!("{base}/sentinel");
    let mut dut = Dut::connected(&unique("subunsub")).await;
    dut.subscribe(&sentinel, Qos::AtLeastOnce).await;

    // Not subscribed yet: nothing arrives.
    mosquitto_pub(&topic, b"before", 1, false).await;
    mosquitto_pub(&sentinel, b"s1", 1, false).await;
    assert_eq!(dut.message().await, (sentinel.clone(), b"s1".to_vec()));

    dut.subscribe(&topic, Qos::AtLeastOnce).await;
    let subs = timeout(DEADLINE, dut.session.modem.subscriptions::<16, 128>())
        .await
        .unwrap()
        .unwrap();
    assert!(subs.iter().any(|s| s.filter.as_str() == topic), "{subs:?}");
    mosquitto_pub(&topic, b"subscribed", 1, false).await;
    assert_eq!(dut.message().await, (topic.clone(), b"subscribed".to_vec()));

    timeout(DEADLINE, dut.session.modem.unsubscribe(&topic))
        .await
        .unwrap()
        .expect("unsubscribe");
    mosquitto_pub(&topic, b"after unsubscribe", 1, false).await;
    mosquitto_pub(&sentinel, b"s2", 1, false).await;
    assert_eq!(dut.message().await, (sentinel.clone(), b"s2".to_vec()));
    assert_eq!(dut.message_within(Duration::from_millis(300)).await, None);

    dut.subscribe(&topic, Qos::AtMostOnce).await;
    mosquitto_pub(&topic, b"again", 0, false).await;
    assert_eq!(dut.message().await, (topic.clone(), b"again".to_vec()));
}
