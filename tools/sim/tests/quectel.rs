//! `--dialect quectel`: transcripts without a broker, then against rumqttd and fake brokers.

mod common;

use std::time::{Duration, Instant};

use common::{
    AWKWARD, Host, assert_latency_delays, assert_message_waits_for_data, assert_noise_corrupts,
    assert_prompted_data_paced, assert_silence_swallows, capture_broker, expect_message,
    fake_broker, free_port, next_connect, outside_subscriber, proxy, publish_from, sim_dialect,
    sim_open, start_rumqttd,
};
use modem_sim::{Dialect, SimHandle, SimOptions};
use rumqttc::QoS;

async fn quiet() -> (SimHandle, Host) {
    sim_dialect(Dialect::Quectel, SimOptions::default()).await
}

/// The driver's configuration: version, keepalive, session, payload length in the URC.
async fn configure(host: &mut Host) {
    for line in [
        &b"AT+QMTCFG=\"version\",0,4\r"[..],
        b"AT+QMTCFG=\"keepalive\",0,60\r",
        b"AT+QMTCFG=\"session\",0,1\r",
        b"AT+QMTCFG=\"recv/mode\",0,0,1\r",
    ] {
        host.transact(line, b"\r\nOK\r\n").await;
    }
}

/// `AT+QMTOPEN` to `127.0.0.1:port`, answered OK and `+QMTOPEN: 0,<result>`.
async fn open(host: &mut Host, port: u16, result: i8) {
    let open = format!("AT+QMTOPEN=0,\"127.0.0.1\",{port}\r");
    let urc = format!("\r\nOK\r\n\r\n+QMTOPEN: 0,{result}\r\n");
    host.transact(open.as_bytes(), urc.as_bytes()).await;
}

/// `AT+QMTCLOSE`, answered OK and `+QMTCLOSE: 0,<result>`.
async fn close(host: &mut Host, result: i8) {
    let urc = format!("\r\nOK\r\n\r\n+QMTCLOSE: 0,{result}\r\n");
    host.transact(b"AT+QMTCLOSE=0\r", urc.as_bytes()).await;
}

