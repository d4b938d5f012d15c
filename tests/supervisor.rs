//! The connection supervisor against a scripted modem: bring-up, polling, loss, reconnect with
//! backoff, re-subscription, restart recovery, NotConnected, and the reset pin.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{ex, run};
use embassy_time::{Duration, Instant, Timer};
use mqtt_modem::{
    Config, Detail, Error, ErrorKind, LinkEvent, LossReason, Policy, Qos, ResetPin, Supervisor, Tls,
};

const OK: &[u8] = b"\r\nOK\r\n";
const STATE_0: &[u8] = b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n";

fn policy() -> Policy {
    Policy {
        poll_interval: Some(Duration::from_millis(20)),
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(80),
        silent_limit: 2,
        jitter_seed: 7,
    }
}

fn bring_up() -> Vec<common::Exchange> {
    vec![
        ex(b"AT\r", OK),
        ex(b"ATE0\r", OK),
        ex(b"AT+CMEE=1\r", OK),
        ex(b"AT+CFUN=1\r", OK),
        ex(b"AT+MQTTSTATE\r", STATE_0),
        ex(b"AT+MQTTTLS=1,0,\"CA\\n\",3\r", OK),
        ex(b"AT+MQTTCONFIG=\"h\",8883,\"id\",1,60,\"\",\"\"\r", OK),
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
    ]
}

/// Polls until an event comes (or a deadline passes).
async fn next_event<D: mqtt_modem::Dialect>(
    sup: &mut Supervisor<'_>,
    modem: &mut mqtt_modem::MqttModem<'_, common::MockUart, D>,
) -> LinkEvent {
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(e) = sup.poll(modem).await {
            return e;
        }
        assert!(Instant::now() < give_up, "no link event");
        Timer::at(
            sup.next_deadline()
                .min(Instant::now() + Duration::from_millis(5)),
        )
        .await;
    }
}

/// Every event until `done` holds for those seen, within 5 s (a mutant that stops the events
/// fails the test instead of hanging it).
async fn poll_until<P: mqtt_modem::ModemReset, D: mqtt_modem::Dialect>(
    sup: &mut Supervisor<'_, P>,
    modem: &mut mqtt_modem::MqttModem<'_, common::MockUart, D>,
    done: impl Fn(&[LinkEvent]) -> bool,
) -> Vec<LinkEvent> {
    let mut seen = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(5);
    while !done(&seen) {
        assert!(Instant::now() < give_up, "stuck after {seen:?}");
        match sup.poll(modem).await {
            Some(e) => seen.push(e),
            None => Timer::at(sup.next_deadline()).await,
        }
    }
    seen
}

#[test]
fn brings_up_polls_detects_loss_reconnects_and_resubscribes() {
    let mut script = bring_up();
    script.extend([
        ex(b"AT+MQTTSUB=\"cmd/#\",1\r", OK),
        ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
        ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
        ex(b"AT+MQTTSUB=\"cmd/#\",1\r", OK),
    ]);
    let events = run(script, 64, async |m, _, _| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        let mut seen = vec![next_event(&mut sup, m).await];
        sup.subscribe(m, "cmd/#", Qos::AtLeastOnce).await.unwrap();
        for _ in 0..3 {
            seen.push(next_event(&mut sup, m).await);
        }
        assert!(sup.is_connected());
        seen
    });
    assert_eq!(
        events,
        [
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::StatePolled),
            LinkEvent::Connected,
            LinkEvent::Resubscribed { count: 1 },
        ]
    );
}

#[test]
fn publish_while_down_is_refused_at_once_and_sends_nothing() {
    run(vec![], 64, async |m, _, w| {
        let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 1883, "id"), policy());
        assert_eq!(
            sup.publish(m, "t", b"x", Qos::AtLeastOnce, false).await,
            Err(Error::NotConnected)
        );
        // Registered for the first connect; nothing is written while the link is down.
        assert_eq!(sup.subscribe(m, "t", Qos::AtMostOnce).await, Ok(()));
        assert_eq!(sup.unsubscribe(m, "gone").await, Ok(()));
        assert_eq!(
            sup.subscriptions().collect::<Vec<_>>(),
            [("t", Qos::AtMostOnce)]
        );
        assert!(w.sent().is_empty());
    });
}

