//! The digester alone: exact modem output in, recognised items out, quirks included.

#[path = "../src/deadline.rs"]
mod deadline;

use mqtt_modem::dialect::Grammar;
use mqtt_modem::digest::{Expect, Final, Ingress, Output, RawMessage};
use mqtt_modem::{ConnectionState, Detail, Dialect, Event, Uc8088};

/// Feeds `input` in chunks of `chunk` bytes and collects every item (as owned debug text), with
/// `pending` as the command waiting.
fn digest(input: &[u8], chunk: usize, pending: Option<Expect<'static>>) -> Vec<String> {
    digest_with(Uc8088::GRAMMAR, input, chunk, pending).0
}

/// [`digest`] for a dialect's `grammar`; also the bytes that `commit` reported dropped.
fn digest_with(
    grammar: &'static Grammar,
    input: &[u8],
    chunk: usize,
    pending: Option<Expect<'static>>,
) -> (Vec<String>, usize) {
    let mut buf = [0u8; 512];
    let mut ing = Ingress::with_grammar(&mut buf, grammar);
    feed_chunks(&mut ing, input, chunk, pending)
}

/// Feeds `input` into `ing` as the runner does, at most `chunk` bytes a read (space, commit,
/// then every item); returns the items and what the commits reported dropped.
fn feed_chunks(
    ing: &mut Ingress<'_>,
    input: &[u8],
    chunk: usize,
    pending: Option<Expect<'static>>,
) -> (Vec<String>, usize) {
    let _deadline = deadline::deadline(30);
    let mut out = Vec::new();
    let mut dropped = 0;
    for mut part in input.chunks(chunk) {
        while !part.is_empty() {
            let space = ing.space();
            let n = space.len().min(part.len());
            assert!(n > 0, "stalled: {out:?}");
            space[..n].copy_from_slice(&part[..n]);
            dropped += ing.commit(n);
            part = &part[n..];
            while let Some(item) = ing.next(pending, false) {
                out.push(show(&item));
                assert!(out.len() <= input.len(), "no progress: {out:?}");
            }
        }
    }
    (out, dropped)
}

/// The byte count of a shown `Discarded { bytes: N, … }`.
fn discarded(shown: &str) -> usize {
    shown
        .strip_prefix("Discarded { bytes: ")
        .and_then(|b| b.split(',').next())
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("not a discard: {shown}"))
}

fn show(o: &Output<'_>) -> String {
    match o {
        Output::Message(RawMessage {
            topic,
            quoted,
            payload,
        }) => format!(
            "MSG {} {} {:?}",
            String::from_utf8_lossy(topic),
            quoted,
            String::from_utf8_lossy(payload)
        ),
        Output::Info(l) => format!("INFO {}", String::from_utf8_lossy(l)),
        other => format!("{other:?}"),
    }
}

/// Feeds `input` as fast as it fits into a `size`-byte ingress, judging a full buffer with
/// `full = true` as the runner does, and collects every item. Fails on a stall or a loop.
fn digest_into(size: usize, input: &[u8], pending: Option<Expect<'static>>) -> Vec<String> {
    digest_into_with(Uc8088::GRAMMAR, size, usize::MAX, input, pending)
}

/// [`digest_into`] for a dialect's `grammar`, reading `chunk` bytes at a time at most.
fn digest_into_with(
    grammar: &'static Grammar,
    size: usize,
    chunk: usize,
    input: &[u8],
    pending: Option<Expect<'static>>,
) -> Vec<String> {
    let _deadline = deadline::deadline(30);
    let mut buf = vec![0u8; size];
    let mut ing = Ingress::with_grammar(&mut buf, grammar);
    let mut items = Vec::new();
    let mut rest = input;
    let mut steps = 0;
    while !rest.is_empty() {
        steps += 1;
        assert!(steps < 100_000, "stalled: {items:?}");
        if ing.space().is_empty() {
            let got = ing.next(pending, true).map(|i| show(&i));
            assert!(
                got.is_some() || !ing.space().is_empty(),
                "full buffer not freed"
            );
            items.extend(got);
            continue;
        }
        let space = ing.space();
        let n = space.len().min(rest.len()).min(chunk);
        space[..n].copy_from_slice(&rest[..n]);
        ing.commit(n);
        rest = &rest[n..];
        while let Some(i) = ing.next(pending, false) {
            items.push(show(&i));
            assert!(items.len() <= input.len(), "no progress: {items:?}");
        }
    }
    items
}

const STATE: Option<Expect<'static>> = Some(Expect::prefixed(b"+MQTTSTATE"));

