//! CPU cost per command on the host, with no I/O: the driver's encoder and digester against a
//! hand-rolled minimal encoder and parser doing the same job.

use std::hint::black_box;
use std::io::Write as _;
use std::time::Instant;

use atat::AtatCmd;
use mqtt_modem::Qos;
use mqtt_modem::command::Urc;
use mqtt_modem::command::publish::Publish;
use mqtt_modem::digest::{Expect, Final, Ingress, Output};

const OK: &[u8] = b"\r\nOK\r\n";

/// What is measured.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    /// Encode one `AT+MQTTPUB` line, then digest its `\r\nOK\r\n`.
    Publish,
    /// Digest one `+MQTTRECV` URC into a message.
    Incoming,
    /// The same URC arriving in reads of this many bytes, drained after each read as the
    /// runner does.
    IncomingChunked(usize),
}

/// Whose code does it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Which {
    Driver,
    Baseline,
}

/// The hand-rolled minimal encoder: `write!` the fixed part, escape `"` and `\` byte by byte.
pub fn encode_baseline(buf: &mut [u8], topic: &str, payload: &[u8]) -> usize {
    let total = buf.len();
    let mut w: &mut [u8] = buf;
    w.write_all(b"AT+MQTTPUB=\"").unwrap();
    escape_into(&mut w, topic.as_bytes());
    write!(w, "\",{},{},\"", 0, 0).unwrap();
    escape_into(&mut w, payload);
    w.write_all(b"\"\r").unwrap();
    total - w.len()
}

fn escape_into(w: &mut &mut [u8], s: &[u8]) {
    let mut i = 0;
    for &b in s {
        if b == b'"' || b == b'\\' {
            w[i] = b'\\';
            i += 1;
        }
        w[i] = b;
        i += 1;
    }
    let taken = std::mem::take(w);
    *w = &mut taken[i..];
}

/// Position of the first `\r\nOK\r\n` in `buf`.
pub fn find_ok(buf: &[u8]) -> Option<usize> {
    buf.windows(OK.len()).position(|w| w == OK)
}

