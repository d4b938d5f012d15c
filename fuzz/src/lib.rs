//! Check functions shared by the cargo-fuzz targets (`fuzz_targets/*.rs`) and the stable
//! regression runner (`tests/regressions.rs`). Each `check_*` takes the raw fuzzer input and
//! panics when an invariant breaks; it never panics on input the driver handles correctly.
//!
//! Only the driver's public API is used. The encoder checks compare against the simulator's
//! independent AT parser, `tools/sim/src/at.rs`, compiled in here verbatim through `#[path]`
//! (it is dependency-free; taking the whole `modem-sim` crate would drag tokio, rustls and
//! ring through the sanitizer build).

use arbitrary::{Arbitrary, Unstructured};
use atat::AtatCmd;
use mqtt_modem::Will;
use mqtt_modem::dialect::uc8088::commands::GetConfig;
use mqtt_modem::dialect::uc8088::commands::{SetConfig, TestConfig};

use mqtt_modem::dialect::Grammar;
use mqtt_modem::dialect::basic::{GetFunctionality, GetManufacturer, GetRevision};
use mqtt_modem::dialect::uc8088::commands::{Connect, Disconnect, GetState};
use mqtt_modem::dialect::uc8088::commands::{
    GetSubscriptions, Subscribe, TestSubscribe, Unsubscribe,
};
use mqtt_modem::dialect::uc8088::commands::{GetTls, SetTls, TestTls};
use mqtt_modem::dialect::uc8088::commands::{Publish, TestPublish};
use mqtt_modem::dialect::uc8088::types::CertKind;
use mqtt_modem::dialect::{esp_at, quectel};
use mqtt_modem::digest::{Discard, Expect, Final, Ingress, Output};
use mqtt_modem::{
    CertEncoding, Config, ConnectionState, Detail, Error, Event, Identification, Qos, Quoting,
};
use mqtt_modem::{Dialect, EspAt, Quectel, Uc8088};

/// The simulator's ESP-AT parser (`modem_sim::dialect::esp_at::parse`), the same source file.
#[allow(dead_code, clippy::all)]
#[path = "../../tools/sim/src/dialect/esp_at/parse.rs"]
pub mod sim_esp_at;

/// The simulator's Quectel parser (`modem_sim::dialect::quectel::parse`), the same source file.
#[allow(dead_code, clippy::all)]
#[path = "../../tools/sim/src/dialect/quectel/parse.rs"]
pub mod sim_quectel;

/// What the simulator's dialect parsers import as `crate::at`.
mod at {
    pub use crate::sim_at::AtError;
}

/// The simulator's AT-line parser (`modem_sim::at`), the same source file.
#[allow(dead_code, clippy::all)]
#[path = "../../tools/sim/src/at.rs"]
pub mod sim_at;

/// The `pending` prefixes the digester is driven with.
pub const PENDINGS: [Option<&[u8]>; 4] = [None, Some(b""), Some(b"+MQTTSTATE"), Some(b"+MQTTSUB")];

/// The pending answer a selector byte picks: `PENDINGS[low 7 bits % 4]`, taking bare text
/// lines as well as prefixed ones (as identification answers do) when bit 7 is set, awaiting
/// a `>` prompt when bit 6 is set (the prompt line `CONNECT` when bit 3 is set too), and
/// judging a matching line at once (a completion line) when bit 4 is set. (Bits 2 and 5 are
/// unused; saved inputs set them.)
pub fn pending_of(selector: u8) -> Option<Expect<'static>> {
    let prefix = PENDINGS[usize::from(selector & 0x7f) % PENDINGS.len()]?;
    let mut expect = if selector & 0x80 == 0 {
        Expect::prefixed(prefix)
    } else {
        Expect::text(prefix)
    };
    expect.prompt = match (selector & 0x40 != 0, selector & 0x08 != 0) {
        (false, _) => b"",
        (true, false) => b">",
        (true, true) => b"CONNECT",
    };
    // As the driver uses it: a completion line has a `+NAME` head, never bare text.
    expect.last = selector & 0x10 != 0 && !expect.bare;
    Some(expect)
}

// ---------------------------------------------------------------------------------------------
// Feeding an Ingress
// ---------------------------------------------------------------------------------------------

/// What one run of the digester saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every delivered message: (topic resolved by `RawMessage::topic_into`, payload).
    pub messages: Vec<(Option<String>, Vec<u8>)>,
    /// Every other output, rendered for comparison (`Echo` and `Discarded` left out).
    pub others: Vec<String>,
    /// Bytes discarded (outputs plus bytes dropped by `commit`).
    pub discarded: usize,
    /// An oversized message was reported.
    pub oversized: bool,
    /// The run stopped at a stall (only with `MQTT_MODEM_FUZZ_ALLOW_STALL=1`).
    pub stalled: bool,
}

/// With `MQTT_MODEM_FUZZ_ALLOW_STALL=1` a full buffer that `next(pending, true)` cannot free
/// ends the run quietly instead of panicking, so that fuzzing can go on past the known stall
/// (fuzz/regressions/digester/stall-*). Never set for the regression runner.
pub fn allow_stall() -> bool {
    static ALLOW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ALLOW.get_or_init(|| std::env::var_os("MQTT_MODEM_FUZZ_ALLOW_STALL").is_some_and(|v| v == "1"))
}