#[test]
fn echo_on_and_off() {
    let on = digest(b"AT+MQTTSTATE\r\r\n+MQTTSTATE:1\r\n\r\nOK\r\n", 64, STATE);
    assert_eq!(on, ["Echo", "INFO +MQTTSTATE:1", "Final(Ok)"]);
    let off = digest(b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n", 64, STATE);
    assert_eq!(off, ["INFO +MQTTSTATE:1", "Final(Ok)"]);
}

#[test]
fn missing_leading_crlf() {
    assert_eq!(
        digest(b"+MQTTSTATE:0\r\nOK\r\n", 64, STATE),
        ["INFO +MQTTSTATE:0", "Final(Ok)"]
    );
    assert_eq!(
        digest(b"OK\r\n", 64, Some(Expect::prefixed(b""))),
        ["Final(Ok)"]
    );
}

#[test]
fn colon_with_and_without_space() {
    assert_eq!(
        digest(
            b"\r\n+CFUN: 1\r\n\r\nOK\r\n",
            64,
            Some(Expect::prefixed(b"+CFUN"))
        ),
        ["INFO +CFUN: 1", "Final(Ok)"]
    );
    // `+CFUN: 1` is not mistaken for `+MQTTSTATE:1` (it is some other unsolicited line).
    assert_eq!(
        digest(b"\r\n+CFUN: 1\r\n\r\n+MQTTSTATE:1\r\n\r\nOK\r\n", 64, STATE),
        [
            "Event(Unrecognised([43, 67, 70, 85, 78, 58, 32, 49]))",
            "INFO +MQTTSTATE:1",
            "Final(Ok)"
        ]
    );
}

#[test]
fn every_error_form() {
    let none: Option<Expect<'static>> = Some(Expect::prefixed(b""));
    assert_eq!(digest(b"\r\nERROR\r\n", 64, none), ["Final(Failed(Error))"]);
    assert_eq!(
        digest(b"\r\n+CME ERROR: 50\r\n", 64, none),
        ["Final(Failed(Cme(50)))"]
    );
    assert_eq!(
        digest(b"\r\n+CME ERROR: operation not allowed\r\n", 64, none),
        [format!(
            "{:?}",
            Output::Final(Final::Failed(Detail::CmeText(
                // Cut to its first 16 bytes.
                "operation not al".try_into().unwrap()
            )))
        )]
    );
    assert_eq!(
        digest(b"\r\n+EXT ERROR: 7\r\n", 64, none),
        ["Final(Failed(Ext(7)))"]
    );
}

#[test]
fn urc_between_information_line_and_ok() {
    let got = digest(
        b"\r\n+MQTTSTATE:1\r\n\r\n+MQTTRECV:\"a/b\",2,hi\r\n\r\nOK\r\n",
        64,
        STATE,
    );
    assert_eq!(
        got,
        ["INFO +MQTTSTATE:1", "MSG a/b true \"hi\"", "Final(Ok)"]
    );
}

#[test]
fn message_payload_read_by_length() {
    let payload = b"a,\"b\"\r\nOK\r\n\r\nERROR\r\n+MQTTRECV:\"x\",1,y";
    let mut input = format!("\r\n+MQTTRECV:\"t/1\",{},", payload.len()).into_bytes();
    input.extend_from_slice(payload);
    input.extend_from_slice(b"\r\n");
    for chunk in [1, 2, 3, 7, 64] {
        let got = digest(&input, chunk, None);
        assert_eq!(
            got,
            [format!(
                "MSG t/1 true {:?}",
                String::from_utf8_lossy(payload)
            )],
            "chunk {chunk}"
        );
    }
}

/// `+MQTTSUBRECV` is ESP-AT's message, not the UC8088's (which passes it on unrecognised).
#[test]
fn esp_at_subrecv_and_unquoted_topic() {
    let subrecv = b"\r\n+MQTTSUBRECV:0,\"t\",5,hello\r\n";
    assert_eq!(
        digest_with(mqtt_modem::EspAt::GRAMMAR, subrecv, 3, None).0,
        ["MSG t true \"hello\""]
    );
    assert_eq!(
        digest(subrecv, 3, None),
        [format!(
            "{:?}",
            Output::Event(Event::Unrecognised(b"+MQTTSUBRECV:0,\"t\",5,hello"))
        )]
    );
    assert_eq!(
        digest(b"\r\n+MQTTRECV:bare/t,3,a\nb\r\n", 3, None),
        ["MSG bare/t false \"a\\nb\""]
    );
}

#[test]
fn unsolicited_state_disconnect_banner_and_unknown() {
    assert_eq!(
        digest(b"\r\n+MQTTSTATE:0\r\n", 64, None),
        [format!(
            "{:?}",
            Output::Event(Event::StateChanged(ConnectionState::Disconnected))
        )]
    );
    assert_eq!(
        digest(b"\r\n+MQTTDISCONNECTED: 5\r\n\r\nRDY\r\n", 64, None),
        ["Event(Disconnected)", "Event(Restarted)"]
    );
    assert_eq!(
        digest(b"\r\n+MQTTPING:1\r\n", 64, None),
        [format!(
            "{:?}",
            Output::Event(Event::Unrecognised(b"+MQTTPING:1"))
        )]
    );
}

#[test]
fn garbage_between_lines_is_discarded_and_counted() {
    let got = digest(
        b"\x00\xffzz\r\n\r\n+MQTTSTATE:1\r\n#noise\r\nOK\r\n",
        64,
        STATE,
    );
    assert_eq!(
        got,
        [
            "Discarded { bytes: 4, what: Noise }",
            "INFO +MQTTSTATE:1",
            "Discarded { bytes: 6, what: Noise }",
            "Final(Ok)"
        ]
    );
}

#[test]
fn broken_message_header_is_dropped_not_delivered() {
    let got = digest(b"\r\n+MQTTRECV:\"t\",x5,hello\r\n", 64, None);
    assert_eq!(got, ["Discarded { bytes: 22, what: BrokenMessage }"]);
}

#[test]
fn oversized_message_is_skipped_by_length() {
    let mut input = b"\r\n+MQTTRECV:\"t\",2000,".to_vec();
    input.extend(std::iter::repeat_n(b'z', 2000));
    input.extend_from_slice(b"\r\n+MQTTRECV:\"t\",2,ok\r\n");
    for chunk in [1, 100, 4096] {
        let (got, dropped) = digest_with(Uc8088::GRAMMAR, &input, chunk, None);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("what: Oversized"), "{got:?}");
        // Every byte of it is counted, in the report or skipped by length: its header
        // `+MQTTRECV:"t",2000,` (19), payload (2000) and CR LF (2); the CR LF before it goes
        // as line ends do.
        assert_eq!(discarded(&got[0]) + dropped, 19 + 2000 + 2, "chunk {chunk}");
        assert_eq!(got[1], "MSG t true \"ok\"");
    }
}

#[test]
fn overlong_line_never_stalls() {
    let mut input = vec![b'x'; 300];
    input.extend_from_slice(b"\r\nOK\r\n");
    let items = digest_into(64, &input, Some(Expect::prefixed(b"")));
    // The buffer's 64 bytes are reported here, the rest by `commit` as they arrive.
    assert_eq!(items, ["Discarded { bytes: 64, what: Noise }", "Final(Ok)"]);
    // An overlong command echo is told from noise only while an answer is awaited.
    let mut echo = b"AT+MQTTPUB=".to_vec();
    echo.extend_from_slice(&[b'x'; 100]);
    echo.extend_from_slice(b"\r\nOK\r\n");
    assert_eq!(
        digest_into(64, &echo, Some(Expect::prefixed(b""))),
        ["Echo", "Final(Ok)"]
    );
    assert_eq!(
        digest_into(64, &echo, None),
        ["Discarded { bytes: 64, what: Noise }", "Final(Ok)"]
    );
}

/// A URC injected at every byte offset inside a response: the response still parses and the
/// URC is delivered.
#[test]
fn urc_at_every_offset_inside_a_response() {
    let response = b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n";
    let urc = b"\r\n+MQTTRECV:\"x\",3,a\r\n\r\n";
    for at in 0..=response.len() {
        let mut input = response[..at].to_vec();
        input.extend_from_slice(urc);
        input.extend_from_slice(&response[at..]);
        for chunk in [1, 64] {
            let got = digest(&input, chunk, STATE);
            assert!(
                got.contains(&"MSG x true \"a\\r\\n\"".to_string()),
                "offset {at} chunk {chunk}: {got:?}"
            );
            let info: Vec<_> = got.iter().filter(|g| g.starts_with("INFO")).collect();
            assert_eq!(
                info,
                ["INFO +MQTTSTATE:1"],
                "offset {at} chunk {chunk}: {got:?}"
            );
            let finals: Vec<_> = got.iter().filter(|g| g.starts_with("Final")).collect();
            assert_eq!(finals, ["Final(Ok)"], "offset {at} chunk {chunk}: {got:?}");
            let pos = |p: &str| got.iter().position(|g| g.starts_with(p)).unwrap();
            assert!(
                pos("INFO") < pos("Final"),
                "offset {at} chunk {chunk}: {got:?}"
            );
            assert_eq!(
                got.len(),
                3,
                "nothing else: offset {at} chunk {chunk}: {got:?}"
            );
        }
    }
}