#[test]
fn code_10_on_publish_is_reported_and_marks_the_link_down() {
    let mut script = bring_up();
    script.extend([
        ex(
            b"AT+MQTTPUB=\"t\",1,0,\"x\"\r",
            b"\r\n+MQTTPUB:10\r\n\r\nERROR\r\n",
        ),
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
    ]);
    let (r, e1, e2) = run(script, 64, async |m, _, _| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        assert_eq!(next_event(&mut sup, m).await, LinkEvent::Connected);
        let r = sup.publish(m, "t", b"x", Qos::AtLeastOnce, false).await;
        assert!(!sup.is_connected());
        (
            r,
            next_event(&mut sup, m).await,
            next_event(&mut sup, m).await,
        )
    });
    assert_eq!(
        r,
        Err(Error::Module {
            kind: ErrorKind::Link,
            detail: Detail::Result(10),
        })
    );
    assert_eq!(e1, LinkEvent::Disconnected(LossReason::LinkError));
    assert_eq!(e2, LinkEvent::Connected);
}

#[test]
fn modem_restart_reapplies_tls_config_and_subscriptions() {
    let mut script = bring_up();
    script.push(ex(b"AT+MQTTSUB=\"a\",2\r", OK));
    script.extend(bring_up());
    script.push(ex(b"AT+MQTTSUB=\"a\",2\r", OK));
    let events = run(script, 64, async |m, _, w| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        let mut seen = vec![next_event(&mut sup, m).await];
        sup.subscribe(m, "a", Qos::ExactlyOnce).await.unwrap();
        // The modem reboots: boot banner, settings gone.
        w.inject(b"\r\nRDY\r\n");
        for _ in 0..3 {
            seen.push(next_event(&mut sup, m).await);
        }
        seen
    });
    assert_eq!(
        events,
        [
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::ModemRestarted),
            LinkEvent::Connected,
            LinkEvent::Resubscribed { count: 1 },
        ]
    );
}

#[test]
fn unsolicited_state_0_means_lost() {
    let mut script = bring_up();
    script.push(ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"));
    let events = run(script, 64, async |m, _, w| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        let a = next_event(&mut sup, m).await;
        w.inject(b"\r\n+MQTTSTATE:0\r\n");
        (
            a,
            next_event(&mut sup, m).await,
            next_event(&mut sup, m).await,
        )
    });
    assert_eq!(
        events,
        (
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::LinkError),
            LinkEvent::Connected
        )
    );
}

/// The events with each `AttemptFailed`'s delay taken out (it is random), and those delays.
fn delays(events: Vec<LinkEvent>) -> (Vec<LinkEvent>, Vec<Duration>) {
    let mut delays = Vec::new();
    let events = events
        .into_iter()
        .map(|e| match e {
            LinkEvent::AttemptFailed {
                attempt,
                error,
                retry_in,
            } => {
                delays.push(retry_in);
                LinkEvent::AttemptFailed {
                    attempt,
                    error,
                    retry_in: Duration::from_ticks(0),
                }
            }
            other => other,
        })
        .collect();
    (events, delays)
}

fn failed(attempt: u32, error: Error) -> LinkEvent {
    LinkEvent::AttemptFailed {
        attempt,
        error,
        retry_in: Duration::from_ticks(0),
    }
}

/// The documented jitter, computed here on its own: xorshift32 (13, 17, 5) from the seed
/// (made odd), the top 16 bits as the fraction, `base/2 + base/2 · fraction / 65536`. The same
/// seed gives the same delays.
fn jittered(seed: u32, bases_ms: &[u64]) -> Vec<Duration> {
    let mut rng = seed | 1;
    bases_ms
        .iter()
        .map(|&ms| {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            let half = Duration::from_millis(ms).as_ticks() / 2;
            let fraction = u64::from(rng >> 16);
            Duration::from_ticks(half + half * fraction / 65536)
        })
        .collect()
}

