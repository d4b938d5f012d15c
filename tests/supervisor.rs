//! The connection supervisor against a scripted modem: bring-up, polling, loss, reconnect with
//! backoff, re-subscription, restart recovery, NotConnected, and the reset pin.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{ex, run};
use embassy_time::{Duration, Instant, Timer};
use mqtt_modem::{
    Config, Error, LinkEvent, LossReason, MqttCode, Policy, Qos, ResetPin, Supervisor, Tls,
};

const OK: &[u8] = b"\r\nOK\r\n";

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
        ex(b"AT+MQTTTLS=1,0,\"CA\\n\",3\r", OK),
        ex(b"AT+MQTTCONFIG=\"h\",8883,\"id\",1,60,\"\",\"\"\r", OK),
        ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"),
    ]
}

/// Polls until an event comes (or a deadline passes).
async fn next_event<'m>(sup: &mut Supervisor<'_>, modem: &mut common::Modem<'m>) -> LinkEvent {
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
        let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 8883, "id"), policy())
            .with_tls(Tls::RootCa(b"CA\n"))
            .unwrap();
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
        assert_eq!(
            sup.subscribe(m, "t", Qos::AtMostOnce).await,
            Err(Error::NotConnected)
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
        let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 8883, "id"), policy())
            .with_tls(Tls::RootCa(b"CA\n"))
            .unwrap();
        assert_eq!(next_event(&mut sup, m).await, LinkEvent::Connected);
        let r = sup.publish(m, "t", b"x", Qos::AtLeastOnce, false).await;
        assert!(!sup.is_connected());
        (
            r,
            next_event(&mut sup, m).await,
            next_event(&mut sup, m).await,
        )
    });
    assert_eq!(r, Err(Error::Mqtt(MqttCode::RetryNoResponse)));
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
        let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 8883, "id"), policy())
            .with_tls(Tls::RootCa(b"CA\n"))
            .unwrap();
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
        let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 8883, "id"), policy())
            .with_tls(Tls::RootCa(b"CA\n"))
            .unwrap();
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

#[test]
fn failed_connects_back_off_exponentially_with_jitter() {
    let refused = b"\r\n+MQTTCONNECT:5\r\n\r\nERROR\r\n";
    let mut script: Vec<_> = bring_up()[..6].to_vec();
    for _ in 0..4 {
        script.push(ex(b"AT+MQTTCONNECT\r", refused));
    }
    script.push(ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n"));
    let (events, gaps) = run(script, 64, async |m, _, _| {
        let mut sup: Supervisor<'_> = Supervisor::new(Config::new("h", 8883, "id"), policy())
            .with_tls(Tls::RootCa(b"CA\n"))
            .unwrap();
        let mut events = Vec::new();
        let mut gaps = Vec::new();
        loop {
            let before = Instant::now();
            if let Some(e) = sup.poll(m).await {
                let done = e == LinkEvent::Connected;
                events.push(e);
                if done {
                    break;
                }
                continue;
            }
            gaps.push(sup.next_deadline().saturating_duration_since(before));
            Timer::at(sup.next_deadline()).await;
        }
        (events, gaps)
    });
    assert_eq!(
        events,
        [
            LinkEvent::Disconnected(LossReason::ConnectFailed(Error::Mqtt(
                MqttCode::NetworkError
            ))),
            LinkEvent::Reconnecting { attempt: 1 },
            LinkEvent::Reconnecting { attempt: 2 },
            LinkEvent::Reconnecting { attempt: 3 },
            LinkEvent::Reconnecting { attempt: 4 },
            LinkEvent::Connected,
        ]
    );
    // Each delay lies in [base/2, base] with base doubling from 10 ms up to the 80 ms cap.
    let bases = [10u64, 20, 40, 80];
    for (gap, base) in gaps.iter().filter(|g| g.as_millis() > 0).zip(bases) {
        assert!(
            gap.as_millis() <= base && gap.as_millis() + 1 >= base / 2,
            "{gap:?} for base {base}"
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
            let mut seen = Vec::new();
            while !seen.contains(&LinkEvent::ModemReset) {
                if let Some(e) = sup.poll(m).await {
                    seen.push(e);
                } else {
                    Timer::at(sup.next_deadline()).await;
                }
            }
            seen
        },
    );
    // Two bring-up attempts of two silent `AT` probes each, then the pulse.
    assert!(events.contains(&LinkEvent::ModemReset), "{events:?}");
    assert_eq!(*log.borrow(), ["low", "high"]);
}
