//! Every command form: the exact bytes written, and the exact replies of the manual parsed.

mod common;

use common::{ex, run};
use mqtt_modem::command::ModemCommand;
use mqtt_modem::dialect::uc8088::commands::{GetConfig, TestConfig};

use mqtt_modem::dialect::basic::{
    At, EchoOff, EchoOn, GetFunctionality, GetManufacturer, GetModel, GetRevision,
    SetErrorReporting, SetFunctionality,
};
use mqtt_modem::dialect::basic::{ErrorReporting, FunctionalityLevel};
use mqtt_modem::dialect::uc8088::commands::GetState;
use mqtt_modem::dialect::uc8088::commands::TestPublish;
use mqtt_modem::dialect::uc8088::commands::{GetSubscriptions, TestSubscribe};
use mqtt_modem::dialect::uc8088::commands::{GetTls, TestTls};
use mqtt_modem::{Config, ConnectionState, Identification, Qos, Quoting, Tls};

const OK: &[u8] = b"\r\nOK\r\n";

/// Sends one command and returns its answer, checking the one line it wrote.
fn one<C: ModemCommand>(cmd: C, line: &[u8], reply: &[u8]) -> C::Response
where
    C::Response: std::fmt::Debug,
{
    run(vec![ex(line, reply)], 64, async |m, _, _| {
        m.send(&cmd).await.unwrap()
    })
}

#[test]
fn bring_up_commands() {
    one(At, b"AT\r", OK);
    one(EchoOff, b"ATE0\r", OK);
    one(EchoOn, b"ATE1\r", OK);
    one(
        SetErrorReporting {
            mode: ErrorReporting::Numeric,
        },
        b"AT+CMEE=1\r",
        OK,
    );
    one(
        SetFunctionality {
            fun: FunctionalityLevel::Full,
        },
        b"AT+CFUN=1\r",
        OK,
    );
    // `+CFUN: 1` has a space after the colon, unlike the MQTT lines.
    let f = one(
        GetFunctionality,
        b"AT+CFUN?\r",
        b"\r\n+CFUN: 1\r\n\r\nOK\r\n",
    );
    assert_eq!(f.fun, 1);
    assert_eq!(
        one(GetManufacturer, b"AT+CGMI\r", b"\r\nucchip\r\n\r\nOK\r\n").as_str(),
        "ucchip"
    );
    assert_eq!(
        one(GetModel, b"AT+CGMM\r", b"\r\n8088\r\n\r\nOK\r\n").as_str(),
        "8088"
    );
    assert_eq!(
        one(GetRevision, b"AT+CGMR\r", b"\r\nV1.0.3\r\n\r\nOK\r\n").as_str(),
        "V1.0.3"
    );
}

/// `AT+CGMR` answered the ways modules answer it: several bare lines, `+CGMR:` lines with or
/// without a space, a mix, with echo on, and a URC among the lines; every line is kept, in
/// order, heads removed, and the URC still reaches the application.
#[test]
fn identification_spanning_several_lines() {
    let shapes: [(&[u8], &[&str]); 6] = [
        (
            b"\r\nRevision: UC8088R01A02\r\nHW: V1.2\r\nUCCHIP\r\n\r\nOK\r\n",
            &["Revision: UC8088R01A02", "HW: V1.2", "UCCHIP"],
        ),
        (
            b"\r\n+CGMR: UC8088R01A02\r\n+CGMR:HW V1.2\r\n\r\nOK\r\n",
            &["UC8088R01A02", "HW V1.2"],
        ),
        (
            b"\r\n+CGMR: UC8088R01A02\r\nbuilt 2024-01-02, 12:00\r\n\r\nOK\r\n",
            &["UC8088R01A02", "built 2024-01-02, 12:00"],
        ),
        // Echo on, no leading CRLF, a blank line between.
        (
            b"AT+CGMR\r\r\nSW 1.0\r\n\r\n\r\nHW 2\r\nOK\r\n",
            &["SW 1.0", "HW 2"],
        ),
        // An unsolicited state line between the information lines.
        (
            b"\r\nSW 1.0\r\n\r\n+MQTTSTATE:0\r\nHW 2\r\n\r\nOK\r\n",
            &["SW 1.0", "HW 2"],
        ),
        // Only OK: an empty identification, not an error.
        (b"\r\nOK\r\n", &[]),
    ];
    for (reply, lines) in shapes {
        for chunk in [1, 7, 64] {
            let has_urc = reply.windows(11).any(|w| w == b"+MQTTSTATE:");
            let (id, event) = run(vec![ex(b"AT+CGMR\r", reply)], chunk, async |m, ev, _| {
                let id = m.send(&GetRevision).await.unwrap();
                let mut buf = [0u8; 64];
                let event = if has_urc {
                    Some(format!("{:?}", common::next_event(ev, &mut buf).await))
                } else {
                    None
                };
                (id, event)
            });
            assert_eq!(id.lines().collect::<Vec<_>>(), lines, "{reply:?}/{chunk}");
            assert_eq!(id.as_str(), lines.join("\n"));
            assert_eq!(id.first_line(), lines.first().copied().unwrap_or(""));
            assert!(!id.truncated());
            if let Some(e) = event {
                assert_eq!(e, "StateChanged(Disconnected)", "{reply:?}");
            }
        }
    }
}

