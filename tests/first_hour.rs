//! What a new user runs into in the first hour, each failing out loud: a module of another
//! dialect, a runner never spawned or dropped, a serial port that dies, `configure` on an open
//! session, and the words the events print.

mod common;

use common::{ex, run, run_dialect};
use embassy_time::{Duration, Instant, Timer};
use mqtt_modem::{
    Config, Detail, Error, ErrorKind, EspAt, Event, Field, Invalid, LinkEvent, LossReason, Message,
    MqttModem, Options, Policy, Qos, Quectel, Resources, Supervisor, Uc8088,
};

const OK: &[u8] = b"\r\nOK\r\n";
const ERROR: &[u8] = b"\r\nERROR\r\n";

/// An ESP-AT driver on a UC8088: `AT` and `ATE0` pass, `AT+MQTTCONN?` is refused.
#[test]
fn esp_at_driver_on_a_uc8088_says_wrong_dialect() {
    let err = run_dialect(
        EspAt,
        vec![
            ex(b"AT\r\n", OK),
            ex(b"ATE0\r\n", OK),
            ex(b"AT+MQTTCONN?\r\n", b"\r\n+CME ERROR: 4\r\n"),
        ],
        64,
        Options::default(),
        async |m, _, _| m.init().await.unwrap_err(),
    );
    assert_eq!(err, Error::WrongDialect(Detail::Cme(4)));
    assert_eq!(err.kind(), ErrorKind::Input);
    assert_eq!(
        err.to_string(),
        "the module answers AT but refuses this dialect's commands (+CME ERROR: 4): wrong dialect chosen?"
    );
}

/// A UC8088 driver on an ESP-AT module: `AT+CMEE=1` is already refused; the state query tells
/// why.
#[test]
fn uc8088_driver_on_an_esp_at_module_says_wrong_dialect() {
    let err = run(
        vec![
            ex(b"AT\r", OK),
            ex(b"ATE0\r", OK),
            ex(b"AT+CMEE=1\r", ERROR),
            ex(b"AT+MQTTSTATE\r", ERROR),
        ],
        64,
        async |m, _, _| m.init().await.unwrap_err(),
    );
    assert_eq!(err, Error::WrongDialect(Detail::Error));
}

/// A Quectel driver on a UC8088 (which takes the 3GPP bring-up): refused at `AT+QMTCONN?`.
#[test]
fn quectel_driver_on_a_uc8088_says_wrong_dialect() {
    let err = run_dialect(
        Quectel,
        vec![
            ex(b"AT\r", OK),
            ex(b"ATE0\r", OK),
            ex(b"AT+CMEE=1\r", OK),
            ex(b"AT+CFUN=1\r", OK),
            ex(b"AT+QMTCONN?\r", b"\r\n+CME ERROR: 100\r\n"),
        ],
        64,
        Options::default(),
        async |m, _, _| m.init().await.unwrap_err(),
    );
    assert_eq!(err, Error::WrongDialect(Detail::Cme(100)));
}

/// A refusal in the bring-up of a module that does speak the dialect stays what it was: the
/// state query answers.
#[test]
fn a_refused_bring_up_step_of_the_right_dialect_is_not_called_wrong_dialect() {
    let err = run(
        vec![
            ex(b"AT\r", OK),
            ex(b"ATE0\r", OK),
            ex(b"AT+CMEE=1\r", OK),
            ex(b"AT+CFUN=1\r", b"\r\n+CME ERROR: 10\r\n"),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, _| m.init().await.unwrap_err(),
    );
    assert_eq!(
        err,
        Error::Module {
            kind: ErrorKind::Modem,
            detail: Detail::Cme(10),
        }
    );
}

/// A dead modem (no answer at all) is a timeout, not a wrong dialect, and no state query is
/// sent.
#[test]
fn a_silent_modem_is_a_timeout() {
    let options = Options {
        sync_attempts: 2,
        ..Options::default()
    };
    let err = common::run_with(
        vec![ex(b"AT\r", b""), ex(b"AT\r", b"")],
        64,
        options,
        async |m, _, _| m.init().await.unwrap_err(),
    );
    assert_eq!(err, Error::Timeout);
}

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A runner that was never spawned, and one that was dropped: the first command says so at its
/// deadline instead of timing out like a dead modem; `init` does not retry it.
#[test]
fn no_runner_is_reported_as_such() {
    for drop_it in [false, true] {
        let wire = common::Wire::new(vec![ex(b"AT\r", OK)]);
        let mut res: Resources = Resources::new();
        let (mut modem, runner, _events) =
            MqttModem::new(&mut res, wire.reader(64), wire.writer(), Options::default());
        let (err, elapsed) = block_on(async {
            if drop_it {
                // Started, then dropped (its task ended).
                let _ = embassy_time::with_timeout(Duration::from_millis(5), runner.run()).await;
            }
            let start = Instant::now();
            (modem.init().await.unwrap_err(), start.elapsed())
        });
        assert_eq!(err, Error::NoRunner, "dropped: {drop_it}");
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.to_string().contains("spawn `Runner::run`"));
        // One `AT` deadline (300 ms), not ten attempts (3 s).
        assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    }
}

