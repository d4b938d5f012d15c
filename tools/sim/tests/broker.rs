//! The simulator as a real MQTT client of a real broker (in-process rumqttd) and of fake
//! brokers that misbehave on purpose.

mod common;

use std::time::Duration;

use common::{
    config_line, expect_message, fake_broker, free_port, outside_client, outside_subscriber,
    publish_from, sim_dialect, sim_quiet, start_rumqttd,
};
use rumqttc::QoS;

async fn connected(port: u16, id: &str) -> (modem_sim::SimHandle, common::Host) {
    let (sim, mut host) = sim_quiet().await;
    host.transact(&config_line(port, id), b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n")
        .await;
    (sim, host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_and_receive_byte_exact() {
    let port = start_rumqttd();
    let (_sim, mut host) = connected(port, "sim-recv").await;
    host.transact(b"AT+MQTTSUB=\"t\",1\r", b"\r\nOK\r\n").await;
    // An invalid filter is refused before anything is sent.
    host.transact(b"AT+MQTTSUB=\"a/#/b\",0\r", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTSUB=\"we\\\"ird\",0\r", b"\r\nOK\r\n")
        .await;
    host.transact(
        b"AT+MQTTSUB?\r",
        b"\r\n+MQTTSUB:\"t\",1\r\n\r\n+MQTTSUB:\"we\\\"ird\",0\r\n\r\nOK\r\n",
    )
    .await;

    let (outside, _) = outside_client(port, "outside-pub").await;
    publish_from(&outside, "t", QoS::AtLeastOnce, b"hello").await;
    host.expect(b"\r\n+MQTTRECV:\"t\",5,hello\r\n").await;
    // Payload with CR, LF, quotes and a NUL is delivered raw, by length.
    let raw = b"a\r\nb\"c\0,\\".to_vec();
    publish_from(&outside, "we\"ird", QoS::AtMostOnce, &raw).await;
    assert_eq!(raw.len(), 9);
    let mut want = b"\r\n+MQTTRECV:\"we\\\"ird\",9,".to_vec();
    want.extend_from_slice(&raw);
    want.extend_from_slice(b"\r\n");
    host.expect(&want).await;

    host.transact(b"AT+MQTTUNSUB=\"t\"\r", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+MQTTSUB?\r",
        b"\r\n+MQTTSUB:\"we\\\"ird\",0\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTDISCONNECT\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_reaches_outside_subscriber() {
    let port = start_rumqttd();
    let (_outside, mut inbox) = outside_subscriber(port, "outside-sub", "up/#").await;
    let (_sim, mut host) = connected(port, "sim-pub").await;
    for qos in 0..=2 {
        let line = format!("AT+MQTTPUB=\"up/{qos}\",{qos},0,\"{{\\\"id\\\":{qos}}}\"\r");
        host.transact(line.as_bytes(), b"\r\nOK\r\n").await;
        let payload = format!("{{\"id\":{qos}}}");
        expect_message(&mut inbox, &format!("up/{qos}"), payload.as_bytes()).await;
    }
    // Unquoted topic and message.
    host.transact(b"AT+MQTTPUB=up/plain,1,0,hi there\r", b"\r\nOK\r\n")
        .await;
    expect_message(&mut inbox, "up/plain", b"hi there").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_loss_shows_in_state() {
    let port = start_rumqttd();
    let (sim, mut host) = connected(port, "sim-loss").await;
    sim.drop_broker_connection();
    host.transact(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTPUB=t,1,0,x\r", b"\r\n+MQTTPUB:5\r\n\r\nERROR\r\n")
        .await;
    assert!(host.drain_for(Duration::from_millis(200)).await.is_empty());
    // The host can connect again.
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_failures_have_their_codes() {
    let (_sim, mut host) = sim_quiet().await;
    // Closed port: network unusable.
    host.transact(&config_line(free_port(), "x"), b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n")
        .await;
    // CONNACK "bad user name or password": refused by the server.
    host.transact(&config_line(fake_broker(Some(4)).await, "x"), b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:9\r\n\r\nERROR\r\n")
        .await;
    // DNS failure.
    host.transact(
        b"AT+MQTTCONFIG=no-such-host.invalid,1883,x,1,60,,\r",
        b"\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_broker_times_out_with_8_within_budget() {
    let (_sim, mut host) = sim_quiet().await;
    host.transact(&config_line(fake_broker(None).await, "x"), b"\r\nOK\r\n")
        .await;
    let started = std::time::Instant::now();
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:8\r\n\r\nERROR\r\n")
        .await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(6500), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_puback_and_refused_suback() {
    let (_sim, mut host) = sim_dialect(
        modem_sim::Dialect::Uc8088,
        modem_sim::SimOptions {
            ack_timeout: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await;
    host.transact(&config_line(fake_broker(Some(0)).await, "x"), b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTSUB=\"t\",1\r", b"\r\n+MQTTSUB:9\r\n\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTSUB?\r", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+MQTTPUB=\"t\",1,0,\"x\"\r",
        b"\r\n+MQTTPUB:10\r\n\r\nERROR\r\n",
    )
    .await;
    host.transact(b"AT+MQTTPUB=\"t\",0,0,\"x\"\r", b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_during_a_response_waits_for_its_end() {
    let port = start_rumqttd();
    let (sim, mut host) = connected(port, "sim-order").await;
    host.transact(b"AT+MQTTSUB=\"t\",0\r", b"\r\nOK\r\n").await;
    let (outside, _) = outside_client(port, "outside-order").await;
    sim.set_latency(Duration::from_millis(400));
    host.send(b"AT+MQTTSTATE\r").await;
    publish_from(&outside, "t", QoS::AtMostOnce, b"mid").await;
    host.expect(b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n\r\n+MQTTRECV:\"t\",3,mid\r\n")
        .await;
}