/// Each delay lies in [base/2, base) with base doubling from 10 ms up to the 80 ms cap, exactly
/// as the documented jitter gives it for the seed, and the supervisor's deadline after each
/// failure is that delay (within the time the poll took).
#[test]
fn failed_connects_back_off_exponentially_with_jitter() {
    let refused = b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n";
    let mut script: Vec<_> = bring_up()[..7].to_vec();
    for _ in 0..4 {
        script.push(ex(b"AT+MQTTCONNECT\r", refused));
    }
    script.push(ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"));
    let (events, deadlines) = run(script, 64, async |m, _, _| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        let (mut events, mut deadlines) = (Vec::new(), Vec::new());
        let give_up = Instant::now() + Duration::from_secs(5);
        let mut attempt_began = Instant::now();
        while events.last() != Some(&LinkEvent::Connected) {
            assert!(Instant::now() < give_up, "stuck after {events:?}");
            let before = Instant::now();
            let event = sup.poll(m).await;
            match event {
                // The poll that made the attempt returns its first event.
                Some(
                    LinkEvent::Reconnecting { .. } | LinkEvent::AttemptFailed { attempt: 1, .. },
                ) => {
                    attempt_began = before;
                }
                None => Timer::at(sup.next_deadline()).await,
                _ => {}
            }
            if let Some(e) = event {
                if matches!(e, LinkEvent::AttemptFailed { .. }) {
                    // The wait the failed attempt chose, as bounds.
                    let next = sup.next_deadline();
                    deadlines.push((
                        next.saturating_duration_since(Instant::now()),
                        next.saturating_duration_since(attempt_began),
                    ));
                }
                events.push(e);
            }
        }
        (events, deadlines)
    });
    let (events, delays) = delays(events);
    let refused = || Error::Module {
        kind: ErrorKind::Link,
        detail: Detail::Result(5),
    };
    assert_eq!(
        events,
        [
            failed(1, refused()),
            LinkEvent::Reconnecting { attempt: 1 },
            failed(2, refused()),
            LinkEvent::Reconnecting { attempt: 2 },
            failed(3, refused()),
            LinkEvent::Reconnecting { attempt: 3 },
            failed(4, refused()),
            LinkEvent::Reconnecting { attempt: 4 },
            LinkEvent::Connected,
        ]
    );
    assert_eq!(delays, jittered(policy().jitter_seed, &[10, 20, 40, 80]));
    for (delay, base) in delays.iter().zip([10u64, 20, 40, 80]) {
        let us = delay.as_micros();
        assert!(
            us >= base * 500 && us < base * 1000,
            "{delay:?} for base {base} ms"
        );
    }
    // Jitter: four delays, not all the same fraction of their base.
    let fractions: Vec<u64> = delays
        .iter()
        .zip([10u64, 20, 40, 80])
        .map(|(d, base)| d.as_micros() * 1000 / (base * 1000))
        .collect();
    assert!(fractions.windows(2).any(|w| w[0] != w[1]), "{fractions:?}");
    for (&(least, most), delay) in deadlines.iter().zip(&delays) {
        assert!(
            least <= *delay && *delay <= most,
            "{least:?} ≤ {delay:?} ≤ {most:?}"
        );
    }
}

#[derive(Clone, Default)]
struct Pin(Rc<RefCell<Vec<&'static str>>>);

impl embedded_hal::digital::ErrorType for Pin {
    type Error = core::convert::Infallible;
}

impl embedded_hal::digital::OutputPin for Pin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.borrow_mut().push("low");
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.borrow_mut().push("high");
        Ok(())
    }
}

#[test]
fn silent_modem_gets_a_reset_pulse() {
    let pin = Pin::default();
    let log = pin.0.clone();
    let options = mqtt_modem::Options {
        sync_attempts: 2,
        ..Default::default()
    };
    let events = common::run_with(
        vec![
            ex(b"AT\r", b""),
            ex(b"AT\r", b""),
            ex(b"AT\r", b""),
            ex(b"AT\r", b""),
        ],
        64,
        options,
        async |m, _, _| {
            let mut sup = Supervisor::<'_, _, 8, 64>::new(
                Config::new("h", 1883, "id"),
                Policy {
                    silent_limit: 2,
                    ..policy()
                },
            )
            .with_reset(ResetPin {
                pin,
                pulse: Duration::from_millis(1),
                boot: Duration::from_millis(1),
            });
            poll_until(&mut sup, m, |seen| {
                matches!(
                    seen.last(),
                    Some(LinkEvent::AttemptFailed { attempt: 2, .. })
                )
            })
            .await
        },
    );
    // Two bring-up attempts of two silent `AT` probes each; the second reaches the silent
    // limit, so the pin is pulsed before that attempt is reported.
    assert_eq!(
        delays(events).0,
        [
            failed(1, Error::Timeout),
            LinkEvent::Reconnecting { attempt: 1 },
            LinkEvent::ModemReset,
            failed(2, Error::Timeout),
        ]
    );
    assert_eq!(*log.borrow(), ["low", "high"]);
}

