//! The same application code against each dialect: the real driver over a simulated ESP-AT or
//! Quectel module on a real pty (the simulator parses each dialect's AT text on its own),
//! bridged to a real mosquitto, checked with mosquitto_pub / mosquitto_sub. Each test runs for
//! both dialects.

mod common;

use std::time::Duration;

use common::*;
use modem_sim::{Sim, SimHandle, SimOptions};
use mqtt_modem::{Config, Dialect, EspAt, Event, LinkEvent, Options, Qos, Quectel, Supervisor};
use mqtt_modem_cli::Session;
use tokio::time::{Instant, timeout};

/// A simulated module speaking `sim_dialect` and a driver session speaking `D` on its pty.
struct DialectDut<D: Dialect> {
    session: Session<D>,
    sim: SimHandle,
}

async fn start<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) -> DialectDut<D> {
    let sim = Sim::start(SimOptions {
        dialect: sim_dialect,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let path = sim.device_path().to_string_lossy().into_owned();
    let mut session =
        Session::open_dialect(dialect, &path, 115_200, false, Options::default()).unwrap();
    timeout(DEADLINE, session.modem.init())
        .await
        .expect("init hung")
        .expect("init");
    DialectDut { session, sim }
}

fn config(port: u16, id: &str) -> Config<'_> {
    Config::new("127.0.0.1", port, id).credentials(BARE_USER, BARE_PASSWORD)
}

async fn connected<D: Dialect + Copy>(
    dialect: D,
    sim_dialect: modem_sim::Dialect,
    id: &str,
) -> DialectDut<D> {
    let mut dut = start(dialect, sim_dialect).await;
    let modem = &mut dut.session.modem;
    timeout(DEADLINE, modem.configure(&config(mosquitto().port, id)))
        .await
        .unwrap()
        .expect("configure");
    timeout(DEADLINE, modem.connect())
        .await
        .unwrap()
        .expect("connect");
    dut
}

/// The next message through the driver's events within `DEADLINE`.
async fn message<D: Dialect>(dut: &mut DialectDut<D>) -> (String, Vec<u8>) {
    let deadline = Instant::now() + DEADLINE;
    let mut buf = vec![0u8; mqtt_modem_cli::INGRESS];
    loop {
        match tokio::time::timeout_at(deadline, dut.session.events.next(&mut buf))
            .await
            .expect("no message through the driver within the deadline")
        {
            Event::Message(m) => return (m.topic.to_string(), m.payload.to_vec()),
            Event::Dropped { count } => panic!("{count} message(s) dropped by the driver"),
            Event::TooLargeForBuffer { len } => panic!("{len}-byte message too large"),
            _ => {}
        }
    }
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
    timeout(
        DEADLINE,
        dut.session
            .modem
            .subscribe(&format!("{base}/in/#"), Qos::AtLeastOnce),
    )
    .await
    .unwrap()
    .expect("subscribe");
    for (name, payload) in [("nasty", nasty()), ("4kib", four_kib())] {
        for qos in [Qos::AtMostOnce, Qos::AtLeastOnce] {
            let topic = format!("{base}/out/{name}/{}", qos as u8);
            timeout(
                DEADLINE,
                dut.session.modem.publish(&topic, &payload, qos, false),
            )
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("publish {name}: {e}"));
            let (t, p) = sub.next().await.expect("nothing reached mosquitto_sub");
            assert_eq!(t, topic);
            assert_bytes(&p, &payload);

            let topic = format!("{base}/in/{name}/{}", qos as u8);
            mosquitto_pub(&topic, &payload, qos as u8, false).await;
            let (t, p) = message(&mut dut).await;
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

/// A message published while a command is being answered (the module answers slowly) is
/// delivered, and the command gets its own answer.
async fn message_during_a_command<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let topic = unique("e2e/dialect/during");
    let mut dut = connected(dialect, sim_dialect, &unique("during")).await;
    timeout(
        DEADLINE,
        dut.session.modem.subscribe(&topic, Qos::AtLeastOnce),
    )
    .await
    .unwrap()
    .expect("subscribe");
    dut.sim.set_latency(Duration::from_millis(600));
    let mut tap = dut.sim.traffic();
    let t0 = Instant::now();
    let recorder = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok(Ok(t)) = tokio::time::timeout(Duration::from_secs(2), tap.recv()).await {
            seen.push(format!(
                "{:?} {:?} {}",
                t0.elapsed(),
                t.dir,
                t.bytes.escape_ascii()
            ));
        }
        seen
    });
    let publish = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        mosquitto_pub(&topic, b"while answering", 1, false).await;
    };
    let started = Instant::now();
    let (state, ()) = tokio::join!(timeout(DEADLINE, dut.session.modem.state()), publish);
    let took = started.elapsed();
    let seen = recorder.await.unwrap();
    assert_eq!(
        state.unwrap(),
        Ok(mqtt_modem::ConnectionState::Connected),
        "after {took:?}: {seen:#?}"
    );
    dut.sim.set_latency(Duration::ZERO);
    let (t, p) = message(&mut dut).await;
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

/// mosquitto killed and restarted: the supervisor sees the loss, reconnects and
/// re-subscribes, and a message published afterwards arrives.
async fn broker_restart<D: Dialect + Copy>(dialect: D, sim_dialect: modem_sim::Dialect) {
    let (port, tls_port) = (free_port(), free_port());
    let broker = start_mosquitto_on(port, tls_port);
    let mut dut = start(dialect, sim_dialect).await;
    let id = unique("restart");
    let topic = unique("e2e/dialect/restart");
    let mut sup: Supervisor<'_> = Supervisor::new(config(port, &id), fast_policy());
    let modem = &mut dut.session.modem;
    until(&mut sup, modem, |e| *e == LinkEvent::Connected, DEADLINE).await;
    sup.subscribe(modem, &topic, Qos::AtLeastOnce)
        .await
        .unwrap();

    drop(broker);
    until(
        &mut sup,
        modem,
        |e| matches!(e, LinkEvent::Disconnected(_)),
        DEADLINE,
    )
    .await;
    let broker = start_mosquitto_on(port, tls_port);
    let seen = until(
        &mut sup,
        modem,
        |e| matches!(e, LinkEvent::Resubscribed { count: 1 }),
        Duration::from_secs(30),
    )
    .await;
    assert!(seen.contains(&LinkEvent::Connected), "{seen:?}");
    mosquitto_pub_to(&broker, &topic, b"after restart", 1, false).await;
    let (t, p) = message(&mut dut).await;
    assert_eq!(
        (t.as_str(), p.as_slice()),
        (topic.as_str(), &b"after restart"[..])
    );
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
    let mut dut = start(dialect, sim_dialect).await;
    let id = unique("will");
    let will = mqtt_modem::Will {
        topic: &topic,
        payload: b"gone, unexpectedly",
        qos: Qos::AtLeastOnce,
        retain: false,
    };
    let config = config(mosquitto().port, &id).will(will);
    let modem = &mut dut.session.modem;
    timeout(DEADLINE, modem.configure(&config))
        .await
        .unwrap()
        .expect("configure with a will");
    timeout(DEADLINE, modem.connect())
        .await
        .unwrap()
        .expect("connect");
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
