//! CPU cost per command on the host, with no I/O: the driver's encoder and digester against a
//! hand-rolled minimal encoder and parser doing the same job.

use std::hint::black_box;
use std::io::Write as _;
use std::time::Instant;

use atat::AtatCmd;
use mqtt_modem::command::ModemCommand;
use mqtt_modem::dialect::Grammar;
use mqtt_modem::dialect::esp_at::commands::PublishRaw;
use mqtt_modem::dialect::quectel::commands::Publish as QmtPublish;
use mqtt_modem::dialect::uc8088::commands::Publish;
use mqtt_modem::digest::RawMessage;
use mqtt_modem::digest::{Expect, Final, Ingress, Output};
use mqtt_modem::{Dialect, EspAt, Qos, Quectel, Uc8088};

use crate::dialect::{Kind, encode_pubraw, encode_qmtpubex};

const OK: &[u8] = b"\r\nOK\r\n";

/// What is measured.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    /// Encode one `AT+MQTTPUB` line, then digest its `\r\nOK\r\n` (UC8088); in a prompted
    /// dialect, encode the line, digest the prompt, copy the payload out, digest the result
    /// and parse it.
    Publish,
    /// Digest one `+MQTTRECV` URC (the dialect's own) into a message.
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
pub fn parse_urc_baseline(buf: &[u8]) -> Parsed {
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

/// Runs `iters` operations in `kind`'s dialect; returns a checksum so nothing is optimised
/// away.
pub fn run(kind: Kind, op: Op, which: Which, iters: u64, topic: &str, payload: &[u8]) -> u64 {
    let urc = kind.urc(topic, payload);
    let grammar = grammar(kind);
    match (kind, op, which) {
        (Kind::Uc8088, Op::Publish, Which::Driver) => publish_driver(iters, topic, payload),
        (Kind::Uc8088, Op::Publish, Which::Baseline) => publish_baseline(iters, topic, payload),
        (Kind::EspAt, Op::Publish, Which::Driver) => {
            publish_staged(iters, kind, grammar, topic.len() + payload.len(), || {
                PublishRaw {
                    topic: black_box(topic).as_bytes(),
                    payload: black_box(payload),
                    qos: Qos::AtMostOnce,
                    retain: false,
                }
            })
        }
        (Kind::Quectel, Op::Publish, Which::Driver) => {
            publish_staged(iters, kind, grammar, topic.len() + payload.len(), || {
                QmtPublish {
                    msgid: 0,
                    qos: Qos::AtMostOnce,
                    retain: false,
                    topic: black_box(topic).as_bytes(),
                    payload: black_box(payload),
                }
            })
        }
        (Kind::EspAt, Op::Publish, Which::Baseline) => publish_staged_baseline(
            iters,
            kind,
            encode_pubraw,
            b"+MQTTPUB:OK\r\n",
            topic,
            payload,
        ),
        (Kind::Quectel, Op::Publish, Which::Baseline) => publish_staged_baseline(
            iters,
            kind,
            encode_qmtpubex,
            b"+QMTPUBEX: 0,0,0\r\n",
            topic,
            payload,
        ),
        (_, Op::Incoming, Which::Driver) => incoming_driver(iters, &urc, grammar),
        (_, Op::IncomingChunked(k), Which::Driver) => chunked_driver(iters, &urc, k, grammar),
        (_, Op::Incoming, Which::Baseline) => match kind {
            Kind::Uc8088 => incoming_baseline(iters, &urc, parse_urc_baseline),
            Kind::EspAt => incoming_baseline(iters, &urc, parse_subrecv_baseline),
            Kind::Quectel => incoming_baseline(iters, &urc, parse_qmtrecv_baseline),
        },
        (_, Op::IncomingChunked(k), Which::Baseline) => match kind {
            Kind::Uc8088 => chunked_baseline(iters, &urc, k, parse_urc_baseline),
            Kind::EspAt => chunked_baseline(iters, &urc, k, parse_subrecv_baseline),
            Kind::Quectel => chunked_baseline(iters, &urc, k, parse_qmtrecv_baseline),
        },
    }
}

/// The digester's grammar of `kind`, the one its runner uses.
pub fn grammar(kind: Kind) -> &'static Grammar {
    match kind {
        Kind::Uc8088 => <Uc8088 as Dialect>::GRAMMAR,
        Kind::EspAt => <EspAt as Dialect>::GRAMMAR,
        Kind::Quectel => <Quectel as Dialect>::GRAMMAR,
    }
}