// The same policy in every dialect: a broker that refuses, or cannot be reached, is retried with
// backoff and no modem re-initialisation (the script holds no `AT`/`ATE0` between the
// connects); a modem that reboots is brought up from scratch. Each dialect reports these its
// own way; `Error::kind` reads them alike.

/// Every event until the `n`th `Connected`, each `AttemptFailed`'s delay taken out (see
/// [`delays`]). `reboot` is the boot banner the modem sends once the first connection is up, if
/// any.
fn supervise<D: mqtt_modem::Dialect>(
    dialect: D,
    script: Vec<common::Exchange>,
    reboot: Option<&'static [u8]>,
    n: usize,
) -> (Vec<LinkEvent>, Vec<Duration>) {
    let events = common::run_dialect(
        dialect,
        script,
        7,
        mqtt_modem::Options::default(),
        async |m, _, w| {
            let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 1883, "id"), policy());
            let mut events = Vec::new();
            let give_up = Instant::now() + Duration::from_secs(5);
            while events
                .iter()
                .filter(|e| **e == LinkEvent::Connected)
                .count()
                < n
            {
                assert!(Instant::now() < give_up, "stuck after {events:?}");
                match sup.poll(m).await {
                    Some(e) => {
                        if e == LinkEvent::Connected && events.is_empty() {
                            if let Some(banner) = reboot {
                                w.inject(banner);
                            }
                        }
                        events.push(e);
                    }
                    None => Timer::at(sup.next_deadline()).await,
                }
            }
            events
        },
    );
    delays(events)
}

/// Two failed connects, failing with `first` then `second`, then success; each retry after a
/// backoff of 10 ms doubling, scaled by a jitter in [0.5, 1), and none re-initialising the
/// modem (the scripts hold no `AT`).
fn assert_reconnected_with_backoff(
    (events, delays): (Vec<LinkEvent>, Vec<Duration>),
    first: Error,
    second: Error,
) {
    assert_eq!(
        events,
        [
            failed(1, first),
            LinkEvent::Reconnecting { attempt: 1 },
            failed(2, second),
            LinkEvent::Reconnecting { attempt: 2 },
            LinkEvent::Connected,
        ]
    );
    assert_eq!(delays.len(), 2, "{delays:?}");
    for (delay, base) in delays.iter().zip([10u64, 20]) {
        let us = delay.as_micros();
        assert!(
            us >= base * 500 && us < base * 1000,
            "{delay:?} for base {base} ms"
        );
    }
}

/// The events of a modem that reboots once connected: loss, then a full bring-up.
fn assert_brought_up_again((events, _): (Vec<LinkEvent>, Vec<Duration>)) {
    assert_eq!(
        events,
        [
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::ModemRestarted),
            LinkEvent::Connected,
        ]
    );
}

#[test]
fn uc8088_broker_refusal_and_outage_reconnect_without_reinit() {
    let mut script = common::uc8088_bring_up();
    script.extend([
        // 9: the server refused; 5: the network is unusable.
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:9\r\n\r\nERROR\r\n"),
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n"),
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
    ]);
    assert_reconnected_with_backoff(
        supervise(mqtt_modem::Uc8088, script, None, 1),
        Error::Module {
            kind: ErrorKind::Broker,
            detail: Detail::Result(9),
        },
        Error::Module {
            kind: ErrorKind::Link,
            detail: Detail::Result(5),
        },
    );
}

#[test]
fn uc8088_modem_reboot_brings_it_up_again() {
    let connect = ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n");
    let mut script = common::uc8088_bring_up();
    script.push(connect.clone());
    script.extend(common::uc8088_bring_up());
    script.push(connect);
    assert_brought_up_again(supervise(
        mqtt_modem::Uc8088,
        script,
        Some(b"\r\nRDY\r\n"),
        2,
    ));
}

const ESP_CONNECT: &[u8] = b"AT+MQTTCONN=0,\"h\",1883,0\r\n";
const ESP_CONNECTED: &[u8] = b"\r\n+MQTTCONNECTED:0,1,\"h\",\"1883\",\"\",0\r\n\r\nOK\r\n";