/// The serial port dies mid-session: the supervisor reports the link lost to the serial port,
/// `is_connected()` turns false, every reconnect attempt fails with `Io` and is reported, and
/// the runner backs off instead of spinning.
#[test]
fn a_dead_serial_port_is_reported_and_the_runner_backs_off() {
    let mut bring_up = common::uc8088_bring_up();
    bring_up.push(ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"));
    let policy = Policy {
        poll_interval: Some(Duration::from_secs(10)),
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        ..Policy::default()
    };
    let (events, reads, window, stats) = run(bring_up, 64, async |m, _, w| {
        let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 1883, "id"), policy);
        let give_up = Instant::now() + Duration::from_secs(10);
        let mut events = Vec::new();
        while !sup.is_connected() {
            assert!(Instant::now() < give_up, "never connected: {events:?}");
            match sup.poll(m).await {
                Some(e) => events.push(e),
                None => Timer::at(sup.next_deadline()).await,
            }
        }
        w.kill();
        let killed = Instant::now();
        // Until three attempts failed on the dead port.
        while events
            .iter()
            .filter(|e| matches!(e, LinkEvent::AttemptFailed { .. }))
            .count()
            < 3
        {
            assert!(Instant::now() < give_up, "stuck after {events:?}");
            match sup.poll(m).await {
                Some(e) => events.push(e),
                None => {
                    Timer::at(
                        sup.next_deadline()
                            .min(Instant::now() + Duration::from_millis(5)),
                    )
                    .await;
                }
            }
        }
        assert!(!sup.is_connected());
        (events, w.dead_reads(), killed.elapsed(), m.stats())
    });
    let io = Error::Io(embedded_io::ErrorKind::BrokenPipe);
    let after: Vec<_> = events
        .iter()
        .skip_while(|e| **e != LinkEvent::Connected)
        .skip(1)
        .cloned()
        .collect();
    assert_eq!(after[0], LinkEvent::Disconnected(LossReason::SerialPort));
    let failures: Vec<_> = after
        .iter()
        .filter_map(|e| match e {
            LinkEvent::AttemptFailed { attempt, error, .. } => Some((*attempt, error.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(failures, [(1, io.clone()), (2, io.clone()), (3, io)]);
    // A pause that doubles up to about a second: a few dozen reads at most, not one per
    // millisecond (a slower machine makes fewer reads, never more).
    let ms = window.as_millis().max(1);
    assert!(
        (reads as u64) <= 12 + ms / 100,
        "{reads} reads in {ms} ms: the runner spins"
    );
    assert_eq!(u64::from(stats.read_errors), reads as u64);
}

const STATE_1: &[u8] = b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n";
const STATE_0: &[u8] = b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n";

/// `configure` on an open session is refused with `StillConnected` (after the module confirms
/// the session is open) and writes no setting; after `disconnect` it goes through.
#[test]
fn configure_while_connected_is_refused_until_disconnected() {
    let (refused, then) = run(
        vec![
            ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
            ex(b"AT+MQTTSTATE\r", STATE_1),
            ex(b"AT+MQTTDISCONNECT\r", OK),
            ex(b"AT+MQTTCONFIG=\"new\",1883,\"id\",1,60,\"\",\"\"\r", OK),
        ],
        64,
        async |m, _, _| {
            let config = Config::new("new", 1883, "id");
            m.connect().await.unwrap();
            let refused = m.configure(&config).await;
            m.disconnect().await.unwrap();
            (refused, m.configure(&config).await)
        },
    );
    assert_eq!(refused, Err(Error::StillConnected));
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::Input);
    assert_eq!(then, Ok(()));
}

/// A disconnect that fails because the link is gone (`+MQTTDISCONNECT:5`, network error) leaves
/// no session: configure writes at once. One the module refuses (`ERROR`) may have left it
/// open: configure asks first.
#[test]
fn a_failed_disconnect_leaves_a_session_only_if_the_link_may_be_up() {
    let config = Config::new("h", 1883, "id");
    let configure = ex(b"AT+MQTTCONFIG=\"h\",1883,\"id\",1,60,\"\",\"\"\r", OK);
    let connect = ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n");
    let link_gone = run(
        vec![
            connect.clone(),
            ex(
                b"AT+MQTTDISCONNECT\r",
                b"\r\n+MQTTDISCONNECT:5\r\n\r\nOK\r\n",
            ),
            configure.clone(),
        ],
        64,
        async |m, _, _| {
            m.connect().await.unwrap();
            let kind = m.disconnect().await.map_err(|e| e.kind());
            (kind, m.configure(&config).await)
        },
    );
    assert_eq!(link_gone, (Err(ErrorKind::Link), Ok(())));
    let refused = run(
        vec![
            connect,
            ex(b"AT+MQTTDISCONNECT\r", ERROR),
            ex(b"AT+MQTTSTATE\r", STATE_1),
        ],
        64,
        async |m, _, _| {
            m.connect().await.unwrap();
            let kind = m.disconnect().await.map_err(|e| e.kind());
            (kind, m.configure(&config).await)
        },
    );
    assert_eq!(refused, (Err(ErrorKind::Modem), Err(Error::StillConnected)));
}

/// A session the driver believed open but the module has dropped: the state query says so,
/// and the configuration is written.
#[test]
fn configure_after_a_silent_drop_asks_and_goes_through() {
    run(
        vec![
            ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
            ex(b"AT+MQTTSTATE\r", STATE_0),
            ex(b"AT+MQTTCONFIG=\"h\",1883,\"id\",1,60,\"\",\"\"\r", OK),
        ],
        64,
        async |m, _, _| {
            m.connect().await.unwrap();
            m.configure(&Config::new("h", 1883, "id")).await.unwrap();
        },
    );
}

/// The quickstart's manual bring-up followed by a supervisor: the supervisor's `init` finds
/// the session open, disconnects it, configures and connects again, instead of answering `Ok`
/// while attached to the old broker.
#[test]
fn a_supervisor_after_a_manual_connect_closes_the_old_session_first() {
    let events = run(
        vec![
            ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
            ex(b"AT\r", OK),
            ex(b"ATE0\r", OK),
            ex(b"AT+CMEE=1\r", OK),
            ex(b"AT+CFUN=1\r", OK),
            ex(b"AT+MQTTSTATE\r", STATE_1),
            ex(b"AT+MQTTDISCONNECT\r", OK),
            ex(b"AT+MQTTCONFIG=\"new\",1883,\"id\",1,60,\"\",\"\"\r", OK),
            ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, _| {
            m.connect().await.unwrap();
            let mut sup: Supervisor<'_> =
                Supervisor::new(Config::new("new", 1883, "id"), Policy::default());
            sup.poll(m).await
        },
    );
    assert_eq!(events, Some(LinkEvent::Connected));
}

/// Filters registered before the link is up are made on the first connect, in order, with
/// their QoS; a filter the dialect refuses is refused at once and not kept.
#[test]
fn subscriptions_registered_before_the_link_are_made_on_connect() {
    let mut script = common::esp_at_bring_up();
    script.extend([
        ex(
            b"AT+MQTTCONN=0,\"h\",1883,0\r\n",
            b"\r\n+MQTTCONNECTED:0,1,\"h\",\"1883\",\"\",0\r\n\r\nOK\r\n",
        ),
        ex(b"AT+MQTTSUB=0,\"a/#\",1\r\n", OK),
        ex(b"AT+MQTTSUB=0,\"b\",2\r\n", OK),
    ]);
    let events = run_dialect(EspAt, script, 64, Options::default(), async |m, _, w| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 1883, "id"), Policy::default());
        sup.subscribe(m, "a/#", Qos::AtMostOnce).await.unwrap();
        sup.subscribe(m, "b", Qos::ExactlyOnce).await.unwrap();
        // Registered again: its QoS replaced, not a second entry.
        sup.subscribe(m, "a/#", Qos::AtLeastOnce).await.unwrap();
        // Within the supervisor's 64 bytes, but refused by the dialect's own check.
        assert_eq!(
            sup.subscribe(m, "a/#/b", Qos::AtMostOnce).await,
            Err(Error::InvalidInput {
                field: Field::TopicFilter,
                reason: Invalid::MisplacedWildcard
            })
        );
        assert!(
            w.sent().is_empty(),
            "nothing written while the link is down"
        );
        vec![sup.poll(m).await, sup.poll(m).await]
    });
    assert_eq!(
        events,
        [
            Some(LinkEvent::Connected),
            Some(LinkEvent::Resubscribed { count: 2 })
        ]
    );
}