/// Feeds `stream` to an [`Ingress`] of `buf_size` bytes in chunks cycling through `chunks`
/// (each at least 1), draining it as the runner does, and checks the invariants that hold for
/// any input: every output consumes bytes (so the number of outputs is bounded by the input
/// length), a full buffer is always unblocked by `next(pending, true)`, lines carry no
/// terminators, lengths never exceed the buffer or the input.
pub fn feed(stream: &[u8], pending: Option<Expect<'_>>, buf_size: usize, chunks: &[usize]) -> Seen {
    feed_grammar(UC8088, stream, pending, buf_size, chunks)
}

/// The dialects' grammars the digester is driven with.
pub const GRAMMARS: [&Grammar; 5] = [
    UC8088,
    <EspAt as Dialect>::GRAMMAR,
    <Quectel as Dialect>::GRAMMAR,
    &mqtt_modem::dialect::sketch::SIMCOM,
    &mqtt_modem::dialect::sketch::UBLOX,
];
const UC8088: &Grammar = <Uc8088 as Dialect>::GRAMMAR;

/// [`feed`] with a dialect's grammar.
pub fn feed_grammar(
    grammar: &'static Grammar,
    stream: &[u8],
    pending: Option<Expect<'_>>,
    buf_size: usize,
    chunks: &[usize],
) -> Seen {
    let mut buf = vec![0u8; buf_size];
    let mut ing = Ingress::with_grammar(&mut buf, grammar);
    let mut seen = Seen::default();
    let mut fed = 0usize;
    let mut outputs = 0usize;
    let mut chunk_i = 0usize;
    loop {
        // Drain as the runner does: unforced until nothing more comes, then, if the buffer is
        // full, one forced judgement.
        let mut forced = false;
        loop {
            let Some(out) = ing.next(pending, forced) else {
                if !forced && ing.space().is_empty() {
                    forced = true;
                    continue;
                }
                // `next` may have freed leading line ends; only no space at all is a stall.
                let full = ing.space().is_empty();
                if full && allow_stall() {
                    seen.stalled = true;
                    return seen;
                }
                assert!(
                    !full,
                    "stall: ingress buffer full ({buf_size} bytes, {} buffered) and \
                     next(pending, true) returned None; {fed} of {} bytes fed",
                    ing.buffered(),
                    stream.len()
                );
                break;
            };
            outputs += 1;
            assert!(
                outputs <= stream.len(),
                "no progress: {outputs} outputs from {} input bytes",
                stream.len()
            );
            check_output(&out, pending, buf_size, stream.len(), &mut seen);
            forced = false;
        }
        assert!(ing.buffered() <= buf_size);
        if fed == stream.len() {
            break;
        }
        let space = ing.space();
        let want = chunks[chunk_i % chunks.len()].max(1);
        chunk_i += 1;
        let n = want.min(space.len()).min(stream.len() - fed);
        assert!(n > 0);
        space[..n].copy_from_slice(&stream[fed..fed + n]);
        let dropped = ing.commit(n);
        // What arrives, and what was buffered of a message in pieces being dropped.
        assert!(dropped <= n + buf_size, "commit({n}) dropped {dropped}");
        seen.discarded += dropped;
        fed += n;
    }
    seen
}

fn check_output(
    out: &Output<'_>,
    pending: Option<Expect<'_>>,
    buf_size: usize,
    input_len: usize,
    seen: &mut Seen,
) {
    let no_terminators = |l: &[u8]| !l.iter().any(|&b| b == b'\r' || b == b'\n');
    match out {
        Output::Echo => assert!(pending.is_some(), "echo while nothing pending"),
        Output::Prompt => {
            assert!(
                pending.is_some_and(|p| !p.prompt.is_empty()),
                "prompt while none awaited"
            );
            seen.others.push("prompt".into());
        }
        Output::Info(line) => {
            assert!(pending.is_some(), "info line while nothing pending");
            assert!(
                line.len() <= buf_size && no_terminators(line),
                "info {line:?}"
            );
            seen.others
                .push(format!("info {}", String::from_utf8_lossy(line)));
        }
        Output::Final(f) => {
            if let Final::Failed(Detail::CmeText(t)) = &f {
                assert!(t.len() <= buf_size && no_terminators(t.as_bytes()));
            }
            seen.others.push(format!("final {f:?}"));
        }
        Output::Message(m) => {
            let (topic, payload) = (m.topic, m.payload);
            assert!(payload.len() <= input_len, "payload longer than the input");
            assert!(payload.len() <= buf_size, "payload longer than the buffer");
            assert!(topic.len() <= input_len && topic.len() <= buf_size);
            let mut out = [0u8; 1024];
            let t = m.topic_into(&mut out).map(str::to_owned);
            seen.messages.push((t, payload.to_vec()));
        }
        Output::Event(event) => {
            if let Event::Unrecognised(l) = event {
                assert!(l.len() <= buf_size && no_terminators(l));
            }
            assert!(
                !matches!(event, Event::Message(_)),
                "a message outside its frame"
            );
            seen.others.push(format!("urc {event:?}"));
        }
        Output::Discarded { bytes, what } => {
            assert!(
                *bytes <= buf_size && *bytes <= input_len,
                "discarded {bytes}"
            );
            seen.discarded += bytes;
            seen.oversized |= *what == Discard::Oversized;
        }
    }
}