/// An identification longer than [`Identification::MAX_LEN`] is cut at a character boundary and flagged;
/// one larger than the response slot is refused typed; bytes that are not UTF-8 are replaced.
#[test]
fn identification_too_long_or_not_utf8() {
    let line = "é".repeat(40); // 80 bytes a line
    let reply = format!("\r\n{line}\r\n+CGMR: {line}\r\n{line}\r\n\r\nOK\r\n");
    let id = one(GetRevision, b"AT+CGMR\r", reply.as_bytes());
    assert!(id.truncated());
    assert!(
        id.as_str().len() <= Identification::MAX_LEN
            && id.as_str().len() >= Identification::MAX_LEN - 1
    );
    assert!(id.as_str().starts_with(&format!("{line}\n")));
    assert!(id.to_string().ends_with('…'));

    let id = one(GetRevision, b"AT+CGMR\r", b"\r\nV\xff1\r\n\r\nOK\r\n");
    assert_eq!(id.as_str(), "V\u{FFFD}1");

    let huge = format!(
        "\r\n{}\r\n{}\r\n\r\nOK\r\n",
        "a".repeat(200),
        "b".repeat(200)
    );
    let err = run(
        vec![ex(b"AT+CGMR\r", huge.as_bytes())],
        16,
        async |m, _, _| m.send(&GetRevision).await.unwrap_err(),
    );
    assert_eq!(err, mqtt_modem::Error::ResponseTooLarge);
    // The 256-byte response buffer holds the lines with a CR LF each: 200 + 52 bytes exactly
    // fill it, one byte more does not.
    for (second, fits) in [(52, true), (53, false)] {
        let reply = format!(
            "\r\n{}\r\n{}\r\n\r\nOK\r\n",
            "a".repeat(200),
            "b".repeat(second)
        );
        let got = run(
            vec![ex(b"AT+CGMR\r", reply.as_bytes())],
            64,
            async |m, _, _| m.send(&GetRevision).await.map(|id| id.as_str().len()),
        );
        // (The identification itself keeps its first 192 bytes.)
        let want = if fits {
            Ok(192)
        } else {
            Err(mqtt_modem::Error::ResponseTooLarge)
        };
        assert_eq!(got, want, "{second}");
    }
}