#[test]
fn events_and_link_events_print_in_words() {
    let message = Event::Message(Message {
        topic: "cmd/dev-1",
        payload: b"led on",
    });
    assert_eq!(
        message.to_string(),
        "message on cmd/dev-1: 6 bytes \"led on\""
    );
    let binary = Event::Message(Message {
        topic: "t",
        payload: &[0, 0xff, b'"', b'a'],
    });
    assert_eq!(
        binary.to_string(),
        "message on t: 4 bytes \"\\x00\\xff\\\"a\""
    );
    let long = [b'x'; 100];
    let long = Event::Message(Message {
        topic: "t",
        payload: &long,
    });
    assert_eq!(
        long.to_string(),
        format!("message on t: 100 bytes \"{}\"…", "x".repeat(64))
    );
    assert_eq!(
        Event::Dropped { count: 3 }.to_string(),
        "3 incoming messages or events lost"
    );
    assert_eq!(Event::Restarted.to_string(), "the modem restarted");
    assert_eq!(
        Event::Unrecognised(b"+CREG: 1").to_string(),
        "unrecognised line \"+CREG: 1\""
    );
    assert_eq!(
        LinkEvent::Disconnected(LossReason::SerialPort).to_string(),
        "disconnected: the serial port failed"
    );
    assert_eq!(
        LinkEvent::AttemptFailed {
            attempt: 2,
            error: Error::Timeout,
            retry_in: Duration::from_millis(1500),
        }
        .to_string(),
        "attempt 2 failed: no answer from the modem before the deadline; next in 1500 ms"
    );
    assert_eq!(LinkEvent::Connected.to_string(), "connected");
}