/// ESP-AT reports a refused and an unreachable broker alike, with `ERROR` (docs/DIALECTS.md,
/// "Errors"): both read as the link, and are retried, configured again as ESP-AT needs, without
/// re-initialising the modem.
#[test]
fn esp_at_broker_refusal_and_outage_reconnect_without_reinit() {
    let mut script = common::esp_at_bring_up();
    script.push(ex(ESP_CONNECT, b"\r\nERROR\r\n"));
    script.extend(common::esp_at_configure());
    script.push(ex(ESP_CONNECT, b"\r\n+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n"));
    script.extend(common::esp_at_configure());
    script.push(ex(ESP_CONNECT, ESP_CONNECTED));
    let outage = Error::Module {
        kind: ErrorKind::Link,
        detail: Detail::Error,
    };
    assert_reconnected_with_backoff(
        supervise(mqtt_modem::EspAt, script, None, 1),
        outage.clone(),
        outage,
    );
}

#[test]
fn esp_at_modem_reboot_brings_it_up_again() {
    let mut script = common::esp_at_bring_up();
    script.push(ex(ESP_CONNECT, ESP_CONNECTED));
    script.extend(common::esp_at_bring_up());
    script.push(ex(ESP_CONNECT, ESP_CONNECTED));
    assert_brought_up_again(supervise(
        mqtt_modem::EspAt,
        script,
        Some(b"\r\nready\r\n"),
        2,
    ));
}

const QMTOPEN: &[u8] = b"AT+QMTOPEN=0,\"h\",1883\r";
const QMTCONN: &[u8] = b"AT+QMTCONN=0,\"id\"\r";

