//! Property tests: no input can put a second command or an early terminator on the wire, and
//! the digester survives any byte stream. String fields run 10^5 cases each (set
//! `PROPTEST_CASES` to change it).

use atat::AtatCmd;
use mqtt_modem::dialect::uc8088::commands::Publish;
use mqtt_modem::dialect::uc8088::commands::SetConfig;
use mqtt_modem::dialect::uc8088::commands::SetTls;
use mqtt_modem::dialect::uc8088::commands::{Subscribe, Unsubscribe};
use mqtt_modem::dialect::uc8088::types::CertKind;
use mqtt_modem::digest::{Expect, Ingress};
use mqtt_modem::{CertEncoding, Config, Error, Field, Invalid, Qos, Quoting};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Characters that matter to the line discipline, mixed with anything at all.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        1 => prop::sample::select(vec!['"', '\\', '\r', '\n', ',', '\0', '+', '#', '/', ';', 'A', 'T']),
    ]
}

fn nasty_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn nasty_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![3 => any::<u8>(), 1 => prop::sample::select(b"\"\\\r\n,\0".to_vec())],
        0..max,
    )
}

// The limits of docs/DIALECTS.md (UC8088), written out here rather than taken from the driver.
const MAX_TOPIC: usize = 256;
const MAX_HOST: usize = 253;
const MAX_CLIENT_ID: usize = 128;
const MAX_CREDENTIAL: usize = 256;
const MAX_CERT: usize = 1536;

/// What the driver must say of a string field, decided independently of its code: `None` to
/// accept it, or why it refuses it. The checks come in the documented order: empty, length,
/// CR/LF/NUL, then (bare fields only) `,` `"` or a blank at either end.
fn string_verdict(s: &[u8], max: usize, empty_refused: bool, bare: bool) -> Option<Invalid> {
    let blank = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if s.is_empty() && empty_refused {
        Some(Invalid::Empty)
    } else if s.len() > max {
        Some(Invalid::TooLong { max })
    } else if s.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        Some(Invalid::LineBreakOrNul)
    } else if bare
        && (s.contains(&b',') || s.contains(&b'"') || blank(s.first()) || blank(s.last()))
    {
        Some(Invalid::NeedsQuoting)
    } else {
        None
    }
}

/// A topic filter's verdict: a string field, then MQTT's wildcard rules (`+` a whole level,
/// `#` the whole last level).
fn filter_verdict(filter: &str) -> Option<Invalid> {
    string_verdict(filter.as_bytes(), MAX_TOPIC, true, false).or_else(|| {
        let levels: Vec<&str> = filter.split('/').collect();
        let misplaced = levels.iter().enumerate().any(|(i, l)| {
            (l.contains('+') && *l != "+")
                || (l.contains('#') && (*l != "#" || i + 1 != levels.len()))
        });
        misplaced.then_some(Invalid::MisplacedWildcard)
    })
}

/// The first refused field of `AT+MQTTCONFIG`, in the order the fields are written (port and
/// keepalive are valid in these tests).
fn config_verdict(fields: [(Field, &str, usize, bool); 4], bare: bool) -> Option<Error> {
    fields
        .iter()
        .find_map(|&(field, value, max, empty_refused)| {
            string_verdict(value.as_bytes(), max, empty_refused, bare)
                .map(|reason| Error::InvalidInput { field, reason })
        })
}