/// The sizes of the default [`Resources`] need not be written anywhere.
#[test]
fn default_sizes_need_no_type_parameters() {
    fn takes(_: &mqtt_modem::Runner<'_, common::Reader>, _: &MqttModem<'_, common::MockUart>) {}
    let wire = common::Wire::new(vec![]);
    let mut res: Resources = Resources::new();
    let (modem, runner, events): (_, _, mqtt_modem::Events<'_>) = MqttModem::with_dialect(
        Uc8088,
        &mut res,
        wire.reader(1),
        wire.writer(),
        Options::default(),
    );
    takes(&runner, &modem);
    let _ = events;
}

/// A URC right after an answer's `OK`, with nothing after it on the line, is an event at
/// once: it does not wait for a byte that may never come (the reader here waits for bytes, as
/// a UART does, instead of answering `Ok(0)`).
#[test]
fn a_urc_right_after_an_answer_is_delivered_without_another_byte() {
    let event = run(
        vec![ex(b"AT\r", b"\r\nOK\r\n\r\n+MQTTSTATE:0\r\n")],
        64,
        async |m, events, _| {
            m.send(&mqtt_modem::dialect::basic::At).await.unwrap();
            let mut buf = [0u8; 64];
            embassy_time::with_timeout(Duration::from_secs(1), events.next(&mut buf))
                .await
                .map(|e| e.to_string())
        },
    );
    assert_eq!(
        event.as_deref(),
        Ok("the module reports the link disconnected")
    );
}

/// A filter registered while the link is down is checked as the dialect would check it: a `"`
/// in a Quectel filter (its quoted strings have no escape) is refused at once, instead of
/// failing every later bring-up.
#[test]
fn a_filter_the_dialect_refuses_is_refused_at_registration() {
    let refused = run_dialect(Quectel, vec![], 64, Options::default(), async |m, _, w| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 1883, "id"), Policy::default());
        let r = sup.subscribe(m, "a\"b", Qos::AtMostOnce).await;
        assert!(w.sent().is_empty());
        assert_eq!(sup.subscriptions().count(), 0);
        r
    });
    assert_eq!(
        refused,
        Err(Error::InvalidInput {
            field: Field::TopicFilter,
            reason: Invalid::Quote
        })
    );
}