#[test]
fn quectel_broker_refusal_and_outage_reconnect_without_reinit() {
    let mut script = common::quectel_bring_up();
    script.extend([
        // CONNACK 5, not authorised: the broker refused.
        ex(QMTOPEN, b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n"),
        ex(QMTCONN, b"\r\nOK\r\n\r\n+QMTCONN: 0,0,5\r\n"),
        // 5: the network connection failed (the broker is down).
        ex(QMTOPEN, b"\r\nOK\r\n\r\n+QMTOPEN: 0,5\r\n"),
        ex(QMTOPEN, b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n"),
        ex(QMTCONN, b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n"),
    ]);
    assert_reconnected_with_backoff(
        supervise(mqtt_modem::Quectel, script, None, 1),
        Error::Module {
            kind: ErrorKind::Broker,
            detail: Detail::Connack(5),
        },
        Error::Module {
            kind: ErrorKind::Link,
            detail: Detail::Result(5),
        },
    );
}

#[test]
fn quectel_modem_reboot_brings_it_up_again() {
    let connect = [
        ex(QMTOPEN, b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n"),
        ex(QMTCONN, b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n"),
    ];
    let mut script = common::quectel_bring_up();
    script.extend(connect.clone());
    script.extend(common::quectel_bring_up());
    script.extend(connect);
    assert_brought_up_again(supervise(
        mqtt_modem::Quectel,
        script,
        Some(b"\r\nRDY\r\n"),
        2,
    ));
}

/// Without `Policy::poll_interval`, the state is polled every half keepalive (here 4 s → 2 s),
/// and never more often than every second (keepalive 1 → 1 s).
#[test]
fn default_poll_interval_is_half_the_keepalive() {
    for (keepalive, every) in [(4u16, 2000u64), (1, 1000)] {
        let config_line =
            format!("AT+MQTTCONFIG=\"h\",1883,\"id\",1,{keepalive},\"\",\"\"\r").into_bytes();
        let mut script = common::uc8088_bring_up();
        script.pop();
        script.push(ex(&config_line, OK));
        script.push(ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"));
        let (before, after, deadline) = run(script, 64, async |m, _, _| {
            let config = Config::new("h", 1883, "id").keepalive(keepalive);
            let mut sup: Supervisor<'_> = Supervisor::new(config, Policy::default());
            let before = Instant::now();
            assert_eq!(sup.poll(m).await, Some(LinkEvent::Connected));
            (before, Instant::now(), sup.next_deadline())
        });
        let every = Duration::from_millis(every);
        assert!(
            deadline >= before + every && deadline <= after + every,
            "keepalive {keepalive}: next poll {:?} after the connect",
            deadline.saturating_duration_since(before)
        );
    }
}

/// State polls that get no answer add up: at the silent limit the link is reported down as
/// `ModemSilent`, and the next attempt brings the modem up from scratch (`AT` first).
#[test]
fn unanswered_state_polls_make_the_modem_silent() {
    let mut script = bring_up();
    script.extend([ex(b"AT+MQTTSTATE\r", b""), ex(b"AT+MQTTSTATE\r", b"")]);
    script.extend(bring_up());
    let options = mqtt_modem::Options {
        max_deadline: Duration::from_millis(50),
        ..Default::default()
    };
    let events = common::run_with(script, 64, options, async |m, _, _| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        poll_until(&mut sup, m, |seen| {
            seen.iter().filter(|e| **e == LinkEvent::Connected).count() == 2
        })
        .await
    });
    assert_eq!(
        events,
        [
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::ModemSilent),
            LinkEvent::Connected,
        ]
    );
}

/// Unsubscribing while up sends the command and forgets the filter: the next reconnect makes
/// only the others.
#[test]
fn unsubscribe_while_up_forgets_the_filter() {
    let mut script = bring_up();
    script.extend([
        ex(b"AT+MQTTSUB=\"a\",1\r", OK),
        ex(b"AT+MQTTSUB=\"b\",0\r", OK),
        ex(b"AT+MQTTUNSUB=\"a\"\r", OK),
        ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
        ex(b"AT+MQTTSUB=\"b\",0\r", OK),
    ]);
    let events = run(script, 64, async |m, _, _| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        let mut seen = vec![next_event(&mut sup, m).await];
        sup.subscribe(m, "a", Qos::AtLeastOnce).await.unwrap();
        sup.subscribe(m, "b", Qos::AtMostOnce).await.unwrap();
        sup.unsubscribe(m, "a").await.unwrap();
        assert_eq!(
            sup.subscriptions().collect::<Vec<_>>(),
            [("b", Qos::AtMostOnce)]
        );
        for _ in 0..3 {
            seen.push(next_event(&mut sup, m).await);
        }
        seen
    });
    assert_eq!(
        events,
        [
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::StatePolled),
            LinkEvent::Connected,
            LinkEvent::Resubscribed { count: 1 },
        ]
    );
}

/// Without a reset pin the silent limit brings the modem up from scratch but pulses nothing and
/// reports no `ModemReset`.
#[test]
fn silent_modem_without_a_reset_pin_reports_no_reset() {
    let options = mqtt_modem::Options {
        sync_attempts: 2,
        ..Default::default()
    };
    let events = common::run_with(
        vec![
            ex(b"AT\r", b""),
            ex(b"AT\r", b""),
            ex(b"AT\r", b""),
            ex(b"AT\r", b""),
        ],
        64,
        options,
        async |m, _, _| {
            let mut sup: Supervisor<'_> = Supervisor::new(
                Config::new("h", 1883, "id"),
                Policy {
                    silent_limit: 2,
                    ..policy()
                },
            );
            poll_until(&mut sup, m, |seen| {
                matches!(
                    seen.last(),
                    Some(LinkEvent::AttemptFailed { attempt: 2, .. })
                )
            })
            .await
        },
    );
    assert_eq!(
        delays(events).0,
        [
            failed(1, Error::Timeout),
            LinkEvent::Reconnecting { attempt: 1 },
            failed(2, Error::Timeout),
        ]
    );
}

/// A call that fails with the link while a boot banner waits unread: the loss is the restart
/// (not a plain link error), and the modem is brought up from scratch.
#[test]
fn a_link_failure_after_an_unread_boot_banner_is_a_restart() {
    let mut script = bring_up();
    script.push(ex(
        b"AT+MQTTPUB=\"t\",1,0,\"x\"\r",
        b"\r\n+MQTTPUB:10\r\n\r\nERROR\r\n",
    ));
    script.extend(bring_up());
    let events = run(script, 64, async |m, _, w| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy()).with_tls(Tls::root_ca(b"CA\n"));
        let mut seen = vec![next_event(&mut sup, m).await];
        // The banner comes, and before the supervisor polls, a publish fails with the link.
        w.inject(b"\r\nRDY\r\n");
        let r = sup.publish(m, "t", b"x", Qos::AtLeastOnce, false).await;
        assert!(
            matches!(
                r,
                Err(Error::Module {
                    kind: ErrorKind::Link,
                    ..
                })
            ),
            "{r:?}"
        );
        seen.push(next_event(&mut sup, m).await);
        seen.push(next_event(&mut sup, m).await);
        seen
    });
    assert_eq!(
        events,
        [
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::ModemRestarted),
            LinkEvent::Connected,
        ]
    );
}