/// An independent reading of one written line: checks the framing and returns its parameters,
/// quoted ones unescaped. Panics (fails the property) if the line could hold a second command.
fn read_line(line: &[u8], prefix: &[u8]) -> Vec<Vec<u8>> {
    assert!(line.starts_with(prefix), "prefix");
    assert_eq!(line.last(), Some(&b'\r'), "terminator");
    let body = &line[prefix.len()..line.len() - 1];
    assert!(!body.contains(&b'\r'), "early CR");
    assert!(!body.contains(&b'\n'), "LF");
    assert!(!body.contains(&0), "NUL");
    let mut params = Vec::new();
    let mut i = 0;
    loop {
        let mut p = Vec::new();
        if body.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match body.get(i) {
                    None => panic!("unterminated quote"),
                    Some(b'\\') => {
                        p.push(*body.get(i + 1).expect("dangling escape"));
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        p.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(&c) = body.get(i) {
                if c == b',' {
                    break;
                }
                assert_ne!(c, b'"', "quote in a bare field");
                p.push(c);
                i += 1;
            }
        }
        params.push(p);
        match body.get(i) {
            None => return params,
            Some(b',') => i += 1,
            Some(_) => panic!("text after a closing quote"),
        }
    }
}

fn written<C: AtatCmd>(cmd: &C) -> Vec<u8> {
    let mut buf = vec![0u8; 16 * 1024];
    let n = cmd.write(&mut buf);
    assert!(n > 0, "did not fit");
    buf.truncate(n);
    buf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn publish_topic_cannot_escape(topic in nasty_string(40)) {
        if let Ok(cmd) = Publish::new(&topic, b"p", Qos::AtLeastOnce, false) {
            let p = read_line(&written(&cmd), b"AT+MQTTPUB=");
            prop_assert_eq!(p, vec![topic.into_bytes(), b"1".to_vec(), b"0".to_vec(), b"p".to_vec()]);
        } else {
            prop_assert!(topic.is_empty() || topic.contains(['\r', '\n', '\0', '+', '#']));
        }
    }

    #[test]
    fn publish_payload_cannot_escape(payload in nasty_bytes(80)) {
        let verdict = string_verdict(&payload, mqtt_modem::MAX_PAYLOAD_LEN, false, false);
        match (Publish::new("t", &payload, Qos::AtMostOnce, true), verdict) {
            (Ok(cmd), None) => {
                let p = read_line(&written(&cmd), b"AT+MQTTPUB=");
                prop_assert_eq!(cmd.encoded_len(), written(&cmd).len());
                prop_assert_eq!(p, vec![b"t".to_vec(), b"0".to_vec(), b"1".to_vec(), payload]);
            }
            (Err(e), Some(reason)) => {
                prop_assert_eq!(e, Error::InvalidInput { field: Field::Payload, reason });
            }
            (got, want) => prop_assert!(false, "got {:?}, want {:?}", got.map(drop), want),
        }
    }

    #[test]
    fn subscribe_filter_cannot_escape(filter in nasty_string(40)) {
        let verdict = filter_verdict(&filter);
        match (Subscribe::new(&filter, Qos::ExactlyOnce), verdict) {
            (Ok(cmd), None) => {
                let p = read_line(&written(&cmd), b"AT+MQTTSUB=");
                prop_assert_eq!(p, vec![filter.clone().into_bytes(), b"2".to_vec()]);
            }
            (Err(e), Some(reason)) => {
                prop_assert_eq!(e, Error::InvalidInput { field: Field::TopicFilter, reason });
            }
            (got, want) => prop_assert!(false, "{:?}: got {:?}, want {:?}", filter, got.map(drop), want),
        }
        match (Unsubscribe::new(&filter), verdict) {
            (Ok(cmd), None) => {
                let p = read_line(&written(&cmd), b"AT+MQTTUNSUB=");
                prop_assert_eq!(p, vec![filter.into_bytes()]);
            }
            (Err(e), Some(reason)) => {
                prop_assert_eq!(e, Error::InvalidInput { field: Field::TopicFilter, reason });
            }
            (got, want) => prop_assert!(false, "{:?}: got {:?}, want {:?}", filter, got.map(drop), want),
        }
    }

    #[test]
    fn config_quoted_fields_cannot_escape(
        host in nasty_string(24), id in nasty_string(24), user in nasty_string(24), pass in nasty_string(40)
    ) {
        let cfg = Config::new(&host, 1883, &id).credentials(&user, &pass);
        let verdict = config_verdict([
            (Field::Host, &host, MAX_HOST, true),
            (Field::ClientId, &id, MAX_CLIENT_ID, true),
            (Field::Username, &user, MAX_CREDENTIAL, false),
            (Field::Password, &pass, MAX_CREDENTIAL, false),
        ], false);
        match (SetConfig::new(&cfg), verdict) {
            (Ok(cmd), None) => {
                let p = read_line(&written(&cmd), b"AT+MQTTCONFIG=");
                prop_assert_eq!(p, vec![
                    host.into_bytes(), b"1883".to_vec(), id.into_bytes(), b"1".to_vec(),
                    b"60".to_vec(), user.into_bytes(), pass.into_bytes(),
                ]);
            }
            (Err(e), Some(want)) => prop_assert_eq!(e, want),
            (got, want) => prop_assert!(false, "got {:?}, want {:?}", got.map(drop), want),
        }
    }

    #[test]
    fn config_unquoted_fields_cannot_escape(pass in nasty_string(40), user in nasty_string(16)) {
        let cfg = Config::new("h", 1, "id").credentials(&user, &pass).quoting(Quoting::Unquoted);
        let verdict = config_verdict([
            (Field::Host, "h", MAX_HOST, true),
            (Field::ClientId, "id", MAX_CLIENT_ID, true),
            (Field::Username, &user, MAX_CREDENTIAL, false),
            (Field::Password, &pass, MAX_CREDENTIAL, false),
        ], true);
        match (SetConfig::new(&cfg), verdict) {
            (Ok(cmd), None) => {
                let line = written(&cmd);
                let p = read_line(&line, b"AT+MQTTCONFIG=");
                prop_assert_eq!(p.len(), 7);
                prop_assert_eq!(&p[5], user.as_bytes());
                prop_assert_eq!(&p[6], pass.as_bytes());
            }
            (Err(e), Some(want)) => prop_assert_eq!(e, want),
            (got, want) => prop_assert!(false, "got {:?}, want {:?}", got.map(drop), want),
        }
    }

    #[test]
    fn certificate_cannot_escape(pem in nasty_bytes(200)) {
        for enc in [CertEncoding::EscapedNewlines, CertEncoding::StrippedNewlines] {
            // Refused: empty (or only line breaks, once stripped), too long, or a NUL (which
            // has no encoding).
            let stripped_empty = enc == CertEncoding::StrippedNewlines
                && pem.iter().all(|&b| b == b'\r' || b == b'\n');
            let verdict = if pem.is_empty() {
                Some(Invalid::Empty)
            } else if pem.len() > MAX_CERT {
                Some(Invalid::TooLong { max: MAX_CERT })
            } else if pem.contains(&0) {
                Some(Invalid::LineBreakOrNul)
            } else if stripped_empty {
                Some(Invalid::Empty)
            } else {
                None
            };
            let upload = SetTls::upload(CertKind::RootCa, &pem, enc);
            if let Some(reason) = verdict {
                prop_assert_eq!(
                    upload.map(drop),
                    Err(Error::InvalidInput { field: Field::Certificate, reason })
                );
                continue;
            }
            prop_assert!(upload.is_ok(), "{:?} refused: {:?}", pem, upload.map(drop));
            if let Ok(cmd) = upload {
                let p = read_line(&written(&cmd), b"AT+MQTTTLS=");
                prop_assert_eq!(p.len(), 4);
                let expected: Vec<u8> = match enc {
                    // `\n` and `\r` arrive as the letters n and r after unescaping.
                    CertEncoding::EscapedNewlines => pem.iter().map(|&b| match b {
                        b'\n' => b'n',
                        b'\r' => b'r',
                        b => b,
                    }).collect(),
                    CertEncoding::StrippedNewlines => pem.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect(),
                    _ => unreachable!("only the two encodings above are iterated"),
                };
                prop_assert_eq!(&p[2], &expected);
                let size = match enc {
                    CertEncoding::EscapedNewlines => pem.len(),
                    CertEncoding::StrippedNewlines => expected.len(),
                    _ => unreachable!("only the two encodings above are iterated"),
                };
                let size = size.to_string();
                prop_assert_eq!(&p[3], size.as_bytes());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 10, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes, in any chunks, with or without a command pending: no panic, no stall, and
    /// the buffer always makes room.
    #[test]
    fn digester_survives_any_stream(
        data in nasty_bytes(600),
        chunks in prop::collection::vec(1usize..40, 1..20),
        pending in prop::option::of(prop::sample::select(vec![
            Expect::prefixed(b""),
            Expect::prefixed(b"+MQTTSTATE"),
            Expect::prefixed(b"+MQTTSUB"),
            Expect::text(b"+CGMR"),
        ])),
        size in 32usize..256,
    ) {
        let mut buf = vec![0u8; size];
        let mut ing = Ingress::with_grammar(&mut buf, <mqtt_modem::Uc8088 as mqtt_modem::Dialect>::GRAMMAR);
        let mut rest = &data[..];
        let mut k = 0;
        let mut steps = 0;
        while !rest.is_empty() {
            steps += 1;
            prop_assert!(steps < 100_000, "stalled");
            let want = chunks[k % chunks.len()];
            k += 1;
            let space = ing.space();
            if space.is_empty() {
                let freed = ing.next(pending, true).is_some();
                prop_assert!(freed || !ing.space().is_empty(), "full buffer not freed");
                continue;
            }
            let n = want.min(space.len()).min(rest.len());
            space[..n].copy_from_slice(&rest[..n]);
            ing.commit(n);
            rest = &rest[n..];
            while ing.next(pending, false).is_some() {
                steps += 1;
                prop_assert!(steps < 100_000, "stalled");
            }
        }
    }
}
