//! The seam's pull pattern (u-blox: the module keeps incoming messages until they are read) on
//! a scripted wire, through the test fixture dialect `dialect::sketch::Pull`: the notice
//! becomes an event, `receive_waiting` reads each message into the event stream, and the
//! supervisor does it on its own. Needs `--features _fixture`.

mod common;

use common::{Exchange, Wire, ex, run_dialect};
use embassy_time::{Duration, with_timeout};
use mqtt_modem::dialect::sketch::Pull;
use mqtt_modem::{
    Config, Detail, Error, ErrorKind, Event, Events, LinkEvent, LossReason, Options, Policy,
    Supervisor, Uc8088,
};

/// The answer to `AT+UMQTTC=6,1` carrying one message, as u-blox writes it (a blank line
/// before `OK`).
fn read_answer(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "\r\n+UMQTTC: 6,1,{},{},\"{topic}\",{},\"",
        topic.len() + payload.len(),
        topic.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\"\r\n\r\nOK\r\n");
    out
}

/// A script of reads, one `AT+UMQTTC=6,1` per answer.
fn reads(answers: &[&[u8]]) -> Vec<Exchange> {
    answers
        .iter()
        .map(|a| ex(b"AT+UMQTTC=6,1\r\n", a))
        .collect()
}

/// The modem's notice of `n` held messages, injected, and its event checked.
async fn notice(wire: &Wire, events: &mut Events<'_, 2048>, n: u16) {
    wire.inject(format!("\r\n+UUMQTTC: 6,{n}\r\n").as_bytes());
    assert_eq!(announced(events).await, n);
}

/// The next event, which must come within a second.
async fn next<'b>(events: &mut Events<'_, 2048>, buf: &'b mut [u8]) -> Event<'b> {
    with_timeout(Duration::from_secs(1), events.next(buf))
        .await
        .expect("no event within a second")
}