/// A subscription made while up that the broker refuses is not kept; one that fails with the
/// link is kept (and the link is down), to be made at the reconnect.
#[test]
fn a_refused_subscription_is_not_kept_and_a_link_failure_keeps_it() {
    let mut script = common::quectel_bring_up();
    let open = [
        ex(
            b"AT+QMTOPEN=0,\"h\",1883\r",
            b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n",
        ),
        ex(
            b"AT+QMTCONN=0,\"id\"\r",
            b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
        ),
    ];
    script.extend(open.clone());
    script.extend([
        ex(
            b"AT+QMTSUB=0,1,\"no\",1\r",
            b"\r\nOK\r\n\r\n+QMTSUB: 0,1,0,128\r\n",
        ),
        // Result 2: the packet could not be sent (the link).
        ex(
            b"AT+QMTSUB=0,2,\"later\",1\r",
            b"\r\nOK\r\n\r\n+QMTSUB: 0,2,2\r\n",
        ),
    ]);
    script.extend(open);
    script.push(ex(
        b"AT+QMTSUB=0,3,\"later\",1\r",
        b"\r\nOK\r\n\r\n+QMTSUB: 0,3,0,1\r\n",
    ));
    let (refused, failed_link, events) = common::run_dialect(
        mqtt_modem::Quectel,
        script,
        64,
        mqtt_modem::Options::default(),
        async |m, _, _| {
            let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 1883, "id"), policy());
            let mut events = vec![next_event(&mut sup, m).await];
            let refused = sup.subscribe(m, "no", Qos::AtLeastOnce).await;
            let failed_link = sup.subscribe(m, "later", Qos::AtLeastOnce).await;
            assert_eq!(
                sup.subscriptions().collect::<Vec<_>>(),
                [("later", Qos::AtLeastOnce)]
            );
            for _ in 0..3 {
                events.push(next_event(&mut sup, m).await);
            }
            (refused, failed_link.map_err(|e| e.kind()), events)
        },
    );
    assert_eq!(
        refused,
        Err(Error::Module {
            kind: ErrorKind::Broker,
            detail: Detail::Result(128),
        })
    );
    assert_eq!(failed_link, Err(ErrorKind::Link));
    assert_eq!(
        events,
        [
            LinkEvent::Connected,
            LinkEvent::Disconnected(LossReason::LinkError),
            LinkEvent::Connected,
            LinkEvent::Resubscribed { count: 1 },
        ]
    );
}

/// At a connect, a registered subscription that fails with the link (not refused) fails the
/// attempt and stays registered, to be made at the next one.
#[test]
fn a_subscription_failing_with_the_link_at_a_connect_fails_the_attempt() {
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
            b"AT+QMTSUB=0,1,\"a\",1\r",
            b"\r\nOK\r\n\r\n+QMTSUB: 0,1,2\r\n",
        ),
    ]);
    let (event, kept) = common::run_dialect(
        mqtt_modem::Quectel,
        script,
        64,
        mqtt_modem::Options::default(),
        async |m, _, _| {
            let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 1883, "id"), policy());
            sup.subscribe(m, "a", Qos::AtLeastOnce).await.unwrap();
            let event = sup.poll(m).await;
            (event, sup.subscriptions().count())
        },
    );
    assert!(
        matches!(
            event,
            Some(LinkEvent::AttemptFailed {
                attempt: 1,
                error: Error::Module {
                    kind: ErrorKind::Link,
                    ..
                },
                ..
            })
        ),
        "{event:?}"
    );
    assert_eq!(kept, 1);
}

/// Long delays are jittered exactly too (their half passes 65536 ticks, where the computation
/// splits), checked on the first failure's announced delay without waiting it out.
#[test]
fn long_delays_are_jittered_exactly() {
    let mut script = bring_up()[..7].to_vec();
    script.push(ex(
        b"AT+MQTTCONNECT\r",
        b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n",
    ));
    let policy = Policy {
        backoff_initial: Duration::from_secs(10),
        backoff_max: Duration::from_secs(60),
        ..policy()
    };
    let event = run(script, 64, async |m, _, _| {
        let mut sup: Supervisor<'_> =
            Supervisor::new(Config::new("h", 8883, "id"), policy).with_tls(Tls::root_ca(b"CA\n"));
        sup.poll(m).await
    });
    let Some(LinkEvent::AttemptFailed { retry_in, .. }) = event else {
        panic!("{event:?}");
    };
    assert_eq!(vec![retry_in], jittered(policy.jitter_seed, &[10_000]));
}