#[test]
fn echo_longer_than_the_buffer_is_not_part_of_the_answer() {
    let mut input = b"AT+MQTTPUB=\"t\",0,0,\"".to_vec();
    input.extend(std::iter::repeat_n(b'p', 200));
    input.extend_from_slice(b"\"\r\r\nOK\r\n");
    assert_eq!(
        digest_into(64, &input, Some(Expect::prefixed(b"+MQTTPUB"))),
        ["Echo", "Final(Ok)"]
    );
}

/// Found by the `digester` fuzz target: a message one or two bytes too big to fit after a
/// partial line stalled the buffer for good. It is now dropped as oversized and reading goes on.
#[test]
fn message_that_cannot_fit_after_a_partial_line_does_not_stall() {
    let input = b"ab\r\n+MQTTRECV:\"t\",12,0123456789ab\r\nOK\r\n";
    let items = digest_into(32, input, Some(Expect::prefixed(b"")));
    assert!(
        items.iter().any(|i| i.contains("what: Oversized")),
        "{items:?}"
    );
    // The message took the CRLF that framed it, so the fragment before it joined what followed
    // (`abOK`): what matters here is that all input went through.
}

/// A payload length that noise changed is caught by the CRLF that must follow the payload:
/// the message is dropped as broken, never delivered with a length the modem did not send.
#[test]
fn wrong_length_is_caught_by_the_closing_crlf() {
    // `5` became `6`: the payload would swallow the `\r`.
    let got = digest(
        b"\r\n+MQTTRECV:\"t\",6,hello\r\n\r\n+MQTTRECV:\"t\",2,ok\r\n",
        64,
        None,
    );
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].contains("what: BrokenMessage"), "{got:?}");
    assert!(
        got[1].starts_with("Discarded"),
        "the payload is judged as a line: {got:?}"
    );
    assert_eq!(got[2], "MSG t true \"ok\"");
}

#[test]
fn boot_banner_is_a_restart_even_during_a_plain_text_answer() {
    assert_eq!(
        digest(
            b"\r\nRDY\r\n\r\n8088\r\n\r\nOK\r\n",
            64,
            Some(Expect::prefixed(b""))
        ),
        ["Event(Restarted)", "INFO 8088", "Final(Ok)"]
    );
}