/// The minimal length-prefixed URC parser: `\r\n+MQTTRECV:"<topic>",<len>,<payload>\r\n` at
/// the start of `buf`. Returns (topic range, payload range, bytes consumed).
pub fn parse_urc_baseline(
    buf: &[u8],
) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>, usize)> {
    let mut i = 0;
    while i < buf.len() && (buf[i] == b'\r' || buf[i] == b'\n') {
        i += 1;
    }
    const P: &[u8] = b"+MQTTRECV:\"";
    if !buf.get(i..)?.starts_with(P) {
        return None;
    }
    i += P.len();
    let t0 = i;
    loop {
        match *buf.get(i)? {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    let topic = t0..i;
    i += 1;
    if *buf.get(i)? != b',' {
        return None;
    }
    i += 1;
    let mut len = 0usize;
    loop {
        let b = *buf.get(i)?;
        i += 1;
        if b == b',' {
            break;
        }
        len = len * 10 + usize::from(b.wrapping_sub(b'0'));
    }
    let payload = i..i + len;
    if buf.len() < payload.end {
        return None;
    }
    let mut end = payload.end;
    if buf[end..].starts_with(b"\r\n") {
        end += 2;
    }
    Some((topic, payload, end))
}

/// The URC carrying `payload` on `topic`, leading and closing CRLF included.
pub fn urc(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 64);
    write!(v, "\r\n+MQTTRECV:\"{topic}\",{},", payload.len()).unwrap();
    v.extend_from_slice(payload);
    v.extend_from_slice(b"\r\n");
    v
}

/// Runs `iters` operations; returns a checksum so nothing is optimised away.
pub fn run(op: Op, which: Which, iters: u64, topic: &str, payload: &[u8]) -> u64 {
    match (op, which) {
        (Op::Publish, Which::Driver) => publish_driver(iters, topic, payload),
        (Op::Publish, Which::Baseline) => publish_baseline(iters, topic, payload),
        (Op::Incoming, Which::Driver) => incoming_driver(iters, &urc(topic, payload)),
        (Op::Incoming, Which::Baseline) => incoming_baseline(iters, &urc(topic, payload)),
        (Op::IncomingChunked(k), Which::Driver) => chunked_driver(iters, &urc(topic, payload), k),
        (Op::IncomingChunked(k), Which::Baseline) => {
            chunked_baseline(iters, &urc(topic, payload), k)
        }
    }
}

#[inline(never)]
fn publish_driver(iters: u64, topic: &str, payload: &[u8]) -> u64 {
    let mut out = vec![0u8; 2 * payload.len() + 2 * topic.len() + 64];
    let mut ing = [0u8; 256];
    let mut ingress = Ingress::new(&mut ing);
    let mut sum = 0u64;
    for _ in 0..iters {
        let cmd = Publish::new(black_box(topic), black_box(payload), Qos::AtMostOnce, false)
            .expect("valid publish");
        let n = cmd.write(&mut out);
        sum += black_box(&out[..n]).len() as u64;
        let space = ingress.space();
        space[..OK.len()].copy_from_slice(black_box(OK));
        ingress.commit(OK.len());
        loop {
            match ingress.next(Some(Expect::prefixed(b"+MQTTPUB")), false) {
                Some(Output::Final(Final::Ok)) => break,
                Some(_) => {}
                None => panic!("no final result"),
            }
        }
    }
    sum
}

#[inline(never)]
fn publish_baseline(iters: u64, topic: &str, payload: &[u8]) -> u64 {
    let mut out = vec![0u8; 2 * payload.len() + 2 * topic.len() + 64];
    let mut rx = [0u8; 256];
    let mut have = 0;
    let mut sum = 0u64;
    for _ in 0..iters {
        let n = encode_baseline(&mut out, black_box(topic), black_box(payload));
        sum += black_box(&out[..n]).len() as u64;
        rx[have..have + OK.len()].copy_from_slice(black_box(OK));
        have += OK.len();
        let at = find_ok(&rx[..have]).expect("OK");
        rx.copy_within(at + OK.len()..have, 0);
        have -= at + OK.len();
    }
    sum
}

#[inline(never)]
fn incoming_driver(iters: u64, urc: &[u8]) -> u64 {
    let mut ing = vec![0u8; urc.len() + 64];
    let mut ingress = Ingress::new(&mut ing);
    let mut sum = 0u64;
    for _ in 0..iters {
        let space = ingress.space();
        space[..urc.len()].copy_from_slice(black_box(urc));
        ingress.commit(urc.len());
        loop {
            match ingress.next(None, false) {
                Some(Output::Urc(Urc::Message { topic, payload, .. })) => {
                    sum += black_box(topic).len() as u64 + black_box(payload).len() as u64;
                    break;
                }
                Some(_) => {}
                None => panic!("no message"),
            }
        }
    }
    sum
}

#[inline(never)]
fn incoming_baseline(iters: u64, urc: &[u8]) -> u64 {
    let mut rx = vec![0u8; urc.len() + 64];
    let mut have = 0;
    let mut sum = 0u64;
    for _ in 0..iters {
        rx[have..have + urc.len()].copy_from_slice(black_box(urc));
        have += urc.len();
        let (topic, payload, used) = parse_urc_baseline(&rx[..have]).expect("message");
        sum += black_box(&rx[topic]).len() as u64 + black_box(&rx[payload]).len() as u64;
        rx.copy_within(used..have, 0);
        have -= used;
    }
    sum
}

#[inline(never)]
fn chunked_driver(iters: u64, urc: &[u8], chunk: usize) -> u64 {
    let mut ing = vec![0u8; urc.len() + 64];
    let mut ingress = Ingress::new(&mut ing);
    let mut sum = 0u64;
    for _ in 0..iters {
        for part in black_box(urc).chunks(chunk) {
            let space = ingress.space();
            space[..part.len()].copy_from_slice(part);
            ingress.commit(part.len());
            while let Some(out) = ingress.next(None, false) {
                if let Output::Urc(Urc::Message { topic, payload, .. }) = out {
                    sum += black_box(topic).len() as u64 + black_box(payload).len() as u64;
                }
            }
        }
    }
    sum
}

#[inline(never)]
fn chunked_baseline(iters: u64, urc: &[u8], chunk: usize) -> u64 {
    let mut rx = vec![0u8; urc.len() + 64];
    let mut have = 0;
    let mut sum = 0u64;
    for _ in 0..iters {
        for part in black_box(urc).chunks(chunk) {
            rx[have..have + part.len()].copy_from_slice(part);
            have += part.len();
            if let Some((topic, payload, used)) = parse_urc_baseline(&rx[..have]) {
                sum += black_box(&rx[topic]).len() as u64 + black_box(&rx[payload]).len() as u64;
                rx.copy_within(used..have, 0);
                have -= used;
            }
        }
    }
    sum
}

/// ns/op of the driver and of the baseline, measured in interleaved batches; the median batch.
pub fn measure(op: Op, topic: &str, payload: &[u8], batches: usize, batch: u64) -> (f64, f64) {
    // Warm up both.
    run(op, Which::Driver, batch / 4 + 1, topic, payload);
    run(op, Which::Baseline, batch / 4 + 1, topic, payload);
    let mut d = Vec::with_capacity(batches);
    let mut b = Vec::with_capacity(batches);
    for _ in 0..batches {
        for (which, v) in [(Which::Driver, &mut d), (Which::Baseline, &mut b)] {
            let t = Instant::now();
            black_box(run(op, which, batch, topic, payload));
            v.push(t.elapsed().as_nanos() as f64 / batch as f64);
        }
    }
    (median(&mut d), median(&mut b))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_encoder_matches_the_driver_byte_for_byte() {
        let payload = br#"{"a":"b\c"} and more"#;
        let mut a = [0u8; 128];
        let mut b = [0u8; 128];
        let n = encode_baseline(&mut a, "t/\"x\"", payload);
        let cmd = Publish::new("t/\"x\"", payload, Qos::AtMostOnce, false).unwrap();
        let m = cmd.write(&mut b);
        assert_eq!(&a[..n], &b[..m]);
        assert_eq!(n, cmd.encoded_len());
    }

    #[test]
    fn baseline_parser_reads_by_length() {
        let u = urc("a/b", b"x\r\nOK\r\n,\"y");
        let (t, p, used) = parse_urc_baseline(&u).unwrap();
        assert_eq!(&u[t], b"a/b");
        assert_eq!(&u[p], b"x\r\nOK\r\n,\"y");
        assert_eq!(used, u.len());
    }

    #[test]
    fn every_loop_runs() {
        for op in [Op::Publish, Op::Incoming, Op::IncomingChunked(7)] {
            for which in [Which::Driver, Which::Baseline] {
                assert!(run(op, which, 3, "tele/dev-0001/tx", b"ab\"c") > 0);
            }
        }
    }
}