/// A registered filter the broker refuses at a connect is dropped and reported; the link comes
/// up with the others (it is not retried for ever).
#[test]
fn a_filter_the_broker_refuses_is_dropped_and_the_link_comes_up() {
    let mut script = common::quectel_bring_up();
    script.extend([
        ex(
            b"AT+QMTOPEN=0,\"h\",1883\r",
            b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n",
        ),
        ex(
            b"AT+QMTCONN=0,\"id\"\r",
            b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
        ),
        ex(
            b"AT+QMTSUB=0,1,\"no/way\",1\r",
            b"\r\nOK\r\n\r\n+QMTSUB: 0,1,0,128\r\n",
        ),
        ex(
            b"AT+QMTSUB=0,2,\"ok\",0\r",
            b"\r\nOK\r\n\r\n+QMTSUB: 0,2,0,0\r\n",
        ),
    ]);
    let events = run_dialect(Quectel, script, 64, Options::default(), async |m, _, _| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 1883, "id"), Policy::default());
        sup.subscribe(m, "no/way", Qos::AtLeastOnce).await.unwrap();
        sup.subscribe(m, "ok", Qos::AtMostOnce).await.unwrap();
        let mut events = Vec::new();
        while let Some(e) = sup.poll(m).await {
            events.push(e);
            assert!(events.len() < 16, "events without end: {events:?}");
        }
        assert_eq!(
            sup.subscriptions().collect::<Vec<_>>(),
            [("ok", Qos::AtMostOnce)]
        );
        assert!(sup.is_connected());
        events
    });
    assert_eq!(
        events,
        [
            LinkEvent::SubscriptionRefused {
                error: Error::Module {
                    kind: ErrorKind::Broker,
                    detail: Detail::Result(128),
                }
            },
            LinkEvent::Connected,
            LinkEvent::Resubscribed { count: 1 },
        ]
    );
}

/// A connect whose answer never came may still have connected: the next `configure` asks the
/// module before writing (here it is not connected, so the settings go through).
#[test]
fn configure_after_an_unanswered_connect_asks_first() {
    let options = Options {
        max_deadline: Duration::from_millis(100),
        ..Options::default()
    };
    common::run_with(
        vec![
            ex(b"AT+MQTTCONNECT\r", b""),
            ex(b"AT+MQTTSTATE\r", STATE_0),
            ex(b"AT+MQTTCONFIG=\"h\",1883,\"id\",1,60,\"\",\"\"\r", OK),
        ],
        64,
        options,
        async |m, _, _| {
            assert_eq!(m.connect().await, Err(Error::Timeout));
            m.configure(&Config::new("h", 1883, "id")).await.unwrap();
        },
    );
}

/// The serial port dies and a publish fails on it before the supervisor polls: that failure
/// reports the loss, as the serial port's.
#[test]
fn a_call_failing_on_a_dead_port_reports_the_serial_port() {
    let mut bring_up = common::uc8088_bring_up();
    bring_up.push(ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"));
    let (r, event) = run(bring_up, 64, async |m, _, w| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 1883, "id"), Policy::default());
        assert_eq!(sup.poll(m).await, Some(LinkEvent::Connected));
        w.kill();
        let r = sup.publish(m, "t", b"x", Qos::AtMostOnce, false).await;
        (r, sup.poll(m).await)
    });
    assert_eq!(r, Err(Error::Io(embedded_io::ErrorKind::BrokenPipe)));
    assert_eq!(event, Some(LinkEvent::Disconnected(LossReason::SerialPort)));
}

/// Two failed reads in a row are a line error (an overrun, a framing error): counted, not a
/// lost serial port; the third in a row is.
#[test]
fn a_serial_port_is_reported_failed_at_the_third_read_error_in_a_row() {
    for (errors, loss) in [
        (2, None),
        (3, Some(LinkEvent::Disconnected(LossReason::SerialPort))),
    ] {
        let mut bring_up = common::uc8088_bring_up();
        bring_up.push(ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"));
        if loss.is_some() {
            // A lost port is brought up again from scratch.
            bring_up.extend_from_within(..);
        }
        let policy = Policy {
            poll_interval: Some(Duration::from_secs(10)),
            ..Policy::default()
        };
        let (event, read_errors) = run(bring_up, 64, async |m, ev, w| {
            let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 1883, "id"), policy);
            while !sup.is_connected() {
                assert!(sup.poll(m).await.is_some(), "stuck before connecting");
            }
            while sup.poll(m).await.is_some() {}
            // The reads fail, then a line comes through.
            w.fail_reads(errors);
            w.inject(b"\r\n+MQTTSTATE:1\r\n");
            let mut buf = [0u8; 16];
            common::next_event(ev, &mut buf).await;
            let event = sup.poll(m).await;
            let read_errors = m.stats().read_errors;
            for _ in 0..16 {
                if sup.poll(m).await.is_none() && sup.is_connected() {
                    break;
                }
            }
            (event, read_errors)
        });
        assert_eq!(event, loss, "{errors} errors");
        assert_eq!(read_errors, errors as u32);
    }
}