#[test]
fn init_sequence() {
    run(
        vec![
            // Echo still on for the first two: the digester skips the echoed line.
            ex(b"AT\r", b"AT\r\r\nOK\r\n"),
            ex(b"ATE0\r", b"ATE0\r\r\nOK\r\n"),
            ex(b"AT+CMEE=1\r", OK),
            ex(b"AT+CFUN=1\r", OK),
            // The dialect's state query: the module speaks the UC8088's commands.
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, _| m.init().await.unwrap(),
    );
}

#[test]
fn identify() {
    let id = run(
        vec![
            ex(b"AT+CGMI\r", b"\r\nucchip\r\n\r\nOK\r\n"),
            ex(b"AT+CGMM\r", b"\r\n8088\r\n\r\nOK\r\n"),
            ex(b"AT+CGMR\r", b"\r\nUC8088_V2\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, _| m.identify().await.unwrap(),
    );
    assert_eq!(
        (
            id.manufacturer.as_str(),
            id.model.as_str(),
            id.revision.as_str()
        ),
        ("ucchip", "8088", "UC8088_V2")
    );
    assert_eq!(id.revision.to_string(), "UC8088_V2");
}

/// The manual's OneNET example, sent the manual's way (unquoted).
const ONENET_PASSWORD: &str = "version=2018-10-31&res=products%2F431671%2Fdevices%2FMQTT002&et=1635216369&method=md5&sign=UJyDU%2FI3%2FVGCJFjUHhBAXw%3D%3D";

#[test]
fn config_unquoted_matches_manual_example() {
    let cfg = Config::new("183.230.40.16", 8883, "MQTT002")
        .keepalive(60)
        .credentials("431671", ONENET_PASSWORD)
        .quoting(Quoting::Unquoted);
    let line = format!("AT+MQTTCONFIG=183.230.40.16,8883,MQTT002,1,60,431671,{ONENET_PASSWORD}\r");
    run(vec![ex(line.as_bytes(), OK)], 64, async |m, _, _| {
        m.configure(&cfg).await.unwrap()
    });
}

#[test]
fn config_quoted_by_default_escapes() {
    let cfg = Config::new("broker.local", 1883, "dev\"1")
        .clean_session(false)
        .keepalive(30)
        .credentials("u,ser", "p\\w");
    run(
        vec![ex(
            b"AT+MQTTCONFIG=\"broker.local\",1883,\"dev\\\"1\",0,30,\"u,ser\",\"p\\\\w\"\r",
            OK,
        )],
        64,
        async |m, _, _| m.configure(&cfg).await.unwrap(),
    );
}

#[test]
fn config_query_reads_manual_example() {
    let reply = format!(
        "\r\n+MQTTCONFIG:183.230.40.16,8883,MQTT002,1,60,431671,{ONENET_PASSWORD}\r\n\r\nOK\r\n"
    );
    let c = one(GetConfig, b"AT+MQTTCONFIG?\r", reply.as_bytes());
    assert_eq!(c.host, "183.230.40.16");
    assert_eq!(c.port, 8883);
    assert_eq!(c.client_id, "MQTT002");
    assert!(c.clean_session);
    assert_eq!(c.keepalive_s, 60);
    assert_eq!(c.username, "431671");
    assert_eq!(c.password, ONENET_PASSWORD);
    assert!(
        !format!("{c:?}").contains("sign="),
        "Debug shows the password"
    );
}

#[test]
fn config_query_password_with_commas() {
    let c = one(
        GetConfig,
        b"AT+MQTTCONFIG?\r",
        b"\r\n+MQTTCONFIG:h,1,id,0,5,u,a,b,c\r\n\r\nOK\r\n",
    );
    assert_eq!(c.password, "a,b,c");
    assert!(!c.clean_session);
    // A quoted password is unescaped; one that only starts with a quote is taken whole.
    let quoted = one(
        GetConfig,
        b"AT+MQTTCONFIG?\r",
        b"\r\n+MQTTCONFIG:h,1,id,0,5,u,\"p\\\"w,d\"\r\n\r\nOK\r\n",
    );
    assert_eq!(quoted.password, "p\"w,d");
    let bare = one(
        GetConfig,
        b"AT+MQTTCONFIG?\r",
        b"\r\n+MQTTCONFIG:h,1,id,0,5,u,\"ab\",cd\r\n\r\nOK\r\n",
    );
    assert_eq!(bare.password, "\"ab\",cd");
    // Debug shows the fields as Config's does, the password redacted.
    let shown = format!("{bare:?}");
    assert!(
        shown.starts_with("StoredConfig {") && shown.contains("\"h\""),
        "{shown}"
    );
    assert!(!shown.contains("ab"), "{shown}");
}

#[test]
fn config_test_form() {
    let s = one(
        TestConfig,
        b"AT+MQTTCONFIG=?\r",
        b"\r\n+MQTTCONFIG:<url>,<port>,<clientid>,(0-1),<keepalive>,<username>,<password>\r\n\r\nOK\r\n",
    );
    assert_eq!(
        s.text,
        "<url>,<port>,<clientid>,(0-1),<keepalive>,<username>,<password>"
    );
}

#[test]
fn tls_upload_escapes_newlines_and_sizes_as_given() {
    let pem = b"-----BEGIN CERTIFICATE-----\nMIIB\"x\\y\n-----END CERTIFICATE-----\n";
    let mut line = b"AT+MQTTTLS=1,0,\"-----BEGIN CERTIFICATE-----\\nMIIB\\\"x\\\\y\\n-----END CERTIFICATE-----\\n\",".to_vec();
    line.extend_from_slice(format!("{}\r", pem.len()).as_bytes());
    run(vec![ex(&line, OK)], 64, async |m, _, _| {
        m.set_tls(Tls::root_ca(pem)).await.unwrap()
    });
}

/// A client certificate: the CA, the certificate and the key, one `AT+MQTTTLS` each; off is
/// `AT+MQTTTLS=0,0,"",0`. What the UC8088 lacks is refused by name before a byte is written.
#[test]
fn tls_client_cert_key_and_off() {
    run(
        vec![
            ex(b"AT+MQTTTLS=1,0,\"CA\\n\",3\r", OK),
            ex(b"AT+MQTTTLS=1,1,\"CERT\\n\",5\r", OK),
            ex(b"AT+MQTTTLS=1,2,\"KEY\\r\\n\",5\r", OK),
            ex(b"AT+MQTTTLS=0,0,\"\",0\r", OK),
        ],
        64,
        async |m, _, w| {
            for (tls, feature) in [
                (Tls::unverified(), mqtt_modem::Feature::UnverifiedTls),
                (
                    Tls::unverified().client_cert(b"CERT\n", b"KEY\r\n"),
                    mqtt_modem::Feature::UnverifiedTls,
                ),
                (
                    Tls::root_ca(b"CA\n").server_name("h"),
                    mqtt_modem::Feature::ServerName,
                ),
                (
                    Tls::root_ca(b"CA\n").alpn(&["mqtt"]),
                    mqtt_modem::Feature::Alpn,
                ),
            ] {
                assert_eq!(
                    m.set_tls(tls).await,
                    Err(mqtt_modem::Error::Unsupported(feature))
                );
            }
            assert!(w.sent().is_empty());
            m.set_tls(Tls::root_ca(b"CA\n").client_cert(b"CERT\n", b"KEY\r\n"))
                .await
                .unwrap();
            m.set_tls(Tls::off()).await.unwrap();
        },
    );
}

#[test]
fn tls_stripped_newlines_option() {
    let opts = mqtt_modem::Options {
        cert_encoding: mqtt_modem::CertEncoding::StrippedNewlines,
        ..Default::default()
    };
    common::run_with(
        vec![ex(b"AT+MQTTTLS=1,0,\"ABCD\",4\r", OK)],
        64,
        opts,
        async |m, _, _| m.set_tls(Tls::root_ca(b"AB\r\nCD\n")).await.unwrap(),
    );
}

/// A command line's small pieces are batched: a line under 64 bytes is one write.
#[test]
fn small_pieces_are_batched_into_one_write() {
    let writes = run(
        vec![ex(
            b"AT+MQTTCONFIG=\"h\",1883,\"id\",1,60,\"\",\"\"\r",
            b"\r\nOK\r\n",
        )],
        64,
        async |m, _, w| {
            m.configure(&mqtt_modem::Config::new("h", 1883, "id"))
                .await
                .unwrap();
            w.writes()
        },
    );
    assert_eq!(writes, [39]);
}

#[test]
fn the_client_reads_whether_tls_is_on() {
    let got = common::run(
        vec![
            ex(b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:1\r\n\r\nOK\r\n"),
            ex(b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:0\r\n\r\nOK\r\n"),
        ],
        7,
        async |m, _, _| (m.tls().await, m.tls().await),
    );
    assert_eq!(got, (Ok(true), Ok(false)));
}

#[test]
fn tls_query_and_test_forms() {
    assert!(one(GetTls, b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:1\r\n\r\nOK\r\n").enabled());
    assert!(!one(GetTls, b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:0\r\n\r\nOK\r\n").enabled());
    // The manual's table claims more fields than its example shows: they are ignored.
    assert!(
        one(
            GetTls,
            b"AT+MQTTTLS?\r",
            b"\r\n+MQTTTLS:1,0,\"ca\",1181\r\n\r\nOK\r\n"
        )
        .enabled()
    );
    let s = one(
        TestTls,
        b"AT+MQTTTLS=?\r",
        b"\r\n+MQTTTLS:(0-1),<type>,<cert file content>,<cert file size>\r\n\r\nOK\r\n",
    );
    assert_eq!(s.text, "(0-1),<type>,<cert file content>,<cert file size>");
}

#[test]
fn tls_certificate_1536_bytes_streams() {
    let pem = vec![b'A'; 1536];
    let mut line = b"AT+MQTTTLS=1,0,\"".to_vec();
    line.extend_from_slice(&pem);
    line.extend_from_slice(b"\",1536\r");
    run(vec![ex(&line, OK)], 64, async |m, _, _| {
        m.set_tls(Tls::root_ca(&pem)).await.unwrap()
    });
}

#[test]
fn connect_manual_example() {
    run(
        vec![ex(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:0\r\n\r\nOK\r\n")],
        64,
        async |m, _, _| m.connect().await.unwrap(),
    );
}

#[test]
fn state_manual_example() {
    let s = run(
        vec![
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:1\r\n\r\nOK\r\n"),
            ex(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n"),
        ],
        64,
        async |m, _, _| (m.state().await.unwrap(), m.state().await.unwrap()),
    );
    assert_eq!(
        s,
        (ConnectionState::Connected, ConnectionState::Disconnected)
    );
}

#[test]
fn disconnect() {
    run(vec![ex(b"AT+MQTTDISCONNECT\r", OK)], 64, async |m, _, _| {
        m.disconnect().await.unwrap()
    });
}

#[test]
fn publish_manual_example() {
    let json = br#"{"id":123,"dp":{"temperatrue":[{"v":35,}],"power":[{"v":61,}]}}"#;
    run(
        vec![ex(
            br#"AT+MQTTPUB="$sys/431671/MQTT002/dp/post/json",1,0,"{\"id\":123,\"dp\":{\"temperatrue\":[{\"v\":35,}],\"power\":[{\"v\":61,}]}}""#
                .iter()
                .copied()
                .chain(*b"\r")
                .collect::<Vec<_>>()
                .as_slice(),
            OK,
        )],
        64,
        async |m, _, _| {
            m.publish("$sys/431671/MQTT002/dp/post/json", json, Qos::AtLeastOnce, false)
                .await
                .unwrap()
        },
    );
}

#[test]
fn publish_qos_retain_and_1k_payload() {
    let payload = vec![b'x'; 1024];
    let mut big = b"AT+MQTTPUB=\"t/big\",2,1,\"".to_vec();
    big.extend_from_slice(&payload);
    big.extend_from_slice(b"\"\r");
    run(
        vec![ex(b"AT+MQTTPUB=\"t\",0,1,\"\"\r", OK), ex(&big, OK)],
        7,
        async |m, _, _| {
            m.publish("t", b"", Qos::AtMostOnce, true).await.unwrap();
            m.publish("t/big", &payload, Qos::ExactlyOnce, true)
                .await
                .unwrap();
        },
    );
}

#[test]
fn publish_test_form_with_semicolon() {
    let s = one(
        TestPublish,
        b"AT+MQTTPUB=?\r",
        b"\r\n+MQTTPUB:<topic>,(0-2),(0-1);<message>\r\n\r\nOK\r\n",
    );
    assert_eq!(s.text, "<topic>,(0-2),(0-1);<message>");
}

#[test]
fn subscribe_manual_example_and_unsubscribe() {
    run(
        vec![
            ex(b"AT+MQTTSUB=\"topic1\",1\r", OK),
            ex(b"AT+MQTTSUB=\"a/+/c/#\",0\r", OK),
            ex(b"AT+MQTTUNSUB=\"topic1\"\r", OK),
        ],
        64,
        async |m, _, _| {
            m.subscribe("topic1", Qos::AtLeastOnce).await.unwrap();
            m.subscribe("a/+/c/#", Qos::AtMostOnce).await.unwrap();
            m.unsubscribe("topic1").await.unwrap();
        },
    );
}

#[test]
fn subscription_query_lists_every_line() {
    let subs = one(
        GetSubscriptions::<4, 32>,
        b"AT+MQTTSUB?\r",
        b"\r\n+MQTTSUB:\"topic1\",1\r\n+MQTTSUB:bare/#,0\r\n\r\nOK\r\n",
    );
    assert_eq!(subs.len(), 2);
    assert_eq!(
        (subs[0].filter.as_str(), subs[0].qos),
        ("topic1", Qos::AtLeastOnce)
    );
    assert_eq!(
        (subs[1].filter.as_str(), subs[1].qos),
        ("bare/#", Qos::AtMostOnce)
    );
    let none = one(GetSubscriptions::<4, 32>, b"AT+MQTTSUB?\r", OK);
    assert!(none.is_empty());
}

#[test]
fn subscribe_test_form() {
    let s = one(
        TestSubscribe,
        b"AT+MQTTSUB=?\r",
        b"\r\n+MQTTSUB:<topic>,(0-2)\r\n\r\nOK\r\n",
    );
    assert_eq!(s.text, "<topic>,(0-2)");
}

#[test]
fn query_state_via_send() {
    let s = one(GetState, b"AT+MQTTSTATE\r", b"+MQTTSTATE:1\r\nOK\r\n");
    assert_eq!(s.state, ConnectionState::Connected);
}