/// Identification answers (`Expect::text`) take bare lines and their own `+NAME:` lines; other
/// `+` lines stay unsolicited. With a bare-only expectation a `+CGMR:` line is not the answer's.
#[test]
fn text_answers_take_bare_and_own_prefixed_lines() {
    let reply = b"\r\n+CGMR: R01\r\nHW 2\r\n+MQTTSTATE:0\r\n+CGMRX:1\r\n\r\nOK\r\n";
    assert_eq!(
        digest(reply, 5, Some(Expect::text(b"+CGMR"))),
        [
            "INFO +CGMR: R01",
            "INFO HW 2",
            "Event(StateChanged(Disconnected))",
            "Event(Unrecognised([43, 67, 71, 77, 82, 88, 58, 49]))",
            "Final(Ok)"
        ]
    );
    assert_eq!(
        digest(reply, 64, Some(Expect::prefixed(b""))),
        [
            "Event(Unrecognised([43, 67, 71, 77, 82, 58, 32, 82, 48, 49]))",
            "INFO HW 2",
            "Event(StateChanged(Disconnected))",
            "Event(Unrecognised([43, 67, 71, 77, 82, 88, 58, 49]))",
            "Final(Ok)"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The seam's patterns for the dialects sketched in docs/DIALECTS.md (SIMCom, u-blox): their
// grammars, as tables, through the same digester.

use mqtt_modem::dialect::sketch::{SIMCOM, UBLOX};

/// A SIMCom message: the topic and the payload each cut into `pieces`, a CRLF after each piece
/// or not.
fn simcom_message(topic: &[u8], payload: &[u8], pieces: usize, crlf: bool) -> Vec<u8> {
    let mut out =
        format!("\r\n+CMQTTRXSTART: 0,{},{}\r\n", topic.len(), payload.len()).into_bytes();
    for (head, bytes) in [("+CMQTTRXTOPIC", topic), ("+CMQTTRXPAYLOAD", payload)] {
        for piece in bytes.chunks(bytes.len().div_ceil(pieces).max(1)) {
            out.extend(format!("{head}: 0,{}\r\n", piece.len()).bytes());
            out.extend_from_slice(piece);
            if crlf {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"+CMQTTRXEND: 0\r\n");
    out
}

/// A payload that holds every line a digester could mistake for something else.
const TRICKY: &[u8] = b"a\r\nOK\r\n+CMQTTRXEND: 0\r\n+CMQTTRXPAYLOAD: 0,3\r\n\0\",\xff";

#[test]
fn pieces_are_joined_at_every_chunk_size() {
    for pieces in [1, 2, 5] {
        for crlf in [true, false] {
            let input = simcom_message(b"dev/1/cmd", TRICKY, pieces, crlf);
            for chunk in 1..=input.len() {
                let (got, dropped) = digest_with(&SIMCOM, &input, chunk, None);
                let want = format!("MSG dev/1/cmd false {:?}", String::from_utf8_lossy(TRICKY));
                assert_eq!(got, [want], "{pieces} pieces, crlf {crlf}, chunk {chunk}");
                assert_eq!(dropped, 0);
            }
        }
    }
}

#[test]
fn pieces_inside_an_answer_and_an_empty_payload() {
    let mut input = b"\r\n+CMQTTSUB: 0,0\r\n".to_vec();
    input.extend(simcom_message(b"t", b"", 1, true));
    input.extend(b"\r\n+CMQTTCONNLOST: 0,1\r\n");
    input.extend(b"\r\nOK\r\n");
    input.extend(simcom_message(b"t", b"x", 1, true));
    for chunk in [1, 3, 7, 64] {
        let (got, _) = digest_with(&SIMCOM, &input, chunk, Some(Expect::prefixed(b"+CMQTTSUB")));
        assert_eq!(
            got,
            [
                "INFO +CMQTTSUB: 0,0",
                "MSG t false \"\"",
                "Event(Disconnected)",
                "Final(Ok)",
                "MSG t false \"x\""
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn pieces_too_large_for_the_buffer_are_dropped_piece_by_piece() {
    let big = vec![b'\n'; 1500];
    let mut input = simcom_message(b"t", &big, 3, true);
    let dropped_len = input.len();
    input.extend(b"\r\nOK\r\n");
    input.extend(simcom_message(b"t", b"after", 2, true));
    // The bytes counted for each read size: 1644 but for line ends between the message's
    // lines that went as line ends between any items do (how many depends on where reads
    // split it).
    for (chunk, want) in [(1, 1642), (7, 1642), (100, 1642), (600, 1642), (2000, 1624)] {
        let (got, dropped) = digest_with(&SIMCOM, &input, chunk, Some(Expect::prefixed(b"")));
        assert_eq!(got.len(), 3, "chunk {chunk}: {got:?}");
        assert!(got[0].contains("what: Oversized"), "{got:?}");
        assert_eq!(got[1..], ["Final(Ok)", "MSG t false \"after\""]);
        assert_eq!(dropped_len, 1644);
        assert_eq!(discarded(&got[0]) + dropped, want, "chunk {chunk}");
    }
}

#[test]
fn a_piece_with_a_wrong_length_is_broken_not_delivered() {
    // The topic piece says 6 bytes but 3 come: what follows them is no piece head.
    let mut input =
        b"\r\n+CMQTTRXSTART: 0,6,2\r\n+CMQTTRXTOPIC: 0,6\r\nabc\r\n+CMQTTRXPAYLOAD: 0,2\r\nhi\r\n+CMQTTRXEND: 0\r\n"
            .to_vec();
    input.extend(simcom_message(b"t", b"ok", 1, true));
    let (got, _) = digest_with(&SIMCOM, &input, 64, None);
    assert!(got[0].contains("what: BrokenMessage"), "{got:?}");
    assert_eq!(
        got.last().map(String::as_str),
        Some("MSG t false \"ok\""),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|g| g.starts_with("MSG") && g.contains("abc")),
        "{got:?}"
    );
}

#[test]
fn pull_notice_and_a_message_read_as_an_answer() {
    // The notice, then `AT+UMQTTC=6,1`'s answer: the message (its payload holding the answer's
    // own final line), the blank line u-blox writes, and OK.
    let input =
        b"\r\n+UUMQTTC: 6,2\r\n\r\n+UMQTTC: 6,1,13,5,\"a/b/c\",8,\"x\r\nOK\r\n\"\"\r\n\r\nOK\r\n";
    for chunk in [1, 5, 64] {
        let (got, _) = digest_with(&UBLOX, input, chunk, Some(Expect::prefixed(b"+UMQTTC")));
        assert_eq!(
            got,
            [
                "Event(MessagesWaiting { count: 2 })",
                "MSG a/b/c true \"x\\r\\nOK\\r\\n\\\"\"",
                "Final(Ok)"
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_message_that_fits_only_without_the_line_ends_before_it_is_delivered() {
    // 23 bytes of message in a 23-byte buffer, after `OK` and the line ends between them. (A
    // message right after a line's CR LF is planned where it stands, in case it split that
    // line: the buffer must hold it from there, as `Ingress::with_grammar` says.)
    for lead in [&b"\r\n\r\n"[..], b"\n\r\n", b"\n\n\r\n"] {
        let mut input = b"\r\nOK".to_vec();
        input.extend_from_slice(lead);
        input.extend_from_slice(b"+MQTTRECV:\"t\",5,hello\r\n");
        let items = digest_into(23, &input, None);
        assert_eq!(
            items.last().map(String::as_str),
            Some("MSG t true \"hello\""),
            "{lead:?}: {items:?}"
        );
    }
}

#[test]
fn a_head_line_that_never_ends_neither_loops_nor_stalls() {
    // Digits up to the end of the buffer: no message, judged as a line once the buffer is full.
    let mut input = b"+CMQTTRXSTART: 0,1,".to_vec();
    input.resize(32, b'0');
    input.extend_from_slice(b"\r\nOK\r\n");
    let items = digest_into_with(&SIMCOM, 32, usize::MAX, &input, Some(Expect::prefixed(b"")));
    assert_eq!(
        items.last().map(String::as_str),
        Some("Final(Ok)"),
        "{items:?}"
    );
    assert!(
        !items.iter().any(|i| i.contains("what: Oversized")),
        "{items:?}"
    );
}

#[test]
fn oversized_pieces_inside_an_interrupted_line_leave_the_line_whole() {
    let mut input = b"\r\n+CMQTTSUB: 0".to_vec();
    input.extend(simcom_message(b"t", &[b'\n'; 900], 3, true));
    input.extend_from_slice(b",0\r\n\r\nOK\r\n");
    let message_len = simcom_message(b"t", &[b'\n'; 900], 3, true).len();
    // As in the test above: 1043 bytes but for some line ends between its lines.
    for (chunk, want) in [(1, 1041), (8, 1041), (64, 1023), (1000, 1023)] {
        let (got, dropped) =
            digest_with(&SIMCOM, &input, chunk, Some(Expect::prefixed(b"+CMQTTSUB")));
        assert_eq!(got.len(), 3, "chunk {chunk}: {got:?}");
        assert!(got[0].contains("what: Oversized"), "{got:?}");
        assert_eq!(message_len, 1043);
        assert_eq!(discarded(&got[0]) + dropped, want, "chunk {chunk}");
        assert_eq!(
            got[1..],
            ["INFO +CMQTTSUB: 0,0", "Final(Ok)"],
            "chunk {chunk}"
        );
    }
}

#[test]
fn the_pieces_of_a_broken_message_are_dropped_by_length_not_judged() {
    // A stray line between the pieces breaks the message; the payload piece, which holds an
    // answer's final line and a link-loss URC, goes by its length.
    let input = b"\r\n+CMQTTRXSTART: 0,1,26\r\n+CMQTTRXTOPIC: 0,1\r\nt\r\n+CMQTTX: 1\r\n+CMQTTRXPAYLOAD: 0,26\r\nOK\r\n+CMQTTCONNLOST: 0,1\r\n\r\n+CMQTTRXEND: 0\r\n";
    for chunk in [1, 7, 64] {
        let (got, _) = digest_with(&SIMCOM, input, chunk, Some(Expect::prefixed(b"+CMQTTSUB")));
        assert!(
            got[0].contains("what: BrokenMessage"),
            "chunk {chunk}: {got:?}"
        );
        assert!(
            !got.iter()
                .any(|g| g.starts_with("Final") || g.contains("Disconnected")),
            "chunk {chunk}: {got:?}"
        );
    }
}

#[test]
fn pieces_that_fit_without_the_line_ends_before_them_are_delivered() {
    // The ingress holds the message but not its leading CR LF; it fills before the message
    // is whole, at every read size.
    let msg = simcom_message(b"t", b"p", 1, true);
    for chunk in [1, 2, 3, 7, 1000] {
        let items = digest_into_with(&SIMCOM, msg.len() - 2, chunk, &msg, None);
        assert_eq!(items, ["MSG t false \"p\""], "chunk {chunk}");
    }
}

/// Every grammar the digester reads: the three dialects' and the two sketched ones.
fn every_grammar() -> [&'static Grammar; 5] {
    [
        Uc8088::GRAMMAR,
        mqtt_modem::EspAt::GRAMMAR,
        mqtt_modem::Quectel::GRAMMAR,
        &SIMCOM,
        &UBLOX,
    ]
}

/// A well-formed message in the framing of [`every_grammar`]`()[g]`: its bytes, how many CR LF
/// bytes in front of it are its own, and whether its topic is quoted.
fn message_in(
    g: usize,
    topic: &str,
    payload: &[u8],
    pieces: usize,
    crlf: bool,
) -> (Vec<u8>, usize, bool) {
    let n = payload.len();
    let (head, close) = match g {
        0 => (format!("\r\n+MQTTRECV:\"{topic}\",{n},"), &b"\r\n"[..]),
        1 => (format!("+MQTTSUBRECV:0,\"{topic}\",{n},"), &b"\r\n"[..]),
        2 => (
            format!("\r\n+QMTRECV: 0,0,\"{topic}\",{n},\""),
            &b"\"\r\n"[..],
        ),
        3 => {
            return (
                simcom_message(topic.as_bytes(), payload, pieces, crlf),
                2,
                false,
            );
        }
        _ => {
            let both = topic.len() + n;
            let tl = topic.len();
            (
                format!("\r\n+UMQTTC: 6,1,{both},{tl},\"{topic}\",{n},\""),
                &b"\"\r\n"[..],
            )
        }
    };
    let lead = if head.starts_with("\r\n") { 2 } else { 0 };
    let mut out = head.into_bytes();
    out.extend_from_slice(payload);
    out.extend_from_slice(close);
    (out, lead, true)
}

/// What may stand before and between messages: answers, awaited lines, echoes (ending `\r\n`
/// or `\r\r\n`), bare text, lone line ends and a long run of them. Those holding a final
/// `OK` are 0 and 9.
const FRAGMENTS: [&[u8]; 12] = [
    b"\r\nOK\r\n",
    b"\r\n+MQTTSUB:0\r\n",
    b"AT+MQTTSUB=1\r\r\n",
    b"AT+MQTTSUB=1\r\n",
    b"+MQTTSUB:0\r\n",
    b"ucchip\r\n",
    b"\r\n",
    b"\r",
    b"\n",
    b"OK\r\n",
    b"+X:1\r\n",
    b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 20_000, failure_persistence: None, ..Default::default() })]

    /// In every grammar, one or two well-formed messages among answers, echoes and line ends,
    /// with or without a command pending, in an ingress that holds one (without the line ends
    /// before it) with 0 to 7 bytes to spare, read in any chunk size: each is delivered once and
    /// whole, and every `OK` is still seen. The ingress fills before a message is complete,
    /// and what is in front of it makes way.
    #[test]
    fn a_message_that_fits_is_delivered_whole_in_every_grammar(
        g in 0usize..5,
        topic in "[a-z/]{1,20}",
        payload in proptest::collection::vec(proptest::sample::select(b"\r\nOK+x\",\0".to_vec()), 0..120),
        pieces in 1usize..5,
        crlf: bool,
        before in proptest::collection::vec(0usize..FRAGMENTS.len(), 0..4),
        between in proptest::option::of(proptest::collection::vec(0usize..FRAGMENTS.len(), 0..3)),
        p in 0usize..4,
        slack in 0usize..8,
        chunk in 1usize..41,
    ) {
        let pending = [
            None,
            Some(Expect::prefixed(b"+MQTTSUB")),
            Some(Expect::text(b"")),
            Some(Expect { prefix: b"+MQTTSUB", bare: false, prompt: b">", last: true }),
        ][p];
        let grammar = every_grammar()[g];
        let (msg, lead, quoted) = message_in(g, &topic, &payload, pieces, crlf);
        let mut input = Vec::new();
        let mut oks = 1;
        let mut messages = 0;
        for fragments in [Some(before), between] {
            let Some(fragments) = fragments else { continue };
            for f in fragments {
                input.extend_from_slice(FRAGMENTS[f]);
                oks += usize::from(f == 0 || f == 9);
            }
            // ESP-AT's URCs bring no line end of their own: one must end what is before.
            if lead == 0 && !input.is_empty() && !input.ends_with(b"\n") {
                input.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(&msg);
            messages += 1;
        }
        input.extend_from_slice(b"\r\nOK\r\n");
        let size = msg.len() - lead + slack;
        let items = digest_into_with(grammar, size, chunk, &input, pending);
        let want = show(&Output::Message(RawMessage { topic: topic.as_bytes(), quoted, payload: &payload }));
        let got: Vec<_> = items.iter().filter(|i| i.starts_with("MSG")).collect();
        proptest::prop_assert_eq!(got, vec![&want; messages], "ingress {}: {:?}", size, items);
        let got_oks = items.iter().filter(|i| i.as_str() == "Final(Ok)").count();
        proptest::prop_assert_eq!(got_oks, oks, "ingress {}: {:?}", size, items);
    }
}

#[test]
fn broken_pieces_inside_an_answer_line_leave_the_line_whole() {
    // A message whose pieces break (no payload piece before the end) splits an answer line:
    // it is dropped with its own CR LF, so the line joins up again.
    let mut input = b"\r\n+CMQTTSUB: 0".to_vec();
    input.extend_from_slice(
        b"\r\n+CMQTTRXSTART: 0,1,2\r\n+CMQTTRXTOPIC: 0,1\r\nt\r\n+CMQTTRXEND: 0\r\n",
    );
    input.extend_from_slice(b",0\r\n\r\nOK\r\n");
    for chunk in [1, 7, 64] {
        let (got, _) = digest_with(&SIMCOM, &input, chunk, Some(Expect::prefixed(b"+CMQTTSUB")));
        assert!(
            got.contains(&"INFO +CMQTTSUB: 0,0".to_string()),
            "chunk {chunk}: {got:?}"
        );
    }
}

#[test]
fn a_message_that_fits_only_once_the_line_before_it_is_judged_is_delivered() {
    // ESP-AT writes its URC right after `OK\r\n`: the message cannot be planned where it
    // stands in an ingress of its own size, but can once the `OK` has gone.
    let input = b"\r\nOK\r\n+MQTTSUBRECV:0,\"/\",1,\r\r\n\r\nOK\r\n";
    for chunk in [1, 7, 100] {
        let items = digest_into_with(mqtt_modem::EspAt::GRAMMAR, 25, chunk, input, None);
        assert_eq!(
            items,
            ["Final(Ok)", "MSG / true \"\\r\"", "Final(Ok)"],
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_header_cut_short_by_a_full_buffer_makes_room_from_the_line_ends() {
    // The ingress fills with line ends and the start of a header: they make room for it.
    let input = b"\r\nOK\r\n\r\n+MQTTRECV:\"/\",0,\r\n\r\nOK\r\n";
    for chunk in [1, 5, 100] {
        let items = digest_into_with(Uc8088::GRAMMAR, 18, chunk, input, None);
        assert_eq!(
            items,
            ["Final(Ok)", "MSG / true \"\"", "Final(Ok)"],
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_pieces_head_cut_short_by_a_full_buffer_makes_room_from_the_line_ends() {
    // An awaited line waits for its next byte while line ends pile up behind it; the ingress
    // (message + 5) then fills with them and the start of the head line.
    let msg = simcom_message(b"/", b"0123456789", 1, false);
    let mut input = b"+CMQTTSUB: 0,0\r\n".to_vec();
    input.extend_from_slice(&b"\r\n".repeat(44));
    input.extend_from_slice(&msg);
    input.extend_from_slice(b"\r\nOK\r\n");
    let pending = Some(Expect::prefixed(b"+CMQTTSUB"));
    for chunk in [3, 40] {
        let items = digest_into_with(&SIMCOM, msg.len() + 5, chunk, &input, pending);
        assert_eq!(
            items,
            [
                "INFO +CMQTTSUB: 0,0",
                "MSG / false \"0123456789\"",
                "Final(Ok)"
            ],
            "chunk {chunk}"
        );
    }
}

/// The size boundary, both sides: a message that exactly fills the ingress buffer (its header,
/// payload and CR LF; the CR LF in front goes as line ends do) is delivered, whatever the read
/// sizes; one byte less of buffer drops it as oversized, counting every byte.
#[test]
fn a_message_that_exactly_fills_the_buffer_is_delivered() {
    let message = b"+MQTTRECV:\"t\",5,hello\r\n";
    let mut input = b"\r\n".to_vec();
    input.extend_from_slice(message);
    for chunk in [1, 3, 64] {
        let fits = digest_into_with(Uc8088::GRAMMAR, message.len(), chunk, &input, None);
        assert_eq!(fits, ["MSG t true \"hello\""], "chunk {chunk}");
        let small = digest_into_with(Uc8088::GRAMMAR, message.len() - 1, chunk, &input, None);
        assert_eq!(small.len(), 1, "chunk {chunk}: {small:?}");
        assert!(
            small[0].contains("what: Oversized"),
            "chunk {chunk}: {small:?}"
        );
    }
}

/// The same boundary for a message in length-announced pieces: delivered in a buffer that
/// exactly holds it (the line ends before it aside), dropped in one byte less.
#[test]
fn a_message_in_pieces_that_exactly_fills_the_buffer_is_delivered() {
    let input = simcom_message(b"t", b"hello", 2, true);
    let need = input.len() - 2;
    for chunk in [1, 5, 64] {
        let fits = digest_into_with(&SIMCOM, need, chunk, &input, None);
        assert_eq!(fits, ["MSG t false \"hello\""], "chunk {chunk}");
        let small = digest_into_with(&SIMCOM, need - 1, chunk, &input, None);
        assert!(
            small.iter().any(|i| i.contains("what: Oversized"))
                && !small.iter().any(|i| i.starts_with("MSG")),
            "chunk {chunk}: {small:?}"
        );
    }
}

/// `stuck()` (which lets the runner drop a message whose length noise enlarged) is true while a
/// message's payload is still arriving and while the rest of an oversized one is skipped, and
/// false otherwise.
#[test]
fn stuck_while_a_payload_arrives_or_an_oversized_rest_is_skipped() {
    fn feed(ing: &mut Ingress<'_>, bytes: &[u8]) {
        let space = ing.space();
        space[..bytes.len()].copy_from_slice(bytes);
        ing.commit(bytes.len());
    }
    let mut buf = [0u8; 64];
    let mut ing = Ingress::with_grammar(&mut buf, Uc8088::GRAMMAR);
    assert!(!ing.stuck());
    feed(&mut ing, b"\r\n+MQTTRECV:\"t\",20,abc");
    assert!(ing.next(None, false).is_none());
    assert!(ing.stuck(), "a payload still arriving");
    feed(&mut ing, b"defghijklmnopqrst\r\n");
    assert_eq!(
        ing.next(None, false).map(|o| show(&o)).as_deref(),
        Some("MSG t true \"abcdefghijklmnopqrst\"")
    );
    assert!(!ing.stuck());

    // 100 bytes announced into a 64-byte buffer: dropped, and its rest skipped as it comes.
    feed(&mut ing, b"\r\n+MQTTRECV:\"t\",100,");
    feed(&mut ing, &[b'x'; 40]);
    let item = ing.next(None, true).map(|o| show(&o)).unwrap();
    assert!(item.contains("what: Oversized"), "{item}");
    assert!(ing.stuck(), "the rest of an oversized message is skipped");
    feed(&mut ing, &[b'x'; 62]);
    assert!(!ing.stuck(), "all of it skipped");
    assert_eq!(ing.buffered(), 0);
}

/// [`feed_chunks`] with reads as large as the space, and no answer pending.
fn feed(ing: &mut Ingress<'_>, input: &[u8]) -> (Vec<String>, usize) {
    feed_chunks(ing, input, usize::MAX, None)
}

/// `commit_fresh` (the runner's restart after a timeout) drops what was buffered and keeps the
/// new bytes at the front; it and `commit` clamp a count larger than the space.
#[test]
fn commit_fresh_keeps_only_the_new_bytes() {
    let mut buf = [0u8; 512];
    let mut ing = Ingress::with_grammar(&mut buf, Uc8088::GRAMMAR);
    assert_eq!(feed(&mut ing, b"+MQTTSTATE"), (vec![], 0));
    let fresh = b"\r\n+MQTTSTATE:1\r\n".repeat(4);
    ing.space()[..fresh.len()].copy_from_slice(&fresh);
    assert_eq!(ing.commit_fresh(fresh.len()), 10, "the stale part line");
    assert_eq!(ing.buffered(), 64);
    let mut items = Vec::new();
    while let Some(i) = ing.next(None, false) {
        items.push(show(&i));
        assert!(items.len() <= 4, "no progress: {items:?}");
    }
    assert_eq!(items, ["Event(StateChanged(Connected))"; 4]);
    // More than the space: only what fits counts.
    assert_eq!(feed(&mut ing, b"+MQTTSTATE"), (vec![], 0));
    let space = ing.space();
    assert_eq!(space.len(), 502);
    space.fill(b'x');
    assert_eq!(ing.commit_fresh(600), 10);
    assert_eq!(ing.buffered(), 502);
    // And `commit` alike.
    let mut buf = [0u8; 512];
    let mut ing = Ingress::with_grammar(&mut buf, Uc8088::GRAMMAR);
    assert_eq!(feed(&mut ing, b"+MQTTSTATE"), (vec![], 0));
    ing.space().fill(b'x');
    assert_eq!(ing.commit(600), 0);
    assert_eq!(ing.buffered(), 512);
}

/// The bytes of a message in pieces dropped before a `commit_fresh` are reported by it, as
/// the next `commit` would have reported them.
#[test]
fn commit_fresh_reports_pieces_dropped_before_it() {
    let mut input =
        b"\r\n+CMQTTRXSTART: 0,1,100\r\n+CMQTTRXTOPIC: 0,1\r\nt\r\n+CMQTTRXPAYLOAD: 0,100\r\n"
            .to_vec();
    input.extend_from_slice(&[b'p'; 40]);
    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
    let mut by_commit = Ingress::with_grammar(&mut a, &SIMCOM);
    let mut by_fresh = Ingress::with_grammar(&mut b, &SIMCOM);
    assert_eq!(feed(&mut by_commit, &input), feed(&mut by_fresh, &input));
    by_commit.space();
    let pending = by_commit.commit(0);
    by_fresh.space();
    let held = by_fresh.buffered();
    assert_eq!(
        (pending, held),
        (64, 0),
        "the piece's head line and the 40 bytes so far"
    );
    assert_eq!(by_fresh.commit_fresh(0), held + pending);
}

/// `buffered()` leaves out what was parsed: items at the front, and a message cut out of the
/// middle of an answer's line.
#[test]
fn buffered_leaves_out_what_was_parsed() {
    let mut buf = [0u8; 64];
    let mut ing = Ingress::with_grammar(&mut buf, Uc8088::GRAMMAR);
    let input = b"\r\n+MQTTSTATE:1\r\n+MQTTSTATE";
    ing.space()[..input.len()].copy_from_slice(input);
    ing.commit(input.len());
    assert_eq!(ing.buffered(), input.len());
    let item = ing.next(None, false).map(|i| show(&i));
    assert_eq!(item.as_deref(), Some("Event(StateChanged(Connected))"));
    // Its line and the line ends before it are parsed; the part line is not.
    assert_eq!(ing.buffered(), 11);
    let input = b"\r\n+MQTTSUB:1,\"a\"\r\n\r\n+MQTTSTATE:1\r\n\r\nOK";
    assert_eq!(
        items_and_buffered(input, Some(Expect::prefixed(b"+MQTTSUB"))),
        [
            (Some("INFO +MQTTSUB:1,\"a\"".to_owned()), 21),
            (Some("Event(StateChanged(Connected))".to_owned()), 5),
            (None, 2),
        ]
    );
    // A message in the middle of an answer's line is cut out of it.
    let input = b"\r\n+MQ\r\n+MQTTRECV:\"x\",3,a\r\n\r\nTTSTATE:1\r\n\r\nOK";
    assert_eq!(
        items_and_buffered(input, STATE),
        [
            (Some("MSG x true \"a\\r\\n\"".to_owned()), 18),
            (Some("INFO +MQTTSTATE:1".to_owned()), 5),
            (None, 2),
        ]
    );
}

/// The blank after a `>` prompt is dropped, also when it arrives on its own; a blank at the
/// start of any other line is the line's.
#[test]
fn only_the_blank_after_a_prompt_is_dropped() {
    let prompt = Some(Expect {
        prefix: b"+MQTTPUB",
        bare: false,
        prompt: b">",
        last: true,
    });
    for chunk in [1, 64] {
        assert_eq!(
            digest(b"\r\n> ", chunk, prompt),
            ["Prompt"],
            "chunk {chunk}"
        );
        assert_eq!(
            digest(
                b"\r\n  R01\r\n\r\nOK\r\n",
                chunk,
                Some(Expect::text(b"+CGMR"))
            ),
            ["INFO   R01", "Final(Ok)"],
            "chunk {chunk}"
        );
    }
}

/// A prompt line (Quectel's `CONNECT` before file data) is the prompt only when it is awaited
/// and only as a whole line: the modem sends nothing after it until the data came, so it is
/// judged at once, in any chunking. `>` is not this command's prompt, nor `CONNECTED`.
#[test]
fn a_prompt_line_is_judged_at_once() {
    let connect = Some(Expect {
        prefix: b"+QFUPL",
        bare: false,
        prompt: b"CONNECT",
        last: false,
    });
    for chunk in [1, 3, 64] {
        assert_eq!(
            digest(b"\r\nCONNECT\r\n", chunk, connect),
            ["Prompt"],
            "chunk {chunk}"
        );
        assert_eq!(
            digest(b"\r\n+CME ERROR: 407\r\n", chunk, connect),
            ["Final(Failed(Cme(407)))"],
            "chunk {chunk}"
        );
        let other = digest(b"\r\nCONNECTED\r\n> ", chunk, connect);
        assert!(!other.contains(&"Prompt".to_owned()), "{other:?}");
        let unasked = digest(b"\r\nCONNECT\r\n", chunk, Some(Expect::prefixed(b"+QFUPL")));
        assert!(!unasked.contains(&"Prompt".to_owned()), "{unasked:?}");
    }
}

/// A pieces line that cannot end inside a full buffer is judged as a line, never waited for:
/// a head line, and a piece's line while an oversized message is being dropped.
#[test]
fn a_pieces_line_longer_than_the_buffer_does_not_stall() {
    let long = "0".repeat(40);
    let head = format!("\r\n+CMQTTRXSTART: 0,1,{long}5\r\n\r\nOK\r\n");
    let mut piece = simcom_message(b"t", &[b'p'; 100], 1, true);
    let at = piece
        .windows(16)
        .position(|w| w == b"+CMQTTRXPAYLOAD:")
        .unwrap();
    piece.splice(
        at..,
        format!("+CMQTTRXPAYLOAD: 0,{long}1\r\nx\r\n\r\nOK\r\n").into_bytes(),
    );
    let text = Some(Expect::prefixed(b""));
    assert_eq!(
        digest_into_with(&SIMCOM, 32, usize::MAX, head.as_bytes(), text),
        ["Discarded { bytes: 32, what: BrokenMessage }", "Final(Ok)"]
    );
    // The broken piece's line goes as an overlong line; what follows is judged as lines.
    assert_eq!(
        digest_into_with(&SIMCOM, 32, usize::MAX, &piece, text),
        [
            "Discarded { bytes: 24, what: Oversized }",
            "Discarded { bytes: 32, what: Noise }",
            "INFO x",
            "Final(Ok)"
        ]
    );
}

/// `input` in one read into a 64-byte ingress, then three looks: each item, and what is left
/// buffered after it.
fn items_and_buffered(
    input: &[u8],
    pending: Option<Expect<'static>>,
) -> Vec<(Option<String>, usize)> {
    let mut buf = [0u8; 64];
    let mut ing = Ingress::with_grammar(&mut buf, Uc8088::GRAMMAR);
    ing.space()[..input.len()].copy_from_slice(input);
    ing.commit(input.len());
    (0..3)
        .map(|_| {
            let item = ing.next(pending, false).map(|i| show(&i));
            (item, ing.buffered())
        })
        .collect()
}

/// A line judged while an oversized message in pieces is being dropped after it: where the
/// next piece is expected moves down with the line, so the pieces (bare, no CR LF after them,
/// their payload full of answer lines) still go by their lengths.
#[test]
fn a_line_judged_while_pieces_are_dropped_keeps_their_place() {
    let payload = b"OK\r\n".repeat(400);
    let mut input = b"\r\n+CMQTTCONNLOST: 0,1\r\n".to_vec();
    input.extend(simcom_message(b"t", &payload, 3, false));
    input.extend(b"\r\nOK\r\n");
    input.extend(simcom_message(b"t", b"after", 2, false));
    for chunk in [64, 100, 600] {
        let (got, _) = digest_with(&SIMCOM, &input, chunk, Some(Expect::prefixed(b"")));
        assert_eq!(got.len(), 4, "chunk {chunk}: {got:?}");
        assert_eq!(got[0], "Event(Disconnected)", "chunk {chunk}");
        assert!(got[1].contains("what: Oversized"), "chunk {chunk}: {got:?}");
        assert_eq!(got[2..], ["Final(Ok)", "MSG t false \"after\""]);
    }
}

/// A piece's line that a full buffer cuts short while an oversized message is being dropped
/// (an interrupted answer line holds the front) is judged, never waited for.
#[test]
fn a_piece_line_cut_by_a_full_buffer_while_dropping_is_judged() {
    // 42 bytes: the answer line and the piece's line up to the last digit of its length (six
    // digits at most, each number).
    let mut input = b"+CMQTTSUB: 0\r\n+CMQTTRXSTART: 0,1,200\r\n+CMQTTRXTOPIC: 0,1\r\nt".to_vec();
    input.extend(b"+CMQTTRXPAYLOAD: 000000,000200\r\n");
    input.extend([b'p'; 200]);
    input.extend(b"+CMQTTRXEND: 0\r\n\r\nOK\r\n");
    let items = digest_into_with(&SIMCOM, 42, usize::MAX, &input, Some(Expect::prefixed(b"")));
    // The head line with its CR LF in front; then the answer line and the piece's line as one
    // overlong line, and the payload's first 40 bytes (the rest of that line goes as it comes).
    assert_eq!(
        items,
        [
            "Discarded { bytes: 24, what: Oversized }",
            "Discarded { bytes: 42, what: Noise }",
            "Discarded { bytes: 42, what: Noise }",
            "Final(Ok)"
        ]
    );
}

/// A head line that a full buffer cuts short behind an interrupted answer line is no message:
/// the line in front is judged, then the head's bytes as a line.
#[test]
fn a_head_line_cut_by_a_full_buffer_behind_a_line_is_judged() {
    let input = b"\r\n+CMQTTSUB: 0\r\n+CMQTTRXSTART: 0,1,0000000005\r\n\r\nOK\r\n";
    let pending = Some(Expect::prefixed(b"+CMQTTSUB"));
    let items = digest_into_with(&SIMCOM, 32, usize::MAX, input, pending);
    // The head line, whole once there is room, has no pieces after it: a broken message.
    assert_eq!(
        items,
        [
            "INFO +CMQTTSUB: 0",
            "Discarded { bytes: 29, what: BrokenMessage }",
            "Final(Ok)"
        ]
    );
}

/// SIMCom's pieces as a dialect would send them without a CR LF of their own in front (as
/// ESP-AT does its messages): the paths of a grammar whose URCs start right after a line end.
static BARE_PIECES: Grammar = Grammar {
    messages: SIMCOM.messages,
    session: SIMCOM.session,
    banners: &[],
    urc_crlf: false,
};

#[test]
fn bare_pieces_that_fit_without_the_line_ends_before_them_are_delivered() {
    let msg = simcom_message(b"t", b"p", 1, true);
    for chunk in [1, 2, 3, 7, 1000] {
        let items = digest_into_with(&BARE_PIECES, msg.len() - 2, chunk, &msg, None);
        assert_eq!(items, ["MSG t false \"p\""], "chunk {chunk}");
    }
}

/// A message in many small pieces whose announced lengths fit the buffer but whose piece lines
/// do not: dropped as oversized, in both framings. The buffer holds exactly what the head and
/// topic lines say it needs at least (205 bytes), but not the line ends before it.
#[test]
fn small_pieces_whose_lines_overflow_the_buffer_are_oversized() {
    let msg = simcom_message(b"t", &[b'p'; 100], 10, false);
    let mut input = msg.clone();
    input.extend_from_slice(b"\r\nOK\r\n");
    for grammar in [&SIMCOM, &BARE_PIECES] {
        for chunk in [1, 16, 1000] {
            let items = digest_into_with(grammar, 205, chunk, &input, Some(Expect::prefixed(b"")));
            assert_eq!(
                items,
                ["Discarded { bytes: 24, what: Oversized }", "Final(Ok)"],
                "chunk {chunk}"
            );
        }
    }
}