/// Splits a fuzzer input into digester settings and the byte stream:
/// `[pending selector] [size lo] [size hi] [chunk count k] [k chunk sizes] stream...`.
fn digester_settings(
    data: &[u8],
) -> (
    &'static Grammar,
    Option<Expect<'static>>,
    usize,
    Vec<usize>,
    &[u8],
) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let pending = pending_of(byte(0));
    let buf_size = 32 + usize::from(u16::from_le_bytes([byte(1), byte(2)])) % (1500 - 32 + 1);
    let k = 1 + usize::from(byte(3)) % 8;
    // Bits 3 to 5 of the chunk-count byte pick the grammar (saved inputs have them clear).
    let grammar = GRAMMARS[usize::from(byte(3) >> 3 & 7) % GRAMMARS.len()];
    let chunks: Vec<usize> = (0..k).map(|i| usize::from(byte(4 + i)) + 1).collect();
    let stream = data.get(4 + k..).unwrap_or(&[]);
    (grammar, pending, buf_size, chunks, stream)
}

/// Target `digester`: arbitrary bytes, arbitrary chunking, pending prefix and buffer size.
pub fn check_digester(data: &[u8]) {
    let (grammar, pending, buf_size, chunks, stream) = digester_settings(data);
    feed_grammar(grammar, stream, pending, buf_size, &chunks);
}

// ---------------------------------------------------------------------------------------------
// Incoming-message URCs
// ---------------------------------------------------------------------------------------------

/// Input of the `urc` target.
#[derive(Debug, Arbitrary)]
pub enum UrcInput {
    /// `\r\n+MQTTRECV:` followed by arbitrary bytes.
    Raw {
        /// Selector of the pending answer ([`pending_of`]).
        pending: u8,
        /// Buffer size, mapped to 32..=1500.
        buf: u16,
        /// Chunk sizes.
        chunks: Vec<u8>,
        /// Whatever follows the prefix.
        data: Vec<u8>,
    },
    /// A well-formed message, possibly splitting an `AT+MQTTSTATE` answer.
    Framed {
        /// Selector of the pending answer ([`pending_of`]).
        pending: u8,
        /// Extra buffer bytes beyond what the stream needs; `None`: a size in 32..=1500.
        slack: Option<u8>,
        /// Buffer size when `slack` is `None`, mapped to 32..=1500.
        buf: u16,
        /// Chunk sizes.
        chunks: Vec<u8>,
        /// The topic (CR and LF are replaced; the quoted form may not carry them).
        topic: String,
        /// The payload: any bytes.
        payload: Vec<u8>,
        /// Send the topic bare (only used when it is bare-safe).
        bare: bool,
        /// Use ESP-AT's `+MQTTSUBRECV:<id>,` form with this link id (mod 100).
        subrecv: Option<u8>,
        /// Where in `\r\n+MQTTSTATE:1\r\n\r\nOK\r\n` the message arrives (mod its length + 1);
        /// `None`: the message arrives alone.
        split: Option<u8>,
    },
}

/// The answer a message may split in [`UrcInput::Framed`].
const HOST: &[u8] = b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n";

fn chunk_sizes(chunks: &[u8]) -> Vec<usize> {
    if chunks.is_empty() {
        vec![usize::MAX]
    } else {
        chunks
            .iter()
            .take(16)
            .map(|&c| usize::from(c) + 1)
            .collect()
    }
}

fn buf_size_of(v: u16) -> usize {
    32 + usize::from(v) % (1500 - 32 + 1)
}

