//! Memory at the default sizes, measured as `tests/memory.rs` does, plus the futures the
//! application's tasks hold and the payload sizes those buffers allow, in each dialect.

use embedded_io_adapters::tokio_1::FromTokio;
use mqtt_modem::MAX_PAYLOAD_LEN;
use mqtt_modem::digest::RawMessage;
use mqtt_modem::digest::{Ingress, Output};
use mqtt_modem::{
    Dialect, EspAt, Events, MqttModem, Options, Qos, Quectel, Resources, Runner, Uc8088,
};

use crate::cpu::grammar;
use crate::dialect::Kind;
use crate::pipe::{PacedReader, PacedWriter, paced};
use crate::throughput::TOPIC;

type W = FromTokio<PacedWriter>;
type R = FromTokio<PacedReader>;

pub const INGRESS: usize = 1152;
pub const EVENTS: usize = 2048;
/// Bytes of one event-queue frame besides topic and payload (kind, two u16 lengths).
const FRAME_HEADER: usize = 5;

pub struct Memory {
    pub resources: usize,
    pub client: usize,
    pub runner: usize,
    pub events: usize,
    /// Driver state besides the application-sized ingress buffer and event queue.
    pub driver_static: usize,
    pub publish_future: usize,
    pub runner_future: usize,
    /// Largest incoming payload (16-byte topic) the default ingress buffer delivers.
    pub max_incoming: usize,
    /// Largest single message (16-byte topic) the default event queue can hold.
    pub max_queued: usize,
    /// 64-byte messages the event queue holds while the application is not reading.
    pub queued_64: usize,
    pub max_publish: usize,
}

pub fn measure(kind: Kind) -> Memory {
    match kind {
        Kind::Uc8088 => measure_in(Uc8088, kind),
        Kind::EspAt => measure_in(EspAt, kind),
        Kind::Quectel => measure_in(Quectel, kind),
    }
}

fn measure_in<D: Dialect>(dialect: D, kind: Kind) -> Memory {
    let resources = size_of::<Resources>();
    let client = size_of::<MqttModem<'static, W, D, 256, EVENTS>>() - size_of::<W>();
    let runner = size_of::<Runner<'static, R, D, 256, EVENTS>>() - size_of::<R>();
    let events = size_of::<Events<'static, EVENTS>>();
    let driver_static = resources - INGRESS - EVENTS + client + runner + events;

    let (tx, _, _p1) = paced(115_200);
    let (_, rx, _p2) = paced(115_200);
    let res: &'static mut Resources = Box::leak(Box::new(Resources::new()));
    let (mut modem, runner_v, _events) = MqttModem::with_dialect(
        dialect,
        res,
        FromTokio::new(rx),
        FromTokio::new(tx),
        Options::default(),
    );
    let payload = [0u8; 4];
    let publish_future = {
        let f = modem.publish(TOPIC, &payload, Qos::AtMostOnce, false);
        size_of_val(&f)
    };
    let runner_future = {
        let f = runner_v.run();
        size_of_val(&f)
    };

    let max_incoming = (1..=INGRESS)
        .rev()
        .find(|&n| delivered(kind, INGRESS, n))
        .unwrap_or(0);
    let max_queued = EVENTS - FRAME_HEADER - TOPIC.len();
    let queued_64 = EVENTS / (FRAME_HEADER + TOPIC.len() + 64);
    Memory {
        resources,
        client,
        runner,
        events,
        driver_static,
        publish_future,
        runner_future,
        max_incoming,
        max_queued,
        max_publish: MAX_PAYLOAD_LEN,
        queued_64,
    }
}

/// Whether an ingress buffer of `size` delivers a message of `payload` bytes, fed the way the
/// runner feeds it (read into the free space; judge with `full` when none is left).
fn delivered(kind: Kind, size: usize, payload: usize) -> bool {
    let data = kind.urc(TOPIC, &vec![b'x'; payload]);
    let mut buf = vec![0u8; size];
    let mut ingress = Ingress::with_grammar(&mut buf, grammar(kind));
    let mut fed = 0;
    for _ in 0..10_000 {
        for full in [false, true] {
            if full && !ingress.space().is_empty() {
                continue;
            }
            while let Some(out) = ingress.next(None, full) {
                if let Output::Message(RawMessage { payload: p, .. }) = out {
                    return p.len() == payload;
                }
                if full {
                    break;
                }
            }
        }
        if fed == data.len() {
            return false;
        }
        let space = ingress.space();
        let n = space.len().min(data.len() - fed);
        space[..n].copy_from_slice(&data[fed..fed + n]);
        ingress.commit(n);
        fed += n;
    }
    false
}