/// The next event, which must be a message and come within a second.
async fn message(events: &mut Events<'_, 2048>) -> (String, Vec<u8>) {
    let mut buf = [0u8; 512];
    match next(events, &mut buf).await {
        Event::Message(m) => (m.topic.to_owned(), m.payload.to_vec()),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// The next event, which must be the modem's notice of held messages: their count.
async fn announced(events: &mut Events<'_, 2048>) -> u16 {
    let mut buf = [0u8; 16];
    match next(events, &mut buf).await {
        Event::MessagesWaiting { count } => count,
        other => panic!("expected a notice, got {other:?}"),
    }
}

const CHUNKS: [usize; 3] = [1, 7, 64];

#[test]
fn announced_messages_are_read_into_the_event_stream() {
    for chunk in CHUNKS {
        let got = run_dialect(
            Pull,
            reads(&[
                &read_answer("a/b", b"x\r\nOK\r\n\""),
                &read_answer("c", b"\0,"),
            ]),
            chunk,
            Options::default(),
            async |m, events, wire| {
                assert_eq!(m.receive_waiting().await, Ok(0), "nothing announced yet");
                notice(wire, events, 2).await;
                assert_eq!(m.receive_waiting().await, Ok(1));
                assert_eq!(
                    m.receive_waiting().await,
                    Ok(0),
                    "the queue is not read yet"
                );
                let first = message(events).await;
                assert_eq!(m.receive_waiting().await, Ok(1));
                let second = message(events).await;
                assert_eq!(m.receive_waiting().await, Ok(0), "all were read");
                (first, second)
            },
        );
        assert_eq!(
            got.0,
            ("a/b".into(), b"x\r\nOK\r\n\"".to_vec()),
            "chunk {chunk}"
        );
        assert_eq!(got.1, ("c".into(), b"\0,".to_vec()), "chunk {chunk}");
    }
}

#[test]
fn a_refused_read_clears_the_count() {
    run_dialect(
        Pull,
        reads(&[b"\r\nERROR\r\n"]),
        64,
        Options::default(),
        async |m, events, wire| {
            notice(wire, events, 2).await;
            // The modem holds nothing after all: one command, not one per announced message.
            assert_eq!(
                m.receive_waiting().await,
                Err(Error::Module {
                    kind: ErrorKind::Modem,
                    detail: Detail::Error
                })
            );
            assert_eq!(m.receive_waiting().await, Ok(0));
        },
    );
}

#[test]
fn a_read_answered_ok_without_a_message_ends_the_reading() {
    // u-blox answers a read of nothing with a bare `OK` (as far as hosts' logs show): the
    // count is cleared after that one read, and the one message before it is counted.
    let got = run_dialect(
        Pull,
        reads(&[&read_answer("m", b"1"), b"\r\nOK\r\n"]),
        7,
        Options::default(),
        async |m, events, wire| {
            notice(wire, events, 3).await;
            assert_eq!(m.receive_waiting().await, Ok(1));
            let got = message(events).await;
            assert_eq!(m.receive_waiting().await, Ok(0));
            assert_eq!(m.receive_waiting().await, Ok(0), "no third read");
            got
        },
    );
    assert_eq!(got, ("m".into(), b"1".to_vec()));
}

#[test]
fn a_garbled_read_leaves_the_rest_announced() {
    // Noise changed a read message's length: the read fails, the broken message is counted
    // as read, and the other announced message is read by the next call.
    let got = run_dialect(
        Pull,
        reads(&[
            b"\r\n+UMQTTC: 6,1,4,1,\"t\",3,\"ab\"\r\n\r\nOK\r\n",
            &read_answer("b", b"2"),
        ]),
        64,
        Options::default(),
        async |m, events, wire| {
            notice(wire, events, 2).await;
            assert_eq!(m.receive_waiting().await, Err(Error::Protocol));
            assert_eq!(m.receive_waiting().await, Ok(1));
            let mut buf = [0u8; 16];
            assert_eq!(
                next(events, &mut buf).await,
                Event::Dropped { count: 1 },
                "the broken one, reported"
            );
            let got = message(events).await;
            assert_eq!(m.receive_waiting().await, Ok(0));
            got
        },
    );
    assert_eq!(got, ("b".into(), b"2".to_vec()));
}

#[test]
fn reading_keeps_pace_with_the_event_queue() {
    // Eight held messages of 400 B, a 2048 B event queue: each is read once the application
    // has taken the one before, so none is dropped by the queue.
    let payload = [b'x'; 400];
    let answer = read_answer("t", &payload);
    run_dialect(
        Pull,
        reads(&[answer.as_slice(); 8]),
        64,
        Options::default(),
        async |m, events, wire| {
            notice(wire, events, 8).await;
            for _ in 0..8 {
                assert_eq!(m.receive_waiting().await, Ok(1));
                assert_eq!(message(events).await, ("t".into(), payload.to_vec()));
            }
            assert_eq!(m.receive_waiting().await, Ok(0));
            assert_eq!(m.stats().dropped_queue_full, 0);
        },
    );
}

#[test]
fn a_notice_right_after_an_empty_or_refused_read_is_kept() {
    // The read finds nothing, and a new message is announced right after the answer (a line
    // after the notice lets the runner take it before the client resumes): its count stands.
    for empty in [&b"\r\nOK\r\n"[..], b"\r\nERROR\r\n"] {
        let mut first = empty.to_vec();
        first.extend_from_slice(b"\r\n+UUMQTTC: 6,1\r\n\r\n+CEREG: 5\r\n");
        let got = run_dialect(
            Pull,
            reads(&[&first, &read_answer("n", b"1")]),
            64,
            Options::default(),
            async |m, events, wire| {
                notice(wire, events, 1).await;
                let nothing = m.receive_waiting().await;
                // `OK` with no message: nothing read. `ERROR`: the refusal, as nothing was read.
                if empty == b"\r\nOK\r\n" {
                    assert_eq!(nothing, Ok(0));
                } else {
                    assert!(
                        matches!(
                            nothing,
                            Err(Error::Module {
                                detail: Detail::Error,
                                ..
                            })
                        ),
                        "{nothing:?}"
                    );
                }
                assert_eq!(announced(events).await, 1);
                let mut buf = [0u8; 64];
                assert_eq!(
                    next(events, &mut buf).await,
                    Event::Unrecognised(b"+CEREG: 5")
                );
                assert_eq!(m.receive_waiting().await, Ok(1), "the new message is read");
                message(events).await
            },
        );
        assert_eq!(got, ("n".into(), b"1".to_vec()));
    }
}

#[test]
fn a_timed_out_read_is_tried_again() {
    let got = run_dialect(
        Pull,
        reads(&[b"", &read_answer("t", b"1")]),
        64,
        Options {
            max_deadline: Duration::from_millis(100),
            ..Options::default()
        },
        async |m, events, wire| {
            notice(wire, events, 1).await;
            assert_eq!(m.receive_waiting().await, Err(Error::Timeout));
            assert_eq!(m.receive_waiting().await, Ok(1));
            message(events).await
        },
    );
    assert_eq!(got, ("t".into(), b"1".to_vec()));
}

#[test]
fn a_notice_after_a_read_replaces_the_count() {
    // Two announced; the modem's notice of 1 left comes right after the first read's `OK`.
    // Reading waits for the queue, so the notice is taken before the next read: no read too
    // many. Both messages arrive.
    let mut first = read_answer("a", b"1");
    first.extend_from_slice(b"\r\n+UUMQTTC: 6,1\r\n");
    let got = run_dialect(
        Pull,
        reads(&[&first, &read_answer("b", b"2")]),
        7,
        Options::default(),
        async |m, events, wire| {
            notice(wire, events, 2).await;
            assert_eq!(m.receive_waiting().await, Ok(1));
            let first = message(events).await;
            assert_eq!(announced(events).await, 1);
            assert_eq!(m.receive_waiting().await, Ok(1));
            let second = message(events).await;
            assert_eq!(m.receive_waiting().await, Ok(0));
            (first, second)
        },
    );
    assert_eq!(got.0, ("a".into(), b"1".to_vec()));
    assert_eq!(got.1, ("b".into(), b"2".to_vec()));
}

#[test]
fn the_supervisor_reads_them_on_its_own() {
    let got = run_dialect(
        Pull,
        reads(&[&read_answer("s", b"hi")]),
        7,
        Options::default(),
        async |m, events, wire| {
            let mut sup =
                Supervisor::<'_, _, 8, 64>::new(Config::new("h", 1883, "id"), Policy::default());
            assert_eq!(sup.poll(m).await, Some(LinkEvent::Connected));
            notice(wire, events, 1).await;
            assert_eq!(sup.poll(m).await, None);
            message(events).await
        },
    );
    assert_eq!(got, ("s".into(), b"hi".to_vec()));
}

#[test]
fn the_supervisor_leaves_them_held_while_the_link_is_down() {
    // The broker connection drops, then a message is announced: no read is tried while the
    // link is down (the wire's script is empty, so any command would show).
    run_dialect(
        Pull,
        vec![],
        64,
        Options::default(),
        async |m, events, wire| {
            let policy = Policy {
                backoff_initial: Duration::from_secs(60),
                ..Policy::default()
            };
            let mut sup = Supervisor::<'_, _, 8, 64>::new(Config::new("h", 1883, "id"), policy);
            assert_eq!(sup.poll(m).await, Some(LinkEvent::Connected));
            wire.inject(b"\r\n+UUMQTTC: 0,1\r\n");
            let mut buf = [0u8; 16];
            assert_eq!(next(events, &mut buf).await, Event::Disconnected);
            notice(wire, events, 1).await;
            assert_eq!(
                sup.poll(m).await,
                Some(LinkEvent::Disconnected(LossReason::LinkError))
            );
            // That poll also reconnected (a loss is retried at once), after the read's place.
            assert_eq!(wire.sent(), b"", "a read while the link was down");
            assert_eq!(sup.poll(m).await, Some(LinkEvent::Connected));
        },
    );
}

#[test]
fn push_dialects_have_nothing_to_read() {
    run_dialect(Uc8088, vec![], 64, Options::default(), async |m, _, _| {
        assert_eq!(m.receive_waiting().await, Ok(0));
    });
}

#[test]
fn a_read_message_too_large_for_the_ingress_counts_as_read() {
    // Dropped as oversized, it still was one of the held messages: the reading goes on.
    let big = vec![b'x'; 1500];
    let got = run_dialect(
        Pull,
        reads(&[&read_answer("big", &big), &read_answer("b", b"2")]),
        64,
        Options::default(),
        async |m, events, wire| {
            notice(wire, events, 2).await;
            assert_eq!(m.receive_waiting().await, Ok(2));
            let mut buf = [0u8; 16];
            assert_eq!(next(events, &mut buf).await, Event::Dropped { count: 1 });
            message(events).await
        },
    );
    assert_eq!(got, ("b".into(), b"2".to_vec()));
}

#[test]
fn noise_in_a_read_is_no_message_and_the_read_is_owed_again() {
    // A garbled line makes the answer doubtful: the read fails and no message came, so both
    // announced messages are still read by the next call.
    let got = run_dialect(
        Pull,
        reads(&[
            b"\r\n\x01noise\r\n\r\nOK\r\n",
            &read_answer("a", b"1"),
            &read_answer("b", b"2"),
        ]),
        64,
        Options::default(),
        async |m, events, wire| {
            notice(wire, events, 2).await;
            assert_eq!(m.receive_waiting().await, Err(Error::Protocol));
            // One at a time, as the event queue is read (as `reading_keeps_pace_with_the_event_queue` shows).
            assert_eq!(m.receive_waiting().await, Ok(1));
            let first = message(events).await;
            assert_eq!(m.receive_waiting().await, Ok(1));
            [first, message(events).await]
        },
    );
    assert_eq!(
        got,
        [("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())]
    );
}
