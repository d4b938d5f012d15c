//! Fault injection (issue 5): each failure users of module MQTT drivers suffer most from, made
//! to happen with the simulator's knobs (and a real mosquitto where a broker is involved), and
//! the outcome asserted. No sleeps as assertions: events and deadlines.

mod common;

use std::time::Duration;

use common::{
    DEADLINE, Dut, PASSWORD, USER, free_port, mosquitto, mosquitto_pub, resubscribed_and_delivered,
    start_mosquitto_on, unique,
};
use common::{fast_policy, until};
use modem_sim::{Sim, SimOptions};
use mqtt_modem::{
    Config, ConnectionState, Error, Event, LinkEvent, LossReason, Options, Qos, Supervisor,
};
use mqtt_modem_cli::Session;
use tokio::time::{Instant, timeout};

/// A driver session on a fresh simulator with these options, initialised.
async fn dut_with(options: Options) -> Dut {
    let sim = Sim::start(SimOptions::default()).await.unwrap();
    let path = sim.device_path().to_string_lossy().into_owned();
    let mut session = Session::open_with(&path, 115_200, false, options).unwrap();
    timeout(DEADLINE, session.modem.init())
        .await
        .unwrap()
        .expect("init");
    Dut { session, sim }
}

fn broker_config(client_id: &str) -> Config<'_> {
    Config::new("127.0.0.1", mosquitto().port, client_id).credentials(USER, PASSWORD)
}

/// 1. The modem goes silent: the command fails with `Timeout` within its deadline; once the
/// modem answers again, the next command gets its own answer.
#[tokio::test]
async fn silent_modem_times_out_then_recovers() {
    let mut dut = Dut::start().await;
    let modem = &mut dut.session.modem;
    dut.sim.set_silent(true);
    // GetState's deadline is 1 s; the outer bound only keeps a hang from blocking the suite.
    let r = timeout(Duration::from_secs(5), modem.state())
        .await
        .expect("hung");
    assert_eq!(r, Err(Error::Timeout));
    dut.sim.set_silent(false);
    let id = timeout(DEADLINE, modem.identify())
        .await
        .unwrap()
        .expect("identify");
    assert_eq!(
        (id.manufacturer.as_str(), id.model.as_str()),
        ("ucchip", "8088")
    );
    let r = timeout(DEADLINE, modem.tls()).await.unwrap();
    assert_eq!(r, Ok(false));
}

/// 2. 1% random noise on the modem-to-host line for 1,000 commands: no panic, no hang, every
/// command succeeds or fails typed, and no answer goes to the wrong command. Incoming messages
/// whose framing the noise broke are dropped and counted, never delivered with a topic or
/// length the modem did not send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_percent_noise_for_1000_commands() {
    let options = Options {
        max_deadline: mqtt_modem_time(300),
        ..Options::default()
    };
    let mut dut = dut_with(options).await;
    let topic = unique("noise/t");
    {
        let modem = &mut dut.session.modem;
        timeout(DEADLINE, modem.configure(&broker_config(&unique("noise"))))
            .await
            .unwrap()
            .unwrap();
        timeout(DEADLINE, modem.connect()).await.unwrap().unwrap();
        timeout(DEADLINE, modem.subscribe(&topic, Qos::AtMostOnce))
            .await
            .unwrap()
            .unwrap();
    }
    dut.sim.set_noise(0.01, 0x5eed);
    // An answer can only reach its own command: a state or TLS answer has its own prefix, and a
    // list never comes back short or long (that would be a lost line, or a bare stale OK taken
    // for this command). Bytes flipped inside a value cannot be detected at this layer; those
    // are counted, not failed.
    let (mut ok, mut failed, mut corrupted, mut wrong) = (0, 0, 0, Vec::new());
    for i in 0..1000 {
        let modem = &mut dut.session.modem;
        let outcome = timeout(Duration::from_secs(5), async {
            match i % 3 {
                0 => modem
                    .state()
                    .await
                    .map(|s| (true, s == ConnectionState::Connected, format!("{s:?}"))),
                1 => modem.tls().await.map(|t| (true, !t, format!("tls {t}"))),
                _ => modem.subscriptions::<4, 128>().await.map(|s| {
                    (
                        s.len() == 1,
                        s.first().is_some_and(|s| s.filter == topic.as_str()),
                        format!("{s:?}"),
                    )
                }),
            }
        })
        .await
        .expect("a command hung under noise");
        match outcome {
            Ok((true, true, _)) => ok += 1,
            Ok((true, false, _)) => corrupted += 1,
            Ok((false, _, what)) => wrong.push((i, what)),
            Err(Error::InvalidInput { .. }) => unreachable!(),
            Err(_) => failed += 1,
        }
        if i % 100 == 0 {
            mosquitto_pub(&topic, &[b'm'; 40], 0, false).await;
        }
    }
    dut.sim.set_noise(0.0, 0);
    println!("noise: {ok} ok, {failed} failed typed, {corrupted} with a flipped value byte");
    assert!(
        wrong.is_empty(),
        "answers that lost or gained lines: {wrong:?}"
    );
    assert_eq!(ok + failed + corrupted, 1000);
    assert!(ok > 600, "{ok} of 1000 succeeded");
    // Every message delivered has the length the broker sent (a changed length is caught by the
    // CRLF that must close the payload). A byte flipped or inserted inside a topic, like one
    // flipped inside a payload, cannot be seen at this layer (the topic's quotes still frame
    // it): the application checks topics against its subscriptions; such messages are counted
    // here, not failed.
    let mut buf = vec![0u8; 8192];
    let (mut delivered, mut topic_flipped) = (0, 0);
    while let Ok(event) = timeout(
        Duration::from_millis(300),
        dut.session.events.next(&mut buf),
    )
    .await
    {
        if let Event::Message(m) = event {
            assert_eq!(
                m.payload.len(),
                40,
                "delivered with a length the modem did not send"
            );
            if m.topic != topic.as_str() {
                topic_flipped += 1;
            }
            delivered += 1;
        }
    }
    let stats = dut.session.modem.stats();
    println!(
        "messages: {delivered} delivered of 10 ({topic_flipped} with a corrupted topic), {stats:?}"
    );
    assert!(delivered <= 10);
}

