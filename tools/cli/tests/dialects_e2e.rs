//! The same application code against each dialect: the real driver over a simulated UC8088,
//! ESP-AT or Quectel module on a real pty (the simulator parses each dialect's AT text on its
//! own), bridged to a real mosquitto, checked with mosquitto_pub / mosquitto_sub. The UC8088's
//! other end-to-end tests are in `driver_e2e.rs` and `faults.rs`.

mod common;

use std::time::Duration;

use common::*;
use mqtt_modem::{Config, Dialect, EspAt, Qos, Quectel, Uc8088};
use tokio::time::{Instant, timeout};

fn config(port: u16, id: &str) -> Config<'_> {
    Config::new("127.0.0.1", port, id).credentials(BARE_USER, BARE_PASSWORD)
}

/// A module of `dialect` connected to the shared mosquitto as `id`.
async fn connected<D: Dialect + Copy>(
    dialect: D,
    sim_dialect: modem_sim::Dialect,
    id: &str,
) -> Dut<D> {
    let mut dut = Dut::start_in(dialect, sim_dialect).await;
    dut.connect_to(&config(mosquitto().port, id)).await;
    dut
}

/// Bytes no one-line command could carry: CR, LF, NUL, `"`, `,`, and every other value.
fn nasty() -> Vec<u8> {
    let mut v = b"a\r\nb\0c\"d,e\r\n\r\nOK\r\n".to_vec();
    v.extend(0..=255u8);
    v
}

/// A 4 KiB payload of every byte value.
fn four_kib() -> Vec<u8> {
    (0..4096u32).map(|i| (i * 31 % 256) as u8).collect()
}