/// Open the network to `port` and connect as `id`: the exact bytes of the happy path.
async fn connect(host: &mut Host, port: u16, id: &str) {
    open(host, port, 0).await;
    let conn = format!("AT+QMTCONN=0,\"{id}\"\r");
    host.transact(conn.as_bytes(), b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n")
        .await;
    host.transact(b"AT+QMTCONN?\r", b"\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bring_up_identification_and_errors() {
    let (_sim, mut host) = sim_open(SimOptions {
        dialect: Dialect::Quectel,
        ..SimOptions::default()
    })
    .await;
    host.transact(b"AT\r", b"AT\r\r\nOK\r\n").await;
    host.transact(b"ATE0\r\n", b"ATE0\r\r\nOK\r\n").await; // LF after CR is ignored
    host.transact(b"AT+CMEE=1\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+CMEE?\r", b"\r\n+CMEE: 1\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+CFUN=1\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+CFUN?\r", b"\r\n+CFUN: 1\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+CGMI\r", b"\r\nQuectel\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+CGMM\r", b"\r\nBG96\r\n\r\nOK\r\n").await;
    host.transact(b"AT+CGMR\r", b"\r\nBG96MAR02A07M1G\r\n\r\nOK\r\n")
        .await;
    host.transact(
        b"ATI\r",
        b"\r\nQuectel\r\nBG96\r\nRevision: BG96MAR02A07M1G\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+QMTPUBEX=?\r",
        b"\r\n+QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),\"topic\",\"length\"\r\n\r\nOK\r\n",
    )
    .await;
    // An unknown command is a plain ERROR whatever CMEE says; bad parameters are CME 50,
    // another client index CME 3.
    host.transact(b"AT+NOPE\r", b"\r\nERROR\r\n").await;
    host.transact(
        b"AT+QMTCFG=\"keepalive\",0,3601\r",
        b"\r\n+CME ERROR: 50\r\n",
    )
    .await;
    host.transact(b"AT+QMTCFG=\"keepalive\",1,60\r", b"\r\n+CME ERROR: 3\r\n")
        .await;
    host.transact(b"AT+CMEE=2\r", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+QMTOPEN=0,\"h\",70000\r",
        b"\r\n+CME ERROR: Incorrect parameters\r\n",
    )
    .await;
    host.transact(b"AT+CMEE=0\r", b"\r\nOK\r\n").await;
    for bad in [
        &b"AT+QMTCFG=\"nope\",0,1\r"[..],
        b"AT+QMTCFG=\"version\",0,5\r",
        b"AT+QMTCFG=\"session\",0,2\r",
        b"AT+QMTCFG=\"recv/mode\",0,1,1\r", // buffered mode is not simulated
        b"AT+QMTCFG=\"will\",0,1,0,0,\"t\"\r",
        b"AT+QMTCFG=keepalive,0,60\r",
        b"AT+QMTOPEN=6,\"h\",1883\r",
        b"AT+QMTOPEN=0,\"\",1883\r",
        b"AT+QMTOPEN=0,h,1883\r",
        b"AT+QMTCONN=0,\"\"\r",
        b"AT+QMTCONN=0,\"a\"b\"\r", // no escapes: the quote ends the string
        b"AT+QMTSUB=0,0,\"t\",1\r",
        b"AT+QMTSUB=0,1,\"t\",3\r",
        b"AT+QMTSUB=0,1,\"t\"\r",
        b"AT+QMTSUB=0,1,\"a/#/b\",0\r",
        b"AT+QMTUNS=0,1\r",
        b"AT+QMTPUBEX=0,1,0,0,\"t\",5\r", // QoS 0 needs msgid 0
        b"AT+QMTPUBEX=0,0,1,0,\"t\",5\r", // and QoS 1 a non-zero one
        b"AT+QMTPUBEX=0,1,1,0,\"t/#\",5\r",
        b"AT+QMTPUBEX=0,1,1,0,\"t\",4097\r",
        b"AT+QMTPUB=0,1,1,0,\"t\"\r", // the Ctrl-Z form is not simulated
        b"AT+CFUN=2\r",
    ] {
        host.transact(bad, b"\r\nERROR\r\n").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_is_answered_and_queried() {
    let (_sim, mut host) = quiet().await;
    let queries: [(&[u8], &[u8]); 8] = [
        (b"version", b"\"version\",4"),
        (b"pdpcid", b"\"pdpcid\",1"),
        (b"ssl", b"\"ssl\",0,0"),
        (b"keepalive", b"\"keepalive\",120"),
        (b"session", b"\"session\",1"),
        (b"timeout", b"\"timeout\",5,3,0"),
        (b"will", b"\"will\",0"),
        (b"recv/mode", b"\"recv/mode\",0,0"),
    ];
    for (key, value) in queries {
        let mut line = b"AT+QMTCFG=\"".to_vec();
        line.extend_from_slice(key);
        line.extend_from_slice(b"\",0\r");
        let mut want = b"\r\n+QMTCFG: ".to_vec();
        want.extend_from_slice(value);
        want.extend_from_slice(b"\r\n\r\nOK\r\n");
        host.transact(&line, &want).await;
    }
    configure(&mut host).await;
    for line in [
        &b"AT+QMTCFG=\"pdpcid\",0,1\r"[..],
        b"AT+QMTCFG=\"ssl\",0,0\r",
        b"AT+QMTCFG=\"timeout\",0,10,2,1\r",
        b"AT+QMTCFG=\"will\",0,1,1,0,\"w/t\",\"bye, now\"\r",
    ] {
        host.transact(line, b"\r\nOK\r\n").await;
    }
    host.transact(
        b"AT+QMTCFG=\"keepalive\",0\r",
        b"\r\n+QMTCFG: \"keepalive\",60\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+QMTCFG=\"recv/mode\",0\r",
        b"\r\n+QMTCFG: \"recv/mode\",0,1\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+QMTCFG=\"timeout\",0\r",
        b"\r\n+QMTCFG: \"timeout\",10,2,1\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+QMTCFG=\"will\",0\r",
        b"\r\n+QMTCFG: \"will\",1,1,0,\"w/t\",\"bye, now\"\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+QMTCFG=\"will\",0,0\r", b"\r\nOK\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_connection_results_come_in_the_urcs() {
    let (_sim, mut host) = quiet().await;
    host.transact(b"AT+QMTOPEN?\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+QMTCONN?\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+QMTCONN=0,\"id\"\r", b"\r\nOK\r\n\r\n+QMTCONN: 0,2\r\n")
        .await;
    host.transact(
        b"AT+QMTSUB=0,1,\"t\",1\r",
        b"\r\nOK\r\n\r\n+QMTSUB: 0,1,2\r\n",
    )
    .await;
    host.transact(
        b"AT+QMTUNS=0,2,\"t\"\r",
        b"\r\nOK\r\n\r\n+QMTUNS: 0,2,2\r\n",
    )
    .await;
    // The prompt comes first (no OK before it), then the data, then OK and the result.
    host.transact(b"AT+QMTPUBEX=0,3,1,0,\"t\",5\r", b"\r\n> ")
        .await;
    host.transact(b"\r\n\0\",", b"\r\nOK\r\n\r\n+QMTPUBEX: 0,3,2\r\n")
        .await;
    host.transact(b"AT+QMTDISC=0\r", b"\r\nOK\r\n\r\n+QMTDISC: 0,-1\r\n")
        .await;
    close(&mut host, -1).await;
    // Opening: a closed port, a name that does not resolve, the radio off.
    open(&mut host, free_port(), -1).await;
    host.transact(
        b"AT+QMTOPEN=0,\"no-such-host.invalid\",1883\r",
        b"\r\nOK\r\n\r\n+QMTOPEN: 0,4\r\n",
    )
    .await;
    host.transact(b"AT+CFUN=0\r", b"\r\nOK\r\n").await;
    open(&mut host, 1883, 3).await;
    assert!(host.drain_for(Duration::from_millis(200)).await.is_empty());
    // And nothing late either: the next answer is the first thing to come.
    host.transact(b"AT\r", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_subscribe_and_receive_byte_exact() {
    let port = start_rumqttd();
    let (outside, mut inbox) = outside_subscriber(port, "qt-outside", "up/#").await;
    let (_sim, mut host) = quiet().await;
    configure(&mut host).await;
    connect(&mut host, port, "qt-sim").await;
    host.transact(
        b"AT+QMTOPEN?\r",
        format!("\r\n+QMTOPEN: 0,\"127.0.0.1\",{port}\r\n\r\nOK\r\n").as_bytes(),
    )
    .await;
    // Open again while open: the index is occupied.
    open(&mut host, port, 2).await;

    // Publish through the prompt: every byte after it is data.
    for (qos, msgid) in [(0, 0), (1, 1), (2, 2)] {
        let line = format!(
            "AT+QMTPUBEX=0,{msgid},{qos},0,\"up/{qos}\",{}\r",
            AWKWARD.len()
        );
        host.transact(line.as_bytes(), b"\r\n> ").await;
        let done = format!("\r\nOK\r\n\r\n+QMTPUBEX: 0,{msgid},0\r\n");
        host.transact(AWKWARD, done.as_bytes()).await;
        expect_message(&mut inbox, &format!("up/{qos}"), AWKWARD).await;
    }
    // 4 KiB, sent in pieces, retained.
    let big: Vec<u8> = (0..4096u32).map(|i| (i * 13 % 256) as u8).collect();
    host.transact(b"AT+QMTPUBEX=0,9,1,1,\"up/big\",4096\r", b"\r\n> ")
        .await;
    for chunk in big.chunks(1500) {
        host.send(chunk).await;
    }
    host.expect(b"\r\nOK\r\n\r\n+QMTPUBEX: 0,9,0\r\n").await;
    expect_message(&mut inbox, "up/big", &big).await;
    // The fixed-length AT+QMTPUB answers +QMTPUB.
    host.transact(b"AT+QMTPUB=0,10,1,0,\"up/p\",2\r", b"\r\n> ")
        .await;
    host.transact(b"hi", b"\r\nOK\r\n\r\n+QMTPUB: 0,10,0\r\n")
        .await;
    expect_message(&mut inbox, "up/p", b"hi").await;

    // Subscriptions: granted QoS per filter.
    host.transact(
        b"AT+QMTSUB=0,1,\"down\",0,\"other/+\",0,\"q1\",1\r",
        b"\r\nOK\r\n\r\n+QMTSUB: 0,1,0,0,0,1\r\n",
    )
    .await;
    publish_from(&outside, "down", QoS::AtMostOnce, AWKWARD).await;
    let head = format!("\r\n+QMTRECV: 0,0,\"down\",{},\"", AWKWARD.len());
    host.expect(&[head.as_bytes(), AWKWARD, b"\"\r\n"].concat())
        .await;
    // Without msg_len_enable the length is absent.
    host.transact(b"AT+QMTCFG=\"recv/mode\",0,0,0\r", b"\r\nOK\r\n")
        .await;
    publish_from(&outside, "other/x", QoS::AtMostOnce, b"a,b").await;
    host.expect(b"\r\n+QMTRECV: 0,0,\"other/x\",\"a,b\"\r\n")
        .await;
    host.transact(b"AT+QMTCFG=\"recv/mode\",0,0,1\r", b"\r\nOK\r\n")
        .await;
    // A message that arrives while the prompt collects data waits for the result URC.
    let prompt = (&b"AT+QMTPUBEX=0,11,1,0,\"up/x\",3\r"[..], &b"\r\n> "[..]);
    let reply = b"\r\nOK\r\n\r\n+QMTPUBEX: 0,11,0\r\n\r\n+QMTRECV: 0,0,\"down\",3,\"mid\"\r\n";
    assert_message_waits_for_data(&mut host, &outside, prompt, reply).await;
    // A QoS 1 message carries its packet id.
    publish_from(&outside, "q1", QoS::AtLeastOnce, b"q1").await;
    let got = host.drain_for(Duration::from_millis(500)).await;
    assert!(
        got.starts_with(b"\r\n+QMTRECV: 0,"),
        "{}",
        got.escape_ascii()
    );
    assert!(
        got.ends_with(b",\"q1\",2,\"q1\"\r\n"),
        "{}",
        got.escape_ascii()
    );
    assert!(
        !got.starts_with(b"\r\n+QMTRECV: 0,0,"),
        "QoS 1 has a packet id"
    );

    host.transact(
        b"AT+QMTUNS=0,2,\"down\",\"other/+\",\"q1\"\r",
        b"\r\nOK\r\n\r\n+QMTUNS: 0,2,0\r\n",
    )
    .await;
    host.transact(b"AT+QMTDISC=0\r", b"\r\nOK\r\n\r\n+QMTDISC: 0,0\r\n")
        .await;
    host.transact(b"AT+QMTCONN?\r", b"\r\nOK\r\n").await;
    assert!(host.drain_for(Duration::from_millis(200)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_going_away_is_reported() {
    let port = start_rumqttd();
    let front = proxy(port).await;
    let (sim, mut host) = quiet().await;
    configure(&mut host).await;
    connect(&mut host, front.port, "qt-loss").await;
    front.cut();
    host.expect(b"\r\n+QMTSTAT: 0,1\r\n").await;
    assert!(!sim.is_broker_connected());
    // The client is closed: no client, and the publish result says so.
    host.transact(b"AT+QMTCONN?\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+QMTPUBEX=0,1,1,0,\"t\",1\r", b"\r\n> ")
        .await;
    host.transact(b"x", b"\r\nOK\r\n\r\n+QMTPUBEX: 0,1,2\r\n")
        .await;
    // Open and connect again (to the broker itself).
    connect(&mut host, port, "qt-loss").await;
    sim.drop_broker_connection();
    host.expect(b"\r\n+QMTSTAT: 0,1\r\n").await;
    // QMTCLOSE after a fresh open closes without a loss report.
    open(&mut host, port, 0).await;
    close(&mut host, 0).await;
    assert!(host.drain_for(Duration::from_millis(200)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_timeouts_and_connect_packet() {
    let (_sim, mut host) = sim_dialect(
        Dialect::Quectel,
        SimOptions {
            ack_timeout: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(1),
            ..SimOptions::default()
        },
    )
    .await;
    // CONNACK 5 (not authorised): result 0, ret_code 5.
    open(&mut host, fake_broker(Some(5)).await, 0).await;
    host.transact(
        b"AT+QMTCONN=0,\"x\"\r",
        b"\r\nOK\r\n\r\n+QMTCONN: 0,0,5\r\n",
    )
    .await;
    close(&mut host, 0).await;
    // No CONNACK at all: result 2 within the budget.
    open(&mut host, fake_broker(None).await, 0).await;
    let t0 = Instant::now();
    host.transact(b"AT+QMTCONN=0,\"x\"\r", b"\r\nOK\r\n\r\n+QMTCONN: 0,2\r\n")
        .await;
    assert!(t0.elapsed() < Duration::from_secs(3));
    close(&mut host, 0).await;
    // Refused SUBACK (128) and a missing PUBACK (result 2).
    open(&mut host, fake_broker(Some(0)).await, 0).await;
    host.transact(
        b"AT+QMTCONN=0,\"x\"\r",
        b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
    )
    .await;
    host.transact(
        b"AT+QMTSUB=0,4,\"t\",1\r",
        b"\r\nOK\r\n\r\n+QMTSUB: 0,4,0,128\r\n",
    )
    .await;
    host.transact(b"AT+QMTPUBEX=0,5,1,0,\"t\",1\r", b"\r\n> ")
        .await;
    host.transact(b"x", b"\r\nOK\r\n\r\n+QMTPUBEX: 0,5,2\r\n")
        .await;
    host.transact(b"AT+QMTPUBEX=0,0,0,0,\"t\",1\r", b"\r\n> ")
        .await;
    host.transact(b"x", b"\r\nOK\r\n\r\n+QMTPUBEX: 0,0,0\r\n")
        .await;
    host.transact(b"AT+QMTDISC=0\r", b"\r\nOK\r\n\r\n+QMTDISC: 0,0\r\n")
        .await;
    // The settings reach the CONNECT packet.
    let (port, mut connects) = capture_broker().await;
    for line in [
        &b"AT+QMTCFG=\"keepalive\",0,300\r"[..],
        b"AT+QMTCFG=\"session\",0,0\r",
        b"AT+QMTCFG=\"will\",0,1,2,1,\"w/t\",\"bye, now\"\r",
    ] {
        host.transact(line, b"\r\nOK\r\n").await;
    }
    open(&mut host, port, 0).await;
    host.transact(
        b"AT+QMTCONN=0,\"qt-id\",\"user,1\",\"pass\"\r",
        b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
    )
    .await;
    let c = next_connect(&mut connects).await;
    assert_eq!(c.client_id, b"qt-id");
    assert_eq!(c.user.as_deref(), Some(&b"user,1"[..]));
    assert_eq!(c.password.as_deref(), Some(&b"pass"[..]));
    assert_eq!((c.clean, c.keepalive), (false, 300));
    assert_eq!(
        c.will,
        Some((b"w/t".to_vec(), b"bye, now".to_vec(), 2, true))
    );
    // Already connected: success again, without reconnecting.
    host.transact(
        b"AT+QMTCONN=0,\"qt-id\"\r",
        b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knobs_work_in_this_dialect() {
    let (sim, mut host) = quiet().await;
    host.transact(b"AT+QMTCFG=\"keepalive\",0,60\r", b"\r\nOK\r\n")
        .await;
    sim.reboot();
    host.expect(Dialect::Quectel.boot_banner()).await;
    host.transact(
        b"AT+QMTCFG=\"keepalive\",0\r",
        b"AT+QMTCFG=\"keepalive\",0\r\r\n+QMTCFG: \"keepalive\",120\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"ATE0\r", b"ATE0\r\r\nOK\r\n").await;
    // A reboot abandons a prompted publish.
    host.transact(b"AT+QMTPUBEX=0,1,1,0,\"t\",100\r", b"\r\n> ")
        .await;
    sim.reboot();
    host.expect(b"\r\nRDY\r\n").await;
    host.transact(b"AT\r", b"AT\r\r\nOK\r\n").await;
    host.transact(b"ATE0\r", b"ATE0\r\r\nOK\r\n").await;
    // Injection, silence, emitted messages (by the current recv/mode), latency.
    sim.inject_in_next_response(2, b"+QMTSTAT: 0,1\r\n".to_vec());
    host.transact(b"AT\r", b"\r\n+QMTSTAT: 0,1\r\nOK\r\n").await;
    assert_silence_swallows(&sim, &mut host, b"AT\r").await;
    sim.emit_message("t", b"1\"2");
    host.expect(b"\r\n+QMTRECV: 0,0,\"t\",\"1\"2\"\r\n").await;
    host.transact(b"AT+QMTCFG=\"recv/mode\",0,0,1\r", b"\r\nOK\r\n")
        .await;
    sim.emit_message("t", b"1\"2");
    host.expect(b"\r\n+QMTRECV: 0,0,\"t\",3,\"1\"2\"\r\n").await;
    assert_latency_delays(&sim, &mut host, b"AT\r", b"\r\nOK\r\n").await;
    // Baud pacing applies to prompted data too.
    let prompt = (&b"AT+QMTPUBEX=0,1,1,0,\"t\",200\r"[..], &b"\r\n> "[..]);
    let done = b"\r\nOK\r\n\r\n+QMTPUBEX: 0,1,2\r\n";
    assert_prompted_data_paced(&sim, &mut host, prompt, done).await;
    assert_noise_corrupts(&sim, &mut host, b"AT\r", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ufs_files_and_ssl_contexts() {
    let (sim, mut host) = quiet().await;
    host.transact(b"AT+CMEE=1\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+QFLST=\"ca.pem\"\r", b"\r\n+CME ERROR: 405\r\n")
        .await;
    host.transact(b"AT+QFDEL=\"ca.pem\"\r", b"\r\n+CME ERROR: 405\r\n")
        .await;
    host.transact(b"AT+QFLST=\"*\"\r", b"\r\nOK\r\n").await;
    // Any byte is data after CONNECT; the checksum XORs big-endian pairs.
    host.transact(b"AT+QFUPL=\"UFS:ca.pem\",5,60\r", b"\r\nCONNECT\r\n")
        .await;
    host.transact(b"1\r\n\0\"", b"\r\n+QFUPL: 5,190d\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+QFUPL=\"ca.pem\",5\r", b"\r\n+CME ERROR: 407\r\n")
        .await;
    host.transact(b"AT+QFUPL=\"b\",3\r", b"\r\nCONNECT\r\n")
        .await;
    host.transact(b"\x02\x1c\x00", b"\r\n+QFUPL: 3,21c\r\n\r\nOK\r\n")
        .await;
    sim.reboot();
    host.expect(b"\r\nRDY\r\n").await;
    host.transact(b"ATE0\r", b"ATE0\r\r\nOK\r\n").await;
    host.transact(b"AT+CMEE=1\r", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+QFLST=\"ca.pem\"\r",
        b"\r\n+QFLST: \"ca.pem\",5\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+QFLST=\"UFS:ca.pem\"\r",
        b"\r\n+QFLST: \"UFS:ca.pem\",5\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+QFLST\r",
        b"\r\n+QFLST: \"b\",3\r\n+QFLST: \"ca.pem\",5\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+QFDEL=\"b\"\r", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+QFLST=\"*\"\r",
        b"\r\n+QFLST: \"ca.pem\",5\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+QFDEL=\"*\"\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+QFLST=\"ca.pem\"\r", b"\r\n+CME ERROR: 405\r\n")
        .await;
    // SSL contexts: set, queried back; bad values refused.
    for line in [
        &b"AT+QSSLCFG=\"sslversion\",0,4\r"[..],
        b"AT+QSSLCFG=\"ciphersuite\",0,0XFFFF\r",
        b"AT+QSSLCFG=\"seclevel\",0,2\r",
        b"AT+QSSLCFG=\"cacert\",0,\"ca.pem\"\r",
        b"AT+QSSLCFG=\"clientcert\",0,\"UFS:c.pem\"\r",
        b"AT+QSSLCFG=\"clientkey\",0,\"k.pem\"\r",
        b"AT+QSSLCFG=\"sni\",0,1\r",
        b"AT+QSSLCFG=\"ignorelocaltime\",0,1\r",
        b"AT+QMTCFG=\"ssl\",0,1,0\r",
    ] {
        host.transact(line, b"\r\nOK\r\n").await;
    }
    for (line, reply) in [
        (
            &b"AT+QSSLCFG=\"seclevel\",0\r"[..],
            &b"+QSSLCFG: \"seclevel\",0,2"[..],
        ),
        (
            b"AT+QSSLCFG=\"ciphersuite\",0\r",
            b"+QSSLCFG: \"ciphersuite\",0,0XFFFF",
        ),
        (
            b"AT+QSSLCFG=\"cacert\",0\r",
            b"+QSSLCFG: \"cacert\",0,\"ca.pem\"",
        ),
        (b"AT+QSSLCFG=\"sni\",0\r", b"+QSSLCFG: \"sni\",0,1"),
        (
            b"AT+QSSLCFG=\"seclevel\",1\r",
            b"+QSSLCFG: \"seclevel\",1,0",
        ),
        (b"AT+QMTCFG=\"ssl\",0\r", b"+QMTCFG: \"ssl\",1,0"),
    ] {
        let mut want = b"\r\n".to_vec();
        want.extend_from_slice(reply);
        want.extend_from_slice(b"\r\n\r\nOK\r\n");
        host.transact(line, &want).await;
    }
    for line in [
        &b"AT+QSSLCFG=\"seclevel\",0,3\r"[..],
        b"AT+QSSLCFG=\"sslversion\",6,4\r",
        b"AT+QSSLCFG=\"ciphersuite\",0,65535\r",
    ] {
        host.transact(line, b"\r\n+CME ERROR: 50\r\n").await;
    }
    // A context's files are looked up when the client opens: none is stored now.
    host.transact(
        b"AT+QMTOPEN=0,\"127.0.0.1\",1\r",
        b"\r\nOK\r\n\r\n+QMTOPEN: 0,-1\r\n",
    )
    .await;
}