fn mqtt_modem_time(ms: u64) -> embassy_time::Duration {
    embassy_time::Duration::from_millis(ms)
}

/// 3. A URC injected at every byte offset inside a response: the response parses, and the
/// message is delivered.
#[tokio::test]
async fn urc_injected_at_every_offset_of_a_response() {
    let mut dut = Dut::start().await;
    let response_len = b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n".len();
    let mut buf = vec![0u8; 256];
    for offset in 0..=response_len {
        let payload = format!("at {offset}\r\nOK\r\n");
        let urc = format!("\r\n+MQTTRECV:\"inj\",{},{payload}\r\n", payload.len());
        dut.sim.inject_in_next_response(offset, urc.into_bytes());
        let state = timeout(DEADLINE, dut.session.modem.state()).await.unwrap();
        assert_eq!(state, Ok(ConnectionState::Disconnected), "offset {offset}");
        let event = timeout(DEADLINE, dut.session.events.next(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("offset {offset}: the URC was lost"));
        match event {
            Event::Message(m) => {
                assert_eq!(
                    (m.topic, m.payload),
                    ("inj", payload.as_bytes()),
                    "offset {offset}"
                );
            }
            other => panic!("offset {offset}: {other:?}"),
        }
    }
}

/// 4. The modem reboots mid-session: the supervisor restores config, connection and every
/// subscription, and a message then published by `mosquitto_pub` arrives.
#[tokio::test]
async fn modem_reboot_is_recovered_with_subscriptions() {
    let mut dut = Dut::start().await;
    let id = unique("reboot");
    let (a, b) = (unique("reboot/a"), unique("reboot/b"));
    let mut sup: Supervisor<'_> = Supervisor::new(broker_config(&id), fast_policy());
    let modem = &mut dut.session.modem;
    until(&mut sup, modem, |e| *e == LinkEvent::Connected, DEADLINE).await;
    sup.subscribe(modem, &a, Qos::AtLeastOnce).await.unwrap();
    sup.subscribe(modem, &b, Qos::AtMostOnce).await.unwrap();

    dut.sim.reboot();
    let seen = until(
        &mut sup,
        modem,
        |e| matches!(e, LinkEvent::Resubscribed { count: 2 }),
        DEADLINE,
    )
    .await;
    assert!(
        seen.contains(&LinkEvent::Disconnected(LossReason::ModemRestarted)),
        "{seen:?}"
    );
    assert_eq!(
        timeout(DEADLINE, modem.config())
            .await
            .unwrap()
            .unwrap()
            .client_id,
        id.as_str()
    );
    mosquitto_pub(&a, b"after reboot", 1, false).await;
    let (topic, payload) = dut.message().await;
    assert_eq!(
        (topic.as_str(), payload.as_slice()),
        (a.as_str(), &b"after reboot"[..])
    );
}

/// 5. mosquitto is killed and restarted: the loss is detected within two state polls, then
/// the supervisor reconnects and re-subscribes. Publishing during the outage fails, and nothing
/// is claimed as sent.
#[tokio::test]
async fn broker_killed_and_restarted() {
    let (port, tls_port) = (free_port(), free_port());
    let broker = start_mosquitto_on(port, tls_port);
    let mut dut = Dut::start().await;
    let id = unique("outage");
    let topic = unique("outage/t");
    let config = Config::new("127.0.0.1", port, &id).credentials(USER, PASSWORD);
    let mut sup: Supervisor<'_> = Supervisor::new(config, fast_policy());
    let modem = &mut dut.session.modem;
    until(&mut sup, modem, |e| *e == LinkEvent::Connected, DEADLINE).await;
    sup.subscribe(modem, &topic, Qos::AtLeastOnce)
        .await
        .unwrap();

    // Count the state polls between the kill and the detection, from the modem's side.
    let mut tap = dut.sim.traffic();
    drop(broker);
    let seen = until(
        &mut sup,
        modem,
        |e| matches!(e, LinkEvent::Disconnected(_)),
        DEADLINE,
    )
    .await;
    let mut polls = 0;
    while let Ok(t) = tap.try_recv() {
        if t.dir == modem_sim::Dir::Rx && t.bytes.windows(12).any(|w| w == b"AT+MQTTSTATE") {
            polls += 1;
        }
    }
    assert!(
        seen.contains(&LinkEvent::Disconnected(LossReason::StatePolled))
            || seen.contains(&LinkEvent::Disconnected(LossReason::LinkError)),
        "{seen:?}"
    );
    assert!(polls <= 2, "loss detected only after {polls} state polls");

    // During the outage every publish fails, typed; none is reported as sent.
    for n in 0..3 {
        let r = sup
            .publish(
                modem,
                &topic,
                format!("lost {n}").as_bytes(),
                Qos::AtLeastOnce,
                false,
            )
            .await;
        assert_eq!(
            r,
            Err(mqtt_modem::Error::NotConnected),
            "publish {n} during the outage"
        );
        let _ = sup.poll(modem).await;
    }

    let broker = start_mosquitto_on(port, tls_port);
    resubscribed_and_delivered(&mut sup, &mut dut, &broker, &topic, b"after outage").await;
}

/// 6. The application stops reading during a flood: commands keep working, and the drops are
/// counted and reported. When it keeps up, a flood of 10,000 messages loses none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_while_not_reading_then_10000_while_reading() {
    let mut dut = Dut::start().await;
    // Not reading: far more than the event queue holds.
    for i in 0..3000 {
        dut.sim.emit_message("flood", format!("{i:08}").as_bytes());
    }
    let state = timeout(DEADLINE, dut.session.modem.state()).await.unwrap();
    assert_eq!(
        state,
        Ok(ConnectionState::Disconnected),
        "a command stalled behind the flood"
    );
    // Wait until the runner has seen all 3000 (queued or dropped).
    let mut buf = vec![0u8; 256];
    let mut received = 0u32;
    let mut reported = 0u32;
    let end = Instant::now() + DEADLINE;
    loop {
        let stats = dut.session.modem.stats();
        if received + stats.dropped_queue_full >= 3000 && reported == stats.dropped_queue_full {
            break;
        }
        assert!(
            Instant::now() < end,
            "flood not accounted for: {received} + {stats:?}"
        );
        match timeout(
            Duration::from_millis(200),
            dut.session.events.next(&mut buf),
        )
        .await
        {
            Ok(Event::Message(_)) => received += 1,
            Ok(Event::Dropped { count }) => reported += count,
            Ok(other) => panic!("{other:?}"),
            Err(_) => dut.sim.emit_message("flood/flush", b"x"),
        }
    }
    let stats = dut.session.modem.stats();
    assert!(stats.dropped_queue_full > 0, "{stats:?}");
    assert_eq!(reported, stats.dropped_queue_full, "drops not reported");

    // Reading: 10,000 back to back, none lost.
    let before = dut.session.modem.stats();
    // At line rate: a 921600-baud UART (the pty alone would be far faster than any modem).
    dut.sim.set_baud(Some(921_600));
    for i in 0..10_000u32 {
        dut.sim.emit_message("keepup", format!("{i:08}").as_bytes());
    }
    let mut next = 0u32;
    while next < 10_000 {
        match timeout(DEADLINE, dut.session.events.next(&mut buf))
            .await
            .expect("flood stalled")
        {
            Event::Message(m) if m.topic == "keepup" => {
                assert_eq!(m.payload, format!("{next:08}").as_bytes());
                next += 1;
            }
            Event::Message(_) => {}
            other => panic!("{other:?} after {next}"),
        }
    }
    assert_eq!(dut.session.modem.stats(), before, "losses while keeping up");
}