/// What a URC parser returns: (topic range, payload range, bytes consumed).
type Parsed = Option<(std::ops::Range<usize>, std::ops::Range<usize>, usize)>;

#[inline(never)]
fn publish_driver(iters: u64, topic: &str, payload: &[u8]) -> u64 {
    let mut out = vec![0u8; 2 * payload.len() + 2 * topic.len() + 64];
    let mut ing = [0u8; 256];
    let mut ingress = Ingress::with_grammar(
        &mut ing,
        <mqtt_modem::Uc8088 as mqtt_modem::Dialect>::GRAMMAR,
    );
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
fn incoming_driver(iters: u64, urc: &[u8], grammar: &'static Grammar) -> u64 {
    let mut ing = vec![0u8; urc.len() + 64];
    let mut ingress = Ingress::with_grammar(&mut ing, grammar);
    let mut sum = 0u64;
    for _ in 0..iters {
        let space = ingress.space();
        space[..urc.len()].copy_from_slice(black_box(urc));
        ingress.commit(urc.len());
        loop {
            match ingress.next(None, false) {
                Some(Output::Message(RawMessage { topic, payload, .. })) => {
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
fn incoming_baseline(iters: u64, urc: &[u8], parse: impl Fn(&[u8]) -> Parsed) -> u64 {
    let mut rx = vec![0u8; urc.len() + 64];
    let mut have = 0;
    let mut sum = 0u64;
    for _ in 0..iters {
        rx[have..have + urc.len()].copy_from_slice(black_box(urc));
        have += urc.len();
        let (topic, payload, used) = parse(&rx[..have]).expect("message");
        sum += black_box(&rx[topic]).len() as u64 + black_box(&rx[payload]).len() as u64;
        rx.copy_within(used..have, 0);
        have -= used;
    }
    sum
}

#[inline(never)]
fn chunked_driver(iters: u64, urc: &[u8], chunk: usize, grammar: &'static Grammar) -> u64 {
    let mut ing = vec![0u8; urc.len() + 64];
    let mut ingress = Ingress::with_grammar(&mut ing, grammar);
    let mut sum = 0u64;
    for _ in 0..iters {
        for part in black_box(urc).chunks(chunk) {
            let space = ingress.space();
            space[..part.len()].copy_from_slice(part);
            ingress.commit(part.len());
            while let Some(out) = ingress.next(None, false) {
                if let Output::Message(RawMessage { topic, payload, .. }) = out {
                    sum += black_box(topic).len() as u64 + black_box(payload).len() as u64;
                }
            }
        }
    }
    sum
}

#[inline(never)]
fn chunked_baseline(iters: u64, urc: &[u8], chunk: usize, parse: impl Fn(&[u8]) -> Parsed) -> u64 {
    let mut rx = vec![0u8; urc.len() + 64];
    let mut have = 0;
    let mut sum = 0u64;
    for _ in 0..iters {
        for part in black_box(urc).chunks(chunk) {
            rx[have..have + part.len()].copy_from_slice(part);
            have += part.len();
            if let Some((topic, payload, used)) = parse(&rx[..have]) {
                sum += black_box(&rx[topic]).len() as u64 + black_box(&rx[payload]).len() as u64;
                rx.copy_within(used..have, 0);
                have -= used;
            }
        }
    }
    sum
}

/// The driver's side of a prompted publish, as its client and runner do it on success: write
/// the command line with the driver's encoder, digest the prompt (ESP-AT's `OK` before it
/// moves nothing on), copy the payload out (the UART write), digest the result (Quectel's
/// `OK`, then the completion line, which goes to the response slot) and parse the answer.
/// Not included: the topic and length checks of `Dialect::publish` (not public), and the
/// client's signalling and deadlines (as for the UC8088 row).
#[inline(never)]
fn publish_staged<'a, C: ModemCommand + 'a>(
    iters: u64,
    kind: Kind,
    grammar: &'static Grammar,
    size: usize,
    make: impl Fn() -> C,
) -> u64 {
    let mut out = vec![0u8; 2 * size + 64];
    let mut ing = [0u8; 256];
    let mut ingress = Ingress::with_grammar(&mut ing, grammar);
    let mut slot = [0u8; 256];
    let (prompt, result) = (kind.prompt_reply(), kind.result_reply());
    let info = Expect {
        prefix: C::INFO_PREFIX,
        bare: C::INFO_BARE,
        prompt: b"",
        last: false,
    };
    let mut sum = 0u64;
    for _ in 0..iters {
        let cmd = make();
        let n = cmd.wire().write_into(&mut out).expect("line fits");
        let data = cmd.data().expect("a prompted command");
        out[n..n + data.len()].copy_from_slice(data);
        sum += black_box(&out[..n + data.len()]).len() as u64;
        let done = cmd.completion().expect("a completion line");

        feed(&mut ingress, black_box(prompt));
        loop {
            match ingress.next(
                Some(Expect {
                    prompt: b">",
                    ..info
                }),
                false,
            ) {
                Some(Output::Prompt) => break,
                Some(Output::Final(Final::Ok)) => {}
                other => panic!("{kind:?}: before the prompt: {other:?}"),
            }
        }

        feed(&mut ingress, black_box(result));
        let mut completion = !done.after_final;
        let len = loop {
            let expect = if completion {
                Expect {
                    prefix: done.prefix,
                    bare: false,
                    prompt: b"",
                    last: true,
                }
            } else {
                info
            };
            match ingress.next(Some(expect), false) {
                Some(Output::Final(Final::Ok)) if !completion => completion = true,
                Some(Output::Info(line)) if completion && line.starts_with(done.prefix) => {
                    slot[..line.len()].copy_from_slice(line);
                    slot[line.len()..line.len() + 2].copy_from_slice(b"\r\n");
                    break line.len() + 2;
                }
                other => panic!("{kind:?}: after the payload: {other:?}"),
            }
        };
        let answer = cmd.parse(Ok(&slot[..len])).expect("the answer parses");
        black_box(&answer);
        sum += len as u64;
    }
    sum
}

fn feed(ingress: &mut Ingress<'_>, bytes: &[u8]) {
    let space = ingress.space();
    space[..bytes.len()].copy_from_slice(bytes);
    ingress.commit(bytes.len());
}

/// The hand-rolled prompted publish: `write!` the line, scan for `>`, copy the payload out,
/// scan for the success line `done`.
#[inline(never)]
fn publish_staged_baseline(
    iters: u64,
    kind: Kind,
    encode: fn(&mut [u8], &str, usize) -> usize,
    done: &[u8],
    topic: &str,
    payload: &[u8],
) -> u64 {
    let mut out = vec![0u8; 2 * payload.len() + 2 * topic.len() + 64];
    let mut rx = [0u8; 256];
    let mut have = 0;
    let (prompt, result) = (kind.prompt_reply(), kind.result_reply());
    let mut sum = 0u64;
    for _ in 0..iters {
        let payload = black_box(payload);
        let n = encode(&mut out, black_box(topic), payload.len());
        out[n..n + payload.len()].copy_from_slice(payload);
        sum += black_box(&out[..n + payload.len()]).len() as u64;
        rx[have..have + prompt.len()].copy_from_slice(black_box(prompt));
        have += prompt.len();
        let at = rx[..have].iter().position(|&b| b == b'>').expect(">");
        rx.copy_within(at + 1..have, 0);
        have -= at + 1;
        rx[have..have + result.len()].copy_from_slice(black_box(result));
        have += result.len();
        let at = find(&rx[..have], done).expect("result");
        rx.copy_within(at + done.len()..have, 0);
        have -= at + done.len();
    }
    sum
}

/// Position of the first `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// ESP-AT's `+MQTTSUBRECV:0,"<topic>",<len>,<payload>\r\n`, minimal, by length.
pub fn parse_subrecv_baseline(buf: &[u8]) -> Parsed {
    parse_framed::<1, false>(buf, b"+MQTTSUBRECV:")
}

/// Quectel's `\r\n+QMTRECV: 0,<msgid>,"<topic>",<len>,"<payload>"\r\n`, minimal, by length.
pub fn parse_qmtrecv_baseline(buf: &[u8]) -> Parsed {
    parse_framed::<2, true>(buf, b"+QMTRECV: ")
}

/// `head`, `IDS` numeric fields, a quoted topic, the length, the payload (in quotes when
/// `QUOTED`), an optional CR LF.
fn parse_framed<const IDS: usize, const QUOTED: bool>(buf: &[u8], head: &[u8]) -> Parsed {
    let mut i = 0;
    while i < buf.len() && (buf[i] == b'\r' || buf[i] == b'\n') {
        i += 1;
    }
    if !buf.get(i..)?.starts_with(head) {
        return None;
    }
    i += head.len();
    for _ in 0..IDS {
        while *buf.get(i)? != b',' {
            i += 1;
        }
        i += 1;
    }
    if *buf.get(i)? != b'"' {
        return None;
    }
    i += 1;
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
    if QUOTED {
        if *buf.get(i)? != b'"' {
            return None;
        }
        i += 1;
    }
    let payload = i..i + len;
    let mut end = payload.end + usize::from(QUOTED);
    if buf.len() < end {
        return None;
    }
    if buf[end..].starts_with(b"\r\n") {
        end += 2;
    }
    Some((topic, payload, end))
}

/// ns/op of the driver and of the baseline, measured in interleaved batches; the median batch.
pub fn measure(
    kind: Kind,
    op: Op,
    topic: &str,
    payload: &[u8],
    batches: usize,
    batch: u64,
) -> (f64, f64) {
    // Warm up both.
    run(kind, op, Which::Driver, batch / 4 + 1, topic, payload);
    run(kind, op, Which::Baseline, batch / 4 + 1, topic, payload);
    let mut d = Vec::with_capacity(batches);
    let mut b = Vec::with_capacity(batches);
    for _ in 0..batches {
        for (which, v) in [(Which::Driver, &mut d), (Which::Baseline, &mut b)] {
            let t = Instant::now();
            black_box(run(kind, op, which, batch, topic, payload));
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
        for kind in Kind::ALL {
            for op in [Op::Publish, Op::Incoming, Op::IncomingChunked(7)] {
                for which in [Which::Driver, Which::Baseline] {
                    let payload = crate::throughput::payload(100);
                    assert!(
                        run(kind, op, which, 3, "tele/dev-0001/tx", &payload) > 0,
                        "{kind:?} {op:?} {which:?}"
                    );
                }
            }
        }
    }

    /// The driver and the baselines find the same message in every dialect's URC.
    #[test]
    fn dialect_parsers_read_by_length() {
        let payload = b"x\r\nOK\r\n,\"y";
        for (kind, parse) in [
            (Kind::EspAt, parse_subrecv_baseline as fn(&[u8]) -> Parsed),
            (Kind::Quectel, parse_qmtrecv_baseline),
        ] {
            let u = kind.urc("a/b", payload);
            let (t, p, used) = parse(&u).unwrap();
            assert_eq!(&u[t], b"a/b");
            assert_eq!(&u[p], payload);
            assert_eq!(used, u.len());
            let mut buf = vec![0u8; 256];
            let mut ingress = Ingress::with_grammar(&mut buf, grammar(kind));
            feed(&mut ingress, &u);
            match ingress.next(None, false) {
                Some(Output::Message(RawMessage {
                    topic,
                    payload: got,
                    ..
                })) => {
                    assert_eq!((topic, got), (&b"a/b"[..], &payload[..]));
                }
                other => panic!("{kind:?}: {other:?}"),
            }
        }
    }
}
