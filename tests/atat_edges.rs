//! atat's sharp edges, each met deliberately. (Two more live elsewhere: the digester's lost
//! URCs and cut payloads in `digester.rs`, and the stalling URC channel in `failures.rs`.)

use atat::AtatCmd;
use atat::atat_derive::AtatCmd as DeriveCmd;
use mqtt_modem::Qos;
use mqtt_modem::command::{ModemCommand, NoResponse};
use mqtt_modem::dialect::basic::{
    At, EchoOff, EchoOn, GetFunctionality, GetManufacturer, GetModel, GetRevision,
    SetErrorReporting, SetFunctionality,
};
use mqtt_modem::dialect::basic::{ErrorReporting, FunctionalityLevel};
use mqtt_modem::dialect::uc8088::commands::{Connect, Disconnect, GetState};
use mqtt_modem::dialect::uc8088::commands::{GetConfig, TestConfig};
use mqtt_modem::dialect::uc8088::commands::{
    GetSubscriptions, Subscribe, TestSubscribe, Unsubscribe,
};
use mqtt_modem::dialect::uc8088::commands::{GetTls, SetTls, TestTls};
use mqtt_modem::dialect::uc8088::commands::{Publish, TestPublish};

/// What a derived command with a string would write: atat's escaping, for contrast.
#[derive(Clone, DeriveCmd)]
#[at_cmd("+MQTTPUB", NoResponse, parse = ignore)]
struct DerivedPublish {
    topic: heapless::String<16>,
}

#[allow(clippy::unnecessary_wraps)]
fn ignore(_: &[u8]) -> Result<NoResponse, atat::Error> {
    Ok(NoResponse)
}

#[test]
fn atat_escapes_quote_as_backslash_22_so_strings_are_hand_encoded() {
    let derived = DerivedPublish {
        topic: "a\"b".try_into().unwrap(),
    };
    let mut buf = [0u8; 64];
    let n = derived.write(&mut buf);
    assert_eq!(&buf[..n], b"AT+MQTTPUB=\"a\\22b\"\r");

    let ours = Publish::new("a\"b", b"{\"k\":1}", Qos::AtMostOnce, false).unwrap();
    let n = ours.write(&mut buf);
    assert_eq!(&buf[..n], b"AT+MQTTPUB=\"a\\\"b\",0,0,\"{\\\"k\\\":1}\"\r");
}

/// atat ignores a misspelt `#[at_cmd]` key without a word; a wrong `timeout_ms` would show up
/// here as the default 1000.
#[test]
fn every_at_cmd_key_took_effect() {
    assert_eq!(At::MAX_TIMEOUT_MS, 300);
    assert_eq!(SetFunctionality::MAX_TIMEOUT_MS, 10_000);
    assert_eq!(Connect::MAX_TIMEOUT_MS, 7_000);
    assert_eq!(Disconnect::MAX_TIMEOUT_MS, 3_000);
    assert_eq!(Publish::MAX_TIMEOUT_MS, 10_000);
    assert_eq!(Subscribe::MAX_TIMEOUT_MS, 7_000);
    assert_eq!(SetTls::MAX_TIMEOUT_MS, 5_000);
    // `parse = …` took effect too: this bare-text answer would not deserialize as a struct.
    assert!(matches!(
        Disconnect.parse(Ok(b"+MQTTDISCONNECT:0")),
        Ok(mqtt_modem::command::NoResponse)
    ));
}

fn written<C: AtatCmd>(cmd: &C, room: usize) -> Vec<u8> {
    let mut buf = vec![0u8; room];
    let n = cmd.write(&mut buf);
    buf.truncate(n);
    buf
}

/// A derived `write` panics on a short buffer. The driver writes derived commands through a
/// 64-byte stack buffer: every one of them fits.
#[test]
fn every_derived_command_fits_the_64_byte_buffer() {
    let lines = [
        written(&At, 64),
        written(&EchoOff, 64),
        written(&EchoOn, 64),
        written(
            &SetErrorReporting {
                mode: ErrorReporting::Verbose,
            },
            64,
        ),
        written(
            &SetFunctionality {
                fun: FunctionalityLevel::RadioOff,
            },
            64,
        ),
        written(&GetFunctionality, 64),
        written(&GetManufacturer, 64),
        written(&GetModel, 64),
        written(&GetRevision, 64),
        written(&GetTls, 64),
        written(&TestTls, 64),
        written(&GetConfig, 64),
        written(&TestConfig, 64),
        written(&Connect, 64),
        written(&GetState, 64),
        written(&Disconnect, 64),
        written(&TestPublish, 64),
        written(&GetSubscriptions::<1, 1>, 64),
        written(&TestSubscribe, 64),
    ];
    for l in &lines {
        assert!(l.len() < 32 && l.ends_with(b"\r"), "{l:?}");
    }
    assert_eq!(lines[4], b"AT+CFUN=4\r");
}

/// The hand-encoded commands never panic on a short buffer: they write nothing (the driver
/// itself streams them and never uses this path).
#[test]
fn hand_encoded_write_never_panics_on_short_buffers() {
    let p = Publish::new("topic", &[b'x'; 100], Qos::AtMostOnce, false).unwrap();
    let s = Subscribe::new("topic", Qos::AtMostOnce).unwrap();
    let u = Unsubscribe::new("topic").unwrap();
    for room in 0..p.encoded_len() {
        assert_eq!(written(&p, room).len(), 0);
    }
    for room in 0..8 {
        assert_eq!(written(&s, room).len(), 0);
        assert_eq!(written(&u, room).len(), 0);
        assert_eq!(written(&GetSubscriptions::<1, 1>, room).len(), 0);
    }
    assert_eq!(written(&p, p.encoded_len()).len(), p.encoded_len());
}

/// The driver writes fixed commands from constants (no serializer per command in flash); each
/// constant is exactly what atat's derive writes.
#[test]
fn driver_lines_equal_the_derived_lines() {
    fn same<C: ModemCommand>(cmd: &C) -> Vec<u8> {
        let derived = written(cmd, 64);
        let mut buf = [0u8; 64];
        let n = cmd.wire().write_into(&mut buf).unwrap();
        assert_eq!(
            &buf[..n],
            &derived[..],
            "{}",
            String::from_utf8_lossy(&derived)
        );
        assert_eq!(cmd.wire().len(), n);
        derived
    }
    same(&At);
    same(&EchoOff);
    same(&EchoOn);
    for mode in [
        ErrorReporting::Disabled,
        ErrorReporting::Numeric,
        ErrorReporting::Verbose,
    ] {
        same(&SetErrorReporting { mode });
    }
    for fun in [
        FunctionalityLevel::Minimum,
        FunctionalityLevel::Full,
        FunctionalityLevel::RadioOff,
    ] {
        same(&SetFunctionality { fun });
    }
    same(&GetFunctionality);
    same(&GetManufacturer);
    same(&GetModel);
    same(&GetRevision);
    same(&GetTls);
    same(&TestTls);
    same(&GetConfig);
    same(&TestConfig);
    same(&Connect);
    same(&GetState);
    same(&Disconnect);
    same(&TestPublish);
    same(&GetSubscriptions::<1, 1>);
    same(&TestSubscribe);
    let p = Publish::new("t", b"x", Qos::AtMostOnce, false).unwrap();
    same(&p);
}