/// 7. A command future dropped mid-write: the next command gets its own answer.
#[tokio::test]
async fn command_dropped_mid_write_then_next_gets_its_own_answer() {
    let mut dut = Dut::start().await;
    // 2400 baud: a 3 KiB publish takes about 13 s to write, so it is surely cut mid-line.
    dut.sim.set_baud(Some(2400));
    let payload = vec![b'p'; 3000];
    let mut tap = dut.sim.traffic();
    let publish = dut
        .session
        .modem
        .publish("t", &payload, Qos::AtMostOnce, false);
    assert!(
        timeout(Duration::from_millis(300), publish).await.is_err(),
        "the publish was not cut"
    );
    // The modem got the start of the line and not its end.
    let mut got = Vec::new();
    while let Ok(t) = tap.try_recv() {
        if t.dir == modem_sim::Dir::Rx {
            got.extend_from_slice(&t.bytes);
        }
    }
    assert!(
        got.starts_with(b"AT+MQTTPUB=\"t\",0,0,\"ppp") && !got.contains(&b'\r'),
        "{}",
        got.escape_ascii()
    );
    dut.sim.set_baud(None);
    let id = timeout(DEADLINE, dut.session.modem.identify())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id.model.as_str(), "8088");
    assert_eq!(
        timeout(DEADLINE, dut.session.modem.state()).await.unwrap(),
        Ok(ConnectionState::Disconnected)
    );
}
