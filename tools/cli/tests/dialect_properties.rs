//! Property tests of the ESP-AT and Quectel encoders, checked against the simulator's own
//! parsers (`modem_sim::dialect::{esp_at, quectel}::parse`), 10^5 cases per string field
//! (`PROPTEST_CASES` to change): any string the driver accepts goes out as one line that the
//! module reads back as exactly that string, and no input ends the line early or starts a
//! second command; a string the dialect cannot carry is refused typed, naming the field,
//! before a byte is written. Each input also goes through the driver's own API, polled once
//! on a modem that never answers: refused at once, or accepted with exactly the expected
//! line written.

use std::sync::{Arc, Mutex};

use atat::AtatCmd;
use embedded_io_async::{ErrorType, Read, Write};
use modem_sim::dialect::{esp_at::parse as esp, quectel::parse as qmt};
use mqtt_modem::dialect::{esp_at::commands as e, quectel::commands as q};
use mqtt_modem::{
    Config, Dialect, Error, EspAt, Field, Invalid, MqttModem, Options, Qos, Quectel, Resources,
};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Strings of up to `max` characters of any kind, weighted toward the ones that matter on a
/// command line (short enough that every dialect's length limits hold).
fn nasty(max: usize) -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '"', '\\', ',', '\r', '\n', '\0', ';', ' ', '>', '/', 'é', '🚀', 'A',
    ]);
    prop::collection::vec(prop_oneof![special, any::<char>()], 1..=max)
        .prop_map(|v| v.into_iter().collect())
}

/// Topics and filters: as [`nasty`], without the wildcards (their placement rules are the
/// shared ones, property-tested with the UC8088).
fn topic() -> impl Strategy<Value = String> {
    nasty(30).prop_map(|s| s.replace(['+', '#'], "w"))
}

/// The line a command writes, terminator removed; panics if it is not exactly one line.
fn line<C: AtatCmd>(cmd: &C, end: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = cmd.write(&mut buf);
    let bytes = &buf[..n];
    assert!(
        bytes.ends_with(end),
        "{:?}",
        bytes.escape_ascii().to_string()
    );
    let body = &bytes[..n - end.len()];
    assert!(
        !body.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0),
        "a line break or NUL inside the line: {}",
        body.escape_ascii()
    );
    body.to_vec()
}

fn line_breaking(s: &str) -> bool {
    s.contains(['\r', '\n', '\0'])
}

/// A UART that records what the driver writes and never answers.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<u8>>>);

impl ErrorType for Recorder {
    type Error = embedded_io::ErrorKind;
}

impl Write for Recorder {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl Read for Recorder {
    async fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
        std::future::pending().await
    }
}