async fn binary_round_trip<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let base = unique("e2e/dialect/bin");
    let mut dut = connected(dialect, sim_dialect, &unique("bin")).await;
    let mut sub = MosquittoSub::start(&format!("{base}/out/#")).await;
    dut.subscribe(&format!("{base}/in/#"), Qos::AtLeastOnce)
        .await;
    for (name, payload) in [("nasty", nasty()), ("4kib", four_kib())] {
        for qos in [Qos::AtMostOnce, Qos::AtLeastOnce] {
            let topic = format!("{base}/out/{name}/{}", qos as u8);
            dut.publish(&topic, &payload, qos, false).await;
            let (t, p) = sub.next().await.expect("nothing reached mosquitto_sub");
            assert_eq!(t, topic);
            assert_bytes(&p, &payload);

            let topic = format!("{base}/in/{name}/{}", qos as u8);
            mosquitto_pub(&topic, &payload, qos as u8, false).await;
            let (t, p) = dut.message().await;
            assert_eq!(t, topic);
            assert_bytes(&p, &payload);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_binary_and_4kib_round_trip() {
    binary_round_trip(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_binary_and_4kib_round_trip() {
    binary_round_trip(Quectel, modem_sim::Dialect::Quectel).await;
}

/// The UC8088 has no prompt: its 4 KiB payload goes inline in `AT+MQTTPUB`, every `"` and `\`
/// escaped (CR, LF and NUL are refused there); inbound, any byte, read by length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uc8088_4kib_round_trip() {
    let base = unique("e2e/dialect/uc4k");
    let mut dut = connected(Uc8088, modem_sim::Dialect::Uc8088, &unique("uc4k")).await;
    let mut sub = MosquittoSub::start(&format!("{base}/out")).await;
    dut.subscribe(&format!("{base}/in"), Qos::AtLeastOnce).await;
    let text: Vec<u8> = b"a\"b,c\\d{e}".iter().copied().cycle().take(4096).collect();
    for qos in [Qos::AtMostOnce, Qos::AtLeastOnce] {
        dut.publish(&format!("{base}/out"), &text, qos, false).await;
        let (_, p) = sub.next().await.expect("nothing reached mosquitto_sub");
        assert_bytes(&p, &text);
        mosquitto_pub(&format!("{base}/in"), &four_kib(), qos as u8, false).await;
        let (_, p) = dut.message().await;
        assert_bytes(&p, &four_kib());
    }
}

/// A message published while a command is being answered (the module answers slowly): the
/// broker had it before the module wrote the answer, and both reach the driver: the command
/// its own answer, the application the message.
async fn message_during_a_command<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let topic = unique("e2e/dialect/during");
    let mut dut = connected(dialect, sim_dialect, &unique("during")).await;
    dut.subscribe(&topic, Qos::AtLeastOnce).await;
    dut.sim.set_latency(Duration::from_millis(600));
    let mut tap = dut.sim.traffic();
    let t0 = Instant::now();
    let recorder = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok(Ok(t)) = tokio::time::timeout(Duration::from_secs(2), tap.recv()).await {
            seen.push((t0.elapsed(), t.dir, t.bytes));
        }
        seen
    });
    let mut commands = dut.sim.traffic();
    let publish = async {
        // Once the module has the command (its answer is 600 ms away), not after a guessed
        // delay: the broker's message then arrives while the command is answered.
        while let Ok(Ok(t)) = timeout(DEADLINE, commands.recv()).await {
            if t.dir == modem_sim::Dir::Rx {
                break;
            }
        }
        mosquitto_pub(&topic, b"while answering", 1, false).await;
        t0.elapsed()
    };
    let (state, published) = tokio::join!(timeout(DEADLINE, dut.session.modem.state()), publish);
    let seen = recorder.await.unwrap();
    let trace = || {
        seen.iter()
            .map(|(at, dir, b)| format!("{at:?} {dir:?} {}", b.escape_ascii()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        state.unwrap(),
        Ok(mqtt_modem::ConnectionState::Connected),
        "{:#?}",
        trace()
    );
    // The answer is the first thing the module wrote after the command; the broker had
    // delivered the QoS 1 message (mosquitto_pub returned) before it.
    let answered = seen
        .iter()
        .find(|(_, dir, _)| *dir == modem_sim::Dir::Tx)
        .map(|(at, _, _)| *at)
        .expect("no answer written");
    assert!(
        published < answered,
        "published at {published:?}, answered at {answered:?}: no overlap {:#?}",
        trace()
    );
    dut.sim.set_latency(Duration::ZERO);
    let (t, p) = dut.message().await;
    assert_eq!(
        (t.as_str(), p.as_slice()),
        (topic.as_str(), &b"while answering"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_message_while_a_command_is_answered() {
    message_during_a_command(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_message_while_a_command_is_answered() {
    message_during_a_command(Quectel, modem_sim::Dialect::Quectel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uc8088_message_while_a_command_is_answered() {
    message_during_a_command(Uc8088, modem_sim::Dialect::Uc8088).await;
}

/// mosquitto killed and restarted: the supervisor sees the loss, reconnects and
/// re-subscribes, and a message published afterwards arrives.
async fn broker_restart<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    supervisor_through_broker_restart(dialect, sim_dialect, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_broker_restart_recovered_by_the_supervisor() {
    broker_restart(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_broker_restart_recovered_by_the_supervisor() {
    broker_restart(Quectel, modem_sim::Dialect::Quectel).await;
}

/// A last will set through `configure` is published by the broker when the module's link dies
/// without a DISCONNECT.
async fn last_will<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let topic = unique("e2e/dialect/will");
    let mut sub = MosquittoSub::start(&topic).await;
    let mut dut = Dut::start_in(dialect, sim_dialect).await;
    let id = unique("will");
    let will = mqtt_modem::Will {
        topic: &topic,
        payload: b"gone, unexpectedly",
        qos: Qos::AtLeastOnce,
        retain: false,
    };
    dut.connect_to(&config(mosquitto().port, &id).will(will))
        .await;
    dut.sim.drop_broker_connection();
    let (t, p) = sub.next().await.expect("the will was not published");
    assert_eq!(t, topic);
    assert_bytes(&p, b"gone, unexpectedly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esp_at_last_will_published_on_link_loss() {
    last_will(EspAt, modem_sim::Dialect::EspAt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_last_will_published_on_link_loss() {
    last_will(Quectel, modem_sim::Dialect::Quectel).await;
}