/// Escapes a topic the way a modem quotes it: `\` and `"` get a backslash.
pub fn quote_topic(topic: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in topic {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

/// Target `urc`.
pub fn check_urc(data: &[u8]) {
    let Ok(input) = UrcInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    match input {
        UrcInput::Raw {
            pending,
            buf,
            chunks,
            data,
        } => {
            let mut stream = b"\r\n+MQTTRECV:".to_vec();
            stream.extend_from_slice(&data);
            let pending = pending_of(pending);
            feed(&stream, pending, buf_size_of(buf), &chunk_sizes(&chunks));
        }
        UrcInput::Framed {
            pending,
            slack,
            buf,
            chunks,
            topic,
            payload,
            bare,
            subrecv,
            split,
        } => check_framed(
            pending_of(pending),
            slack,
            buf,
            &chunk_sizes(&chunks),
            &topic.replace(['\r', '\n'], "_"),
            &payload,
            bare,
            subrecv,
            split,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_framed(
    pending: Option<Expect<'_>>,
    slack: Option<u8>,
    buf: u16,
    chunks: &[usize],
    topic: &str,
    payload: &[u8],
    bare: bool,
    subrecv: Option<u8>,
    split: Option<u8>,
) {
    // The driver reads an escaped topic of at most 512 bytes (2 × MAX_TOPIC_LEN).
    let quoted = quote_topic(topic.as_bytes());
    if quoted.len() - 2 > 512 {
        return;
    }
    let bare = bare
        && !topic.is_empty()
        && !topic.starts_with('"')
        && !topic.contains(',')
        && topic.len() <= 512;
    let mut urc = b"\r\n".to_vec();
    match subrecv {
        Some(id) => urc.extend_from_slice(format!("+MQTTSUBRECV:{},", id % 100).as_bytes()),
        None => urc.extend_from_slice(b"+MQTTRECV:"),
    }
    if bare {
        urc.extend_from_slice(topic.as_bytes());
    } else {
        urc.extend_from_slice(&quoted);
    }
    urc.extend_from_slice(format!(",{},", payload.len()).as_bytes());
    urc.extend_from_slice(payload);
    urc.extend_from_slice(b"\r\n");

    let (stream, host_at) = match split {
        Some(s) => {
            let at = usize::from(s) % (HOST.len() + 1);
            let mut v = HOST[..at].to_vec();
            v.extend_from_slice(&urc);
            v.extend_from_slice(&HOST[at..]);
            (v, Some(at))
        }
        None => (urc, None),
    };
    let buf_size = match slack {
        Some(extra) => stream.len() + usize::from(extra),
        None => buf_size_of(buf),
    };
    // `+MQTTSUBRECV` is ESP-AT's message; the UC8088 reads `+MQTTRECV` only.
    let grammar = if subrecv.is_some() {
        <EspAt as Dialect>::GRAMMAR
    } else {
        UC8088
    };
    let seen = feed_grammar(grammar, &stream, pending, buf_size, chunks);

    assert!(
        seen.messages.len() <= 1,
        "one message delivered twice: {seen:?}"
    );
    for (t, p) in &seen.messages {
        assert_eq!(t.as_deref(), Some(topic), "topic");
        assert!(p == payload, "payload differs: got {p:?}, sent {payload:?}");
    }
    if buf_size < stream.len() {
        return; // it may legitimately be dropped as oversized
    }
    assert_eq!(seen.messages.len(), 1, "message lost: {seen:?}");
    // The answer the message split reads as if the message had not been there, as long as a
    // command is pending (the digester only waits for a split line then).
    // (A completion line, `last`, is judged at once, by design: a URC splitting it at a read
    // boundary is not joined up; docs/DIALECTS.md, "The seam".)
    // ESP-AT writes a message only after a line's end (`urc_crlf` off): it never splits a line.
    if host_at.is_some() && grammar.urc_crlf && pending.is_some_and(|p| !p.last) {
        let state_line = if pending.map(|p| p.prefix) == Some(b"+MQTTSTATE") {
            "info +MQTTSTATE:1".into()
        } else {
            format!("urc {:?}", Event::StateChanged(ConnectionState::Connected))
        };
        let expected: Vec<String> = vec![state_line, "final Ok".into()];
        assert_eq!(
            seen.others, expected,
            "the split answer did not join up: {seen:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Response parsers
// ---------------------------------------------------------------------------------------------

/// Target `responses`: every response-bearing command's `AtatCmd::parse` on arbitrary bytes.
pub fn check_responses(data: &[u8]) {
    fn go<C: AtatCmd>(cmd: &C, data: &[u8]) {
        let _ = cmd.parse(Ok(data));
    }
    go(&GetState, data);
    go(&Connect, data);
    go(&GetTls, data);
    go(&GetConfig, data);
    go(&GetSubscriptions::<8, 64>, data);
    go(&GetSubscriptions::<1, 1>, data);
    go(&GetFunctionality, data);
    go(&GetManufacturer, data);
    go(&GetRevision, data);
    go(&esp_at::commands::GetConnection, data);
    go(&esp_at::commands::GetVersion, data);
    go(
        &esp_at::commands::PublishRaw {
            topic: b"t",
            payload: b"p",
            qos: Qos::AtLeastOnce,
            retain: false,
        },
        data,
    );
    go(&quectel::commands::GetConnection, data);
    go(
        &quectel::commands::Publish {
            msgid: 1,
            qos: Qos::AtLeastOnce,
            retain: false,
            topic: b"t",
            payload: b"p",
        },
        data,
    );
    go(&TestPublish, data);
    go(&TestTls, data);
    go(&TestConfig, data);
    go(&TestSubscribe, data);
    go(&Disconnect, data);
    go(
        &Publish::new("t", b"p", Qos::AtLeastOnce, false).expect("valid publish"),
        data,
    );
    if let Ok(subs) = GetSubscriptions::<8, 64>.parse(Ok(data)) {
        assert!(subs.len() <= 8 && subs.iter().all(|s| s.filter.len() <= 64));
    }
    if let Ok(id) = GetRevision.parse(Ok(data)) {
        assert!(
            id.as_str().len() <= Identification::MAX_LEN
                && id.lines().all(|l| !l.contains(['\r', '\n']))
        );
    }
    if let Ok(s) = TestPublish.parse(Ok(data)) {
        assert!(s.text.len() <= 128);
    }
}

// ---------------------------------------------------------------------------------------------
// Encoders against the simulator's parser
// ---------------------------------------------------------------------------------------------

/// Input of the `encoders` target.
#[derive(Debug, Arbitrary)]
pub struct EncoderInput {
    /// Publish topic.
    pub topic: String,
    /// Publish payload.
    pub payload: Vec<u8>,
    /// QoS selector (mod 3).
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Subscribe/unsubscribe filter.
    pub filter: String,
    /// `AT+MQTTCONFIG` fields.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Client id.
    pub client_id: String,
    /// Clean session.
    pub clean: bool,
    /// Keepalive.
    pub keepalive: u16,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// Certificate content.
    pub cert: Vec<u8>,
    /// Certificate kind selector (mod 3).
    pub kind: u8,
    /// Which string fields get an ASCII-only rewrite, to reach the accepting paths more often.
    pub tame: u8,
}

fn qos_of(v: u8) -> Qos {
    match v % 3 {
        0 => Qos::AtMostOnce,
        1 => Qos::AtLeastOnce,
        _ => Qos::ExactlyOnce,
    }
}

fn line_unsafe(s: &[u8]) -> bool {
    s.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// Writes `cmd` into a large buffer and checks the line's framing; returns it without CR.
fn write_line<C: AtatCmd>(cmd: &C) -> Vec<u8> {
    body_of(cmd, b"\r")
}

fn sim_parse(line: &[u8]) -> sim_at::Command {
    match sim_at::parse(line) {
        Ok(c) => c,
        Err(e) => panic!(
            "the simulator refuses the driver's line ({e:?}): {:?}",
            String::from_utf8_lossy(line)
        ),
    }
}

fn expect_err(what: &str, r: Result<impl core::fmt::Debug, Error>, forbidden: bool) -> bool {
    match (&r, forbidden) {
        (Ok(_), false) => true,
        (Err(Error::InvalidInput { .. }), true) => false,
        (Ok(_), true) => panic!("{what}: accepted forbidden input"),
        (Err(e), _) => panic!("{what}: refused valid input: {e:?}"),
    }
}

/// A topic filter MQTT accepts: `+` only as a whole level, `#` only as the whole last level.
fn filter_ok(f: &str) -> bool {
    let levels: Vec<&str> = f.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| match *l {
        "+" => true,
        "#" => i + 1 == levels.len(),
        _ => !l.contains('+') && !l.contains('#'),
    })
}

/// Rewrites a string to printable ASCII (keeping `,` `"` `\` `+` `#` `/` and space, which the
/// encoders care about), so that the accepting paths get exercised.
fn tame(s: &str) -> String {
    s.bytes()
        .map(|b| {
            let c = b'!' + b % 94; // printable ASCII except space
            if b % 17 == 0 { ' ' } else { c as char }
        })
        .collect()
}

/// Target `encoders`.
pub fn check_encoders(data: &[u8]) {
    let Ok(mut i) = EncoderInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    if i.tame & 1 != 0 {
        i.topic = tame(&i.topic);
        i.filter = tame(&i.filter);
    }
    if i.tame & 2 != 0 {
        i.host = tame(&i.host);
        i.client_id = tame(&i.client_id);
        i.user = tame(&i.user);
        i.password = tame(&i.password);
    }
    if i.tame & 4 != 0 {
        i.payload.retain(|&b| !matches!(b, b'\r' | b'\n' | 0));
        i.cert.retain(|&b| b != 0);
    }
    check_publish(&i);
    check_subscribe(&i);
    check_config(&i, Quoting::Quoted);
    check_config(&i, Quoting::Unquoted);
    check_tls(&i, CertEncoding::EscapedNewlines);
    check_tls(&i, CertEncoding::StrippedNewlines);
    check_esp_at(&i);
    check_quectel(&i);
}

/// The bytes of a command line without its terminator; panics if a CR, LF or NUL is inside.
fn body_of<C: AtatCmd>(cmd: &C, end: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 32 * 1024];
    let n = cmd.write(&mut buf);
    assert!(n > 0, "write produced nothing");
    let line = &buf[..n];
    assert!(line.ends_with(end), "line end: {line:?}");
    let body = line[..n - end.len()].to_vec();
    assert!(
        !line_unsafe(&body),
        "a line break or NUL inside the line: {body:?}"
    );
    // A buffer one byte short gets nothing, not a partial line or a panic.
    let mut short = vec![0u8; n - 1];
    assert_eq!(
        cmd.write(&mut short),
        0,
        "partial line written into a short buffer"
    );
    body
}

/// ESP-AT: strings with `\\ \" \,` escapes read back exactly by the simulator's parser,
/// whenever the line is one ESP-AT takes (under 256 bytes, fields within its limits).
fn check_esp_at(i: &EncoderInput) {
    use mqtt_modem::dialect::esp_at::commands as e;
    let fields = [
        i.client_id.as_bytes(),
        i.user.as_bytes(),
        i.password.as_bytes(),
    ];
    let user = e::SetUserConfig {
        scheme: 1 + u32::from(i.kind % 5),
        client_id: fields[0],
        username: fields[1],
        password: fields[2],
    };
    // The driver sends USERCFG itself only with credentials of at most 64 bytes (LONG* else).
    if !fields.iter().any(|f| line_unsafe(f))
        && !fields[0].is_empty()
        && fields[1].len() <= 64
        && fields[2].len() <= 64
    {
        let body = body_of(&user, b"\r\n");
        if body.len() < 255 {
            match sim_esp_at::parse(&body) {
                Ok(sim_esp_at::Command::UserCfg(u)) => {
                    assert_eq!(
                        (
                            u.client_id.as_bytes(),
                            u.username.as_bytes(),
                            u.password.as_bytes()
                        ),
                        (fields[0], fields[1], fields[2])
                    );
                }
                other => panic!("USERCFG {body:?} read as {other:?}"),
            }
        }
    }
    let topic = i.topic.as_bytes();
    let topic_ok = !topic.is_empty()
        && topic.len() <= 128
        && !line_unsafe(topic)
        && !topic.iter().any(|&b| b == b'+' || b == b'#');
    if topic_ok && (1..=4096).contains(&i.payload.len()) {
        let cmd = e::PublishRaw {
            topic,
            payload: &i.payload,
            qos: qos_of(i.qos),
            retain: i.retain,
        };
        let body = body_of(&cmd, b"\r\n");
        if body.len() < 255 {
            match sim_esp_at::parse(&body) {
                Ok(sim_esp_at::Command::PubRaw {
                    topic: t,
                    len,
                    qos,
                    retain,
                }) => {
                    assert_eq!(t.as_bytes(), topic);
                    assert_eq!((len, qos, retain), (i.payload.len(), i.qos % 3, i.retain));
                }
                other => panic!("PUBRAW {body:?} read as {other:?}"),
            }
        }
    }
    let filter = i.filter.as_bytes();
    if !filter.is_empty()
        && filter.len() <= 128
        && !line_unsafe(filter)
        && !filter.iter().any(|&b| b == b'+' || b == b'#')
    {
        let body = body_of(&e::Unsubscribe { filter }, b"\r\n");
        if body.len() < 255 {
            match sim_esp_at::parse(&body) {
                Ok(sim_esp_at::Command::Unsub(f)) => assert_eq!(f.as_bytes(), filter),
                other => panic!("UNSUB {body:?} read as {other:?}"),
            }
        }
    }
    // The TLS server name (the host's text) and ALPN protocols (the topic's and the filter's):
    // one line ESP-AT takes, read back exactly.
    let name = i.host.as_bytes();
    if !name.is_empty() && !line_unsafe(name) {
        let body = body_of(&e::SetServerName { name }, b"\r\n");
        if body.len() < 255 {
            match sim_esp_at::parse(&body) {
                Ok(sim_esp_at::Command::Sni(n)) => assert_eq!(n.as_bytes(), name),
                other => panic!("SNI {body:?} read as {other:?}"),
            }
        }
    }
    let protocols: Vec<&[u8]> = [i.topic.as_bytes(), filter]
        .into_iter()
        .filter(|p| !p.is_empty() && !line_unsafe(p))
        .collect();
    if !protocols.is_empty() {
        let body = body_of(&e::SetAlpn { protocols: &protocols }, b"\r\n");
        if body.len() < 255 {
            match sim_esp_at::parse(&body) {
                Ok(sim_esp_at::Command::Alpn(got)) => assert_eq!(got, protocols),
                other => panic!("ALPN {body:?} read as {other:?}"),
            }
        }
    }
    // The host (CONN) and a last will (CONNCFG: the topic, the payload as its message).
    let host = i.host.as_bytes();
    if !host.is_empty() && host.len() <= 128 && !line_unsafe(host) {
        let body = body_of(&e::Connect { host, port: 1883 }, b"\r\n");
        if body.len() < 255 {
            match sim_esp_at::parse(&body) {
                Ok(sim_esp_at::Command::Conn { host: h, port, .. }) => {
                    assert_eq!((h.as_bytes(), port), (host, 1883));
                }
                other => panic!("CONN {body:?} read as {other:?}"),
            }
        }
    }
    if topic_ok && i.payload.len() <= 128 && !line_unsafe(&i.payload) {
        let will = Will {
            topic: &i.topic,
            payload: &i.payload,
            qos: qos_of(i.qos),
            retain: i.retain,
        };
        let cmd = e::SetConnConfig {
            keepalive_s: 60,
            keep_session: false,
            will: Some(will),
        };
        let body = body_of(&cmd, b"\r\n");
        if body.len() < 255 {
            match sim_esp_at::parse(&body) {
                Ok(sim_esp_at::Command::ConnCfg(c)) => {
                    assert_eq!(
                        (c.lwt_topic.as_bytes(), &c.lwt_msg[..]),
                        (topic, &i.payload[..])
                    );
                    assert_eq!((c.lwt_qos, c.lwt_retain), (i.qos % 3, i.retain));
                }
                other => panic!("CONNCFG {body:?} read as {other:?}"),
            }
        }
    }
}

/// Quectel: no escapes; any string without `"`, CR, LF and NUL reads back exactly.
fn check_quectel(i: &EncoderInput) {
    use mqtt_modem::dialect::quectel::commands as q;
    let sendable = |s: &[u8]| !line_unsafe(s) && !s.contains(&b'"');
    let (id, user, password) = (
        i.client_id.as_bytes(),
        i.user.as_bytes(),
        i.password.as_bytes(),
    );
    // What the driver's configure accepts: id 1..=128 bytes, credentials at most 256.
    if !id.is_empty()
        && id.len() <= 128
        && user.len() <= 256
        && password.len() <= 256
        && sendable(id)
        && sendable(user)
        && sendable(password)
    {
        let cmd = q::Connect {
            client_id: id,
            credentials: Some((user, password)),
        };
        let body = body_of(&cmd, b"\r");
        match sim_quectel::parse(&body) {
            Ok(sim_quectel::Command::Conn {
                idx,
                client_id,
                user: u,
                password: p,
            }) => {
                assert_eq!(idx, 0);
                assert_eq!(
                    (client_id.as_bytes(), u.as_bytes(), p.as_bytes()),
                    (id, user, password)
                );
            }
            other => panic!("QMTCONN {body:?} read as {other:?}"),
        }
    }
    let topic = i.topic.as_bytes();
    if !topic.is_empty()
        && topic.len() <= 255
        && sendable(topic)
        && !topic.iter().any(|&b| b == b'+' || b == b'#')
        && i.payload.len() <= 4096
    {
        let qos = qos_of(i.qos);
        let msgid = if i.qos % 3 == 0 {
            0
        } else {
            1 + u16::from(i.qos)
        };
        let cmd = q::Publish {
            msgid,
            qos,
            retain: i.retain,
            topic,
            payload: &i.payload,
        };
        let body = body_of(&cmd, b"\r");
        match sim_quectel::parse(&body) {
            Ok(sim_quectel::Command::Pub {
                idx,
                msgid: m,
                qos: q,
                retain,
                topic: t,
                len,
                ..
            }) => {
                assert_eq!(t.as_bytes(), topic);
                assert_eq!(
                    (idx, m, q, retain, len),
                    (0, msgid, i.qos % 3, i.retain, i.payload.len())
                );
            }
            other => panic!("QMTPUBEX {body:?} read as {other:?}"),
        }
    }
    // The host (QMTOPEN) and a last will (QMTCFG="will": the topic, the payload as message).
    let host = i.host.as_bytes();
    if !host.is_empty() && host.len() <= 100 && sendable(host) {
        let body = body_of(&q::Open { host, port: 1883 }, b"\r");
        match sim_quectel::parse(&body) {
            Ok(sim_quectel::Command::Open { idx, host: h, port }) => {
                assert_eq!((idx, h.as_bytes(), port), (0, host, 1883));
            }
            other => panic!("QMTOPEN {body:?} read as {other:?}"),
        }
    }
    let will_ok = |s: &[u8]| s.len() <= 255 && sendable(s);
    if !topic.is_empty()
        && !topic.iter().any(|&b| b == b'+' || b == b'#')
        && will_ok(topic)
        && will_ok(&i.payload)
    {
        let will = Will {
            topic: &i.topic,
            payload: &i.payload,
            qos: qos_of(i.qos),
            retain: i.retain,
        };
        let body = body_of(&q::SetWill { will: Some(will) }, b"\r");
        match sim_quectel::parse(&body) {
            Ok(sim_quectel::Command::CfgSet(0, sim_quectel::Cfg::Will(Some(w)))) => {
                assert_eq!((w.topic.as_bytes(), &w.msg[..]), (topic, &i.payload[..]));
                assert_eq!((w.qos, w.retain), (i.qos % 3, i.retain));
            }
            other => panic!("QMTCFG will {body:?} read as {other:?}"),
        }
    }
}

fn check_publish(i: &EncoderInput) {
    let t = i.topic.as_bytes();
    let qos = qos_of(i.qos);
    let forbidden = t.is_empty()
        || t.len() > 256
        || line_unsafe(t)
        || t.contains(&b'+')
        || t.contains(&b'#')
        || i.payload.len() > 4096
        || line_unsafe(&i.payload);
    let r = Publish::new(&i.topic, &i.payload, qos, i.retain);
    if !expect_err("Publish::new", r.clone(), forbidden) {
        return;
    }
    let cmd = r.unwrap();
    let line = write_line(&cmd);
    assert_eq!(cmd.encoded_len(), line.len() + 1, "encoded_len");
    let want = sim_at::Command::Publish {
        topic: i.topic.clone(),
        qos: qos as u8,
        retain: i.retain,
        message: i.payload.clone(),
    };
    assert_eq!(
        sim_parse(&line),
        want,
        "line {:?}",
        String::from_utf8_lossy(&line)
    );
}

fn check_subscribe(i: &EncoderInput) {
    let f = i.filter.as_bytes();
    let qos = qos_of(i.qos);
    let forbidden = f.is_empty() || f.len() > 256 || line_unsafe(f) || !filter_ok(&i.filter);
    let r = Subscribe::new(&i.filter, qos);
    if expect_err("Subscribe::new", r.clone(), forbidden) {
        let line = write_line(&r.unwrap());
        let want = sim_at::Command::Subscribe {
            topic: i.filter.clone(),
            qos: qos as u8,
        };
        assert_eq!(
            sim_parse(&line),
            want,
            "line {:?}",
            String::from_utf8_lossy(&line)
        );
    }
    let r = Unsubscribe::new(&i.filter);
    if expect_err("Unsubscribe::new", r.clone(), forbidden) {
        let line = write_line(&r.unwrap());
        let want = sim_at::Command::Unsubscribe(i.filter.clone());
        assert_eq!(
            sim_parse(&line),
            want,
            "line {:?}",
            String::from_utf8_lossy(&line)
        );
    }
}

/// The documented convention where the simulator's parser and the driver disagree, applied
/// to what the driver sends: see fuzz/README.md, "Disagreements". An unquoted parameter's
/// leading blanks are skipped by the simulator (`split_params`: "tolerate blanks before a
/// parameter"), while the driver sends them as part of the value.
fn sim_view_unquoted(s: &str) -> String {
    s.trim_start_matches(' ').to_owned()
}

fn check_config(i: &EncoderInput, quoting: Quoting) {
    let quoted = quoting == Quoting::Quoted;
    let bad_str = |s: &str, max: usize, allow_empty: bool| {
        let b = s.as_bytes();
        (b.is_empty() && !allow_empty)
            || b.len() > max
            || line_unsafe(b)
            || (!quoted && (b.contains(&b',') || b.contains(&b'"')))
            // A bare field with a blank at either end is refused (the modem may trim it).
            || (!quoted && (matches!(b.first(), Some(b' ' | b'\t')) || matches!(b.last(), Some(b' ' | b'\t'))))
    };
    let forbidden = bad_str(&i.host, 253, false)
        || i.port == 0
        || bad_str(&i.client_id, 128, false)
        || i.keepalive == 0
        || bad_str(&i.user, 256, true)
        || bad_str(&i.password, 256, true);
    let config = Config::new(&i.host, i.port, &i.client_id)
        .clean_session(i.clean)
        .keepalive(i.keepalive)
        .credentials(&i.user, &i.password)
        .quoting(quoting);
    let r = SetConfig::new(&config);
    if !expect_err("SetConfig::new", r.clone(), forbidden) {
        return;
    }
    let line = write_line(&r.unwrap());
    let view = |s: &str| {
        if quoted {
            s.to_owned()
        } else {
            sim_view_unquoted(s)
        }
    };
    let host = view(&i.host);
    if host.is_empty() {
        // An unquoted host of blanks only: the simulator reads it as empty and refuses the line.
        assert!(sim_at::parse(&line).is_err());
        return;
    }
    let want = sim_at::Command::ConfigSet(sim_at::MqttConfig {
        host,
        port: i.port,
        client_id: view(&i.client_id),
        clean: i.clean,
        keepalive: i.keepalive,
        user: view(&i.user),
        password: view(&i.password),
    });
    assert_eq!(
        sim_parse(&line),
        want,
        "line {:?}",
        String::from_utf8_lossy(&line)
    );
}

fn check_tls(i: &EncoderInput, encoding: CertEncoding) {
    let (kind, sim_kind) = match i.kind % 3 {
        0 => (CertKind::RootCa, sim_at::CertKind::RootCa),
        1 => (CertKind::ClientCert, sim_at::CertKind::ClientCert),
        _ => (CertKind::ClientKey, sim_at::CertKind::ClientKey),
    };
    // Empty, too long, a NUL, or (stripped newlines) nothing left once CR and LF are taken out.
    let forbidden = i.cert.is_empty()
        || i.cert.len() > 1536
        || i.cert.contains(&0)
        || (encoding == CertEncoding::StrippedNewlines
            && i.cert.iter().all(|&b| b == b'\r' || b == b'\n'));
    let r = SetTls::upload(kind, &i.cert, encoding);
    if !expect_err("SetTls::upload", r.clone(), forbidden) {
        return;
    }
    let line = write_line(&r.unwrap());
    let content = match encoding {
        CertEncoding::EscapedNewlines => i.cert.clone(),
        CertEncoding::StrippedNewlines => i
            .cert
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect(),
        other => panic!("no simulator reading for {other:?}"),
    };
    let want = sim_at::Command::TlsSet {
        tls: true,
        cert: Some((sim_kind, content)),
    };
    assert_eq!(
        sim_parse(&line),
        want,
        "line {:?}",
        String::from_utf8_lossy(&line)
    );
}

/// `SetTls::off()` once, against the simulator.
pub fn check_tls_off() {
    let line = write_line(&SetTls::off());
    assert_eq!(
        sim_parse(&line),
        sim_at::Command::TlsSet {
            tls: false,
            cert: Some((sim_at::CertKind::RootCa, Vec::new())),
        }
    );
}

/// Runs the check of target `name` on `data`.
pub fn check(name: &str, data: &[u8]) {
    match name {
        "digester" => check_digester(data),
        "urc" => check_urc(data),
        "responses" => check_responses(data),
        "encoders" => check_encoders(data),
        other => panic!("unknown target {other}"),
    }
}