/// Polls `call` once on a modem of dialect `D` that never answers: its result if it ended at
/// once (a refusal), `None` if it accepted the input and waits for the modem; and the bytes
/// written.
fn first_poll<D: Dialect + Copy, T>(
    dialect: D,
    call: impl AsyncFnOnce(&mut MqttModem<'_, Recorder, D, 256, 256>) -> Result<T, Error>,
) -> (Option<Result<T, Error>>, Vec<u8>) {
    let wire = Recorder::default();
    let mut res: Resources<256, 256, 256> = Resources::new();
    let (mut modem, _runner, _events) = MqttModem::with_dialect(
        dialect,
        &mut res,
        wire.clone(),
        wire.clone(),
        Options::default(),
    );
    let r = match embassy_futures::poll_once(call(&mut modem)) {
        std::task::Poll::Ready(r) => Some(r),
        std::task::Poll::Pending => None,
    };
    let sent = wire.0.lock().unwrap().clone();
    (r, sent)
}

/// The refusal `configure` must give: the first of client id, user name and password that
/// holds a byte the dialect cannot send, named, with its reason.
fn first_bad(fields: [(Field, &str); 3], quote: bool) -> Option<(Field, Invalid)> {
    fields.into_iter().find_map(|(f, s)| {
        if line_breaking(s) {
            Some((f, Invalid::LineBreakOrNul))
        } else if quote && s.contains('"') {
            Some((f, Invalid::Quote))
        } else {
            None
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// ESP-AT user config: client id, user name and password, escaped `\\` `\"` `\,`.
    #[test]
    fn esp_at_user_config_fields(id in nasty(8), user in nasty(8), password in nasty(8)) {
        let cmd = e::SetUserConfig {
            scheme: 1,
            client_id: id.as_bytes(),
            username: user.as_bytes(),
            password: password.as_bytes(),
        };
        let config = Config::new("h", 1883, &id).credentials(&user, &password);
        let (r, sent) = first_poll(EspAt, async |m| m.configure(&config).await);
        let fields = [(Field::ClientId, id.as_str()), (Field::Username, &user), (Field::Password, &password)];
        if let Some((field, reason)) = first_bad(fields, false) {
            prop_assert_eq!(r, Some(Err(Error::InvalidInput { field, reason })));
            prop_assert!(sent.is_empty());
        } else {
            // Accepted: it went on to the wire (CLEAN first) and waits for the module.
            prop_assert!(r.is_none(), "{r:?}");
            prop_assert_eq!(sent, b"AT+MQTTCLEAN=0\r\n".to_vec());
            let l = line(&cmd, b"\r\n");
            match esp::parse(&l) {
                Ok(esp::Command::UserCfg(u)) => {
                    prop_assert_eq!(u.client_id, id);
                    prop_assert_eq!(u.username, user);
                    prop_assert_eq!(u.password, password);
                }
                other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
            }
        }
    }

    /// ESP-AT TLS names: a server name and two ALPN protocols are taken by `set_tls` unless
    /// one holds CR, LF or NUL (refused, naming it, nothing written); taken ones go out in
    /// `AT+MQTTSNI` / `AT+MQTTALPN` lines the module reads back exactly.
    #[test]
    fn esp_at_server_name_and_alpn(name in nasty(40), p1 in nasty(12), p2 in nasty(12)) {
        let protocols = [p1.as_str(), p2.as_str()];
        let tls = mqtt_modem::Tls::unverified().server_name(&name).alpn(&protocols);
        let (r, sent) = first_poll(EspAt, async |m| m.set_tls(tls).await);
        prop_assert!(sent.is_empty());
        let bad = if line_breaking(&name) {
            Some(Field::ServerName)
        } else if line_breaking(&p1) || line_breaking(&p2) {
            Some(Field::Alpn)
        } else {
            None
        };
        if let Some(field) = bad {
            prop_assert_eq!(r, Some(Err(Error::InvalidInput { field, reason: Invalid::LineBreakOrNul })));
            return Ok(());
        }
        let too_long = |e: &Error| matches!(e, Error::InvalidInput { reason: Invalid::TooLong { .. }, .. });
        match r {
            Some(Ok(())) => {}
            // Escapes can take a line over ESP-AT's 256 bytes.
            Some(Err(e)) if too_long(&e) => return Ok(()),
            other => prop_assert!(false, "{other:?}"),
        }
        let l = line(&e::SetServerName { name: name.as_bytes() }, b"\r\n");
        match esp::parse(&l) {
            Ok(esp::Command::Sni(n)) => prop_assert_eq!(n, name),
            other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
        }
        let raw: Vec<&[u8]> = protocols.iter().map(|p| p.as_bytes()).collect();
        let l = line(&e::SetAlpn { protocols: &raw }, b"\r\n");
        match esp::parse(&l) {
            Ok(esp::Command::Alpn(got)) => prop_assert_eq!(got, raw),
            other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
        }
    }

    /// ESP-AT topic (raw publish) and filter (subscribe, unsubscribe).
    #[test]
    fn esp_at_topic_and_filter(topic in topic(), len in 1usize..4097) {
        let payload = vec![b'x'; len];
        let (r, sent) = first_poll(EspAt, async |m| m.publish(&topic, &payload, Qos::AtLeastOnce, true).await);
        if line_breaking(&topic) {
            prop_assert_eq!(r, Some(Err(Error::InvalidInput { field: Field::Topic, reason: Invalid::LineBreakOrNul })));
            prop_assert!(sent.is_empty());
            return Ok(());
        }
        let publish = e::PublishRaw { topic: topic.as_bytes(), payload: &payload, qos: Qos::AtLeastOnce, retain: true };
        let l = line(&publish, b"\r\n");
        // What the driver wrote before waiting for the prompt is exactly this line.
        prop_assert!(r.is_none(), "{r:?}");
        prop_assert_eq!(sent, [&l[..], b"\r\n"].concat());
        match esp::parse(&l) {
            Ok(esp::Command::PubRaw { topic: t, len: n, qos, retain }) => {
                prop_assert_eq!(t, topic.clone());
                prop_assert_eq!((n, qos, retain), (len, 1, true));
            }
            other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
        }
        let sub = e::Subscribe { filter: topic.as_bytes(), qos: Qos::ExactlyOnce };
        let l = line(&sub, b"\r\n");
        prop_assert_eq!(esp::parse(&l), Ok(esp::Command::Sub { topic: topic.clone(), qos: 2 }));
        let unsub = e::Unsubscribe { filter: topic.as_bytes() };
        let l = line(&unsub, b"\r\n");
        prop_assert_eq!(esp::parse(&l), Ok(esp::Command::Unsub(topic)));
    }

    /// Quectel: no escape exists, so `"` is refused as well as CR, LF and NUL; anything else
    /// reads back as sent (client id, user name, password, topic, filter).
    #[test]
    fn quectel_quoted_fields(id in nasty(30), user in nasty(30), password in nasty(30), topic in topic()) {
        let unsendable = |s: &str| line_breaking(s) || s.contains('"');
        let config = Config::new("h", 1883, &id).credentials(&user, &password);
        let (r, sent) = first_poll(Quectel, async |m| m.configure(&config).await);
        let fields = [(Field::ClientId, id.as_str()), (Field::Username, &user), (Field::Password, &password)];
        if let Some((field, reason)) = first_bad(fields, true) {
            prop_assert_eq!(r, Some(Err(Error::InvalidInput { field, reason })));
            prop_assert!(sent.is_empty());
        } else {
            // Accepted: its first setting went out and it waits for the module.
            prop_assert!(r.is_none(), "{r:?}");
            prop_assert_eq!(sent, b"AT+QMTCFG=\"version\",0,4\r".to_vec());
            let conn = q::Connect {
                client_id: id.as_bytes(),
                credentials: Some((user.as_bytes(), password.as_bytes())),
            };
            let l = line(&conn, b"\r");
            match qmt::parse(&l) {
                Ok(qmt::Command::Conn { idx, client_id, user: u, password: p }) => {
                    prop_assert_eq!(idx, 0);
                    prop_assert_eq!(client_id, id);
                    prop_assert_eq!(u, user);
                    prop_assert_eq!(p, password);
                }
                other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
            }
        }
        let (r, sent) = first_poll(Quectel, async |m| m.publish(&topic, b"abc", Qos::AtLeastOnce, false).await);
        if unsendable(&topic) {
            let reason = if line_breaking(&topic) { Invalid::LineBreakOrNul } else { Invalid::Quote };
            prop_assert_eq!(r, Some(Err(Error::InvalidInput { field: Field::Topic, reason })));
            prop_assert!(sent.is_empty());
        } else {
            // A fresh modem's first QoS 1 message id is 1.
            let first = q::Publish { msgid: 1, qos: Qos::AtLeastOnce, retain: false, topic: topic.as_bytes(), payload: b"abc" };
            prop_assert!(r.is_none(), "{r:?}");
            prop_assert_eq!(sent, [&line(&first, b"\r")[..], b"\r"].concat());
            let publish = q::Publish { msgid: 7, qos: Qos::AtLeastOnce, retain: false, topic: topic.as_bytes(), payload: b"abc" };
            let l = line(&publish, b"\r");
            match qmt::parse(&l) {
                Ok(qmt::Command::Pub { ext, idx, msgid, qos, retain, topic: t, len }) => {
                    prop_assert_eq!((ext, idx, msgid, qos, retain, len), (true, 0, 7, 1, false, 3));
                    prop_assert_eq!(t, topic.clone());
                }
                other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
            }
            let sub = q::Subscribe { msgid: 9, filter: topic.as_bytes(), qos: Qos::ExactlyOnce };
            let l = line(&sub, b"\r");
            match qmt::parse(&l) {
                Ok(qmt::Command::Sub { idx, msgid, filters }) => {
                    prop_assert_eq!((idx, msgid), (0, 9));
                    prop_assert_eq!(filters, vec![(topic, 2)]);
                }
                other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// The broker host and the last will (topic and message), in both dialects: refused typed
    /// and named before a byte is written when the dialect cannot carry them (CR, LF, NUL; a
    /// `"` for Quectel), else read back exactly by the simulator's parsers (ESP-AT escapes
    /// `\\`, `"` and `,`; Quectel sends them raw).
    #[test]
    fn host_and_last_will(host in nasty(30), topic in topic(), message in nasty(30)) {
        let will = mqtt_modem::Will { topic: &topic, payload: message.as_bytes(), qos: Qos::AtLeastOnce, retain: true };
        let config = Config::new(&host, 1883, "id").will(will);
        let fields = [(Field::Host, host.as_str()), (Field::WillTopic, &topic), (Field::WillMessage, &message)];
        for quote in [false, true] {
            let (r, sent) = if quote {
                first_poll(Quectel, async |m| m.configure(&config).await)
            } else {
                first_poll(EspAt, async |m| m.configure(&config).await)
            };
            // Every field the dialect cannot carry, with its reason: the refusal names one.
            let bad: Vec<_> = fields.iter().filter_map(|&f| first_bad([f, f, f], quote)).collect();
            if !bad.is_empty() {
                match r {
                    Some(Err(Error::InvalidInput { field, reason })) => {
                        prop_assert!(bad.contains(&(field, reason)), "{field:?} {reason:?} not in {bad:?}");
                    }
                    other => prop_assert!(false, "{other:?}, expected one of {bad:?}"),
                }
                prop_assert!(sent.is_empty());
                continue;
            }
            prop_assert!(r.is_none(), "{r:?}");
            if quote {
                let l = line(&q::SetWill { will: Some(will) }, b"\r");
                match qmt::parse(&l) {
                    Ok(qmt::Command::CfgSet(0, qmt::Cfg::Will(Some(w)))) => {
                        prop_assert_eq!((w.qos, w.retain), (1, true));
                        prop_assert_eq!(w.topic, topic.clone());
                        prop_assert_eq!(w.msg, message.as_bytes().to_vec());
                    }
                    other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
                }
                let l = line(&q::Open { host: host.as_bytes(), port: 1883 }, b"\r");
                prop_assert_eq!(qmt::parse(&l), Ok(qmt::Command::Open { idx: 0, host: host.clone(), port: 1883 }));
            } else {
                let l = line(&e::SetConnConfig { keepalive_s: 60, keep_session: false, will: Some(will) }, b"\r\n");
                match esp::parse(&l) {
                    Ok(esp::Command::ConnCfg(c)) => {
                        prop_assert_eq!((c.lwt_qos, c.lwt_retain), (1, true));
                        prop_assert_eq!(c.lwt_topic, topic.clone());
                        prop_assert_eq!(c.lwt_msg, message.as_bytes().to_vec());
                    }
                    other => prop_assert!(false, "{:?} read as {:?}", l.escape_ascii().to_string(), other),
                }
                let l = line(&e::Connect { host: host.as_bytes(), port: 1883 }, b"\r\n");
                prop_assert_eq!(esp::parse(&l), Ok(esp::Command::Conn { host: host.clone(), port: 1883, reconnect: false }));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// ESP-AT's LONG* commands, which carry a client id, user name or password too long for
    /// `AT+MQTTUSERCFG`: the line announces exactly the field's length in bytes, which the
    /// simulator reads back for the right field; the bytes themselves follow the prompt raw.
    #[test]
    fn esp_at_long_fields(value in nasty(400), which in 0usize..3) {
        let (command, field) = [
            (e::LONG_CLIENT_ID, esp::LongField::ClientId),
            (e::LONG_USERNAME, esp::LongField::Username),
            (e::LONG_PASSWORD, esp::LongField::Password),
        ][which];
        let cmd = e::SetLongField { command, value: value.as_bytes() };
        let l = line(&cmd, b"\r\n");
        prop_assert_eq!(esp::parse(&l), Ok(esp::Command::Long(field, value.len())));
    }
}
