//! `--dialect esp-at`: transcripts without a broker, then against rumqttd and fake brokers.

mod common;

use std::time::Duration;

use common::{
    AWKWARD, Host, assert_latency_delays, assert_message_waits_for_data, assert_noise_corrupts,
    assert_prompted_data_paced, assert_silence_swallows, capture_broker, expect_message,
    fake_broker, free_port, next_connect, outside_subscriber, proxy, publish_from, sim_dialect,
    sim_open, start_rumqttd,
};
use modem_sim::{Dialect, SimHandle, SimOptions};
use rumqttc::QoS;

async fn quiet() -> (SimHandle, Host) {
    sim_dialect(Dialect::EspAt, SimOptions::default()).await
}

/// Configure client `id` and connect to `port`: the exact bytes of the happy path.
async fn connect(host: &mut Host, port: u16, id: &str) {
    let user = format!("AT+MQTTUSERCFG=0,1,\"{id}\",\"\",\"\",0,0,\"\"\r\n");
    host.transact(user.as_bytes(), b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", b"\r\nOK\r\n")
        .await;
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0\r\n");
    let ok = format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"\",0\r\n\r\nOK\r\n");
    host.transact(conn.as_bytes(), ok.as_bytes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_line_ends_and_identification() {
    let (sim, mut host) = sim_open(SimOptions {
        dialect: Dialect::EspAt,
        ..SimOptions::default()
    })
    .await;
    assert_eq!(sim.dialect(), Dialect::EspAt);
    // Echo repeats the line with its CR-LF; a line ends only at LF.
    host.transact(b"AT\r\n", b"AT\r\n\r\nOK\r\n").await;
    host.send(b"AT\r").await;
    assert!(host.drain_for(Duration::from_millis(200)).await.is_empty());
    host.transact(b"\n", b"AT\r\n\r\nOK\r\n").await;
    host.transact(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n").await;
    host.transact(b"AT\r\n", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+GMR\r\n",
        b"AT version:3.4.0.0(sim)\r\nSDK version:v5.0\r\ncompile time:Dec  4 2026 12:00:00\r\nBin version:mqtt-modem-sim\r\n\r\nOK\r\n",
    )
    .await;
    // ESP-AT has no CMEE, CFUN or CGMI.
    for line in [
        &b"AT+CMEE=1\r\n"[..],
        b"AT+CFUN=1\r\n",
        b"AT+CGMI\r\n",
        b"AT+NOPE\r\n",
        b"garbage\r\n",
        b"AT+MQTTCONN=?\r\n",
    ] {
        host.transact(line, b"\r\nERROR\r\n").await;
    }
    host.transact(b"ATE1\r\n", b"\r\nOK\r\n").await;
    host.transact(b"AT\r\n", b"AT\r\n\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_states_and_errors() {
    let (_sim, mut host) = quiet().await;
    host.transact(
        b"AT+MQTTCONN?\r\n",
        b"+MQTTCONN:0,0,0,\"\",\"0\",\"\",0\r\n\r\nOK\r\n",
    )
    .await;
    // Nothing to clean, nothing configured.
    host.transact(b"AT+MQTTCLEAN=0\r\n", b"\r\nERROR\r\n").await;
    host.transact(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTLONGCLIENTID=0,4\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTCONN=0,\"127.0.0.1\",1883,0\r\n", b"\r\nERROR\r\n")
        .await;
    // Escapes \, \" \\ in quoted strings.
    host.transact(
        b"AT+MQTTUSERCFG=0,1,\"id\\,\\\"x\\\\\",\"user\",\"pw\",0,0,\"\"\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+MQTTCONN?\r\n",
        b"+MQTTCONN:0,1,1,\"\",\"0\",\"\",0\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTCONNCFG=0,7200,1,\"\",\"\",0,0\r\n", b"\r\nOK\r\n")
        .await;
    host.transact(
        b"AT+MQTTCONN?\r\n",
        b"+MQTTCONN:0,2,1,\"\",\"0\",\"\",0\r\n\r\nOK\r\n",
    )
    .await;
    for bad in [
        // link id 1, scheme 11, unquoted string, bare comma inside quotes, cert id 1
        &b"AT+MQTTUSERCFG=1,1,\"id\",\"\",\"\",0,0,\"\"\r\n"[..],
        b"AT+MQTTUSERCFG=0,11,\"id\",\"\",\"\",0,0,\"\"\r\n",
        b"AT+MQTTUSERCFG=0,1,id,\"\",\"\",0,0,\"\"\r\n",
        b"AT+MQTTUSERCFG=0,1,\"a,b\",\"\",\"\",0,0,\"\"\r\n",
        b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",1,0,\"\"\r\n",
        b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0\r\n",
        // keepalive 7201, clean flag 2, lwt qos 3
        b"AT+MQTTCONNCFG=0,7201,0,\"\",\"\",0,0\r\n",
        b"AT+MQTTCONNCFG=0,60,2,\"\",\"\",0,0\r\n",
        b"AT+MQTTCONNCFG=0,60,0,\"w\",\"m\",3,0\r\n",
        // port 0 and 65536, reconnect 2, host too long
        b"AT+MQTTCONN=0,\"h\",0,0\r\n",
        b"AT+MQTTCONN=0,\"h\",65536,0\r\n",
        b"AT+MQTTCONN=0,\"h\",1883,2\r\n",
        // long-field lengths out of 1..=1024
        b"AT+MQTTLONGCLIENTID=0,0\r\n",
        b"AT+MQTTLONGUSERNAME=0,1025\r\n",
        // wildcard topic, QoS 3, retain 2, length 0
        b"AT+MQTTPUBRAW=0,\"a/#\",4,0,0\r\n",
        b"AT+MQTTPUBRAW=0,\"t\",4,3,0\r\n",
        b"AT+MQTTPUBRAW=0,\"t\",4,0,2\r\n",
        b"AT+MQTTPUBRAW=0,\"t\",0,0,0\r\n",
        b"AT+MQTTSUB=0,\"\",0\r\n",
        b"AT+MQTTUNSUB=0\r\n",
        b"AT+MQTTCLEAN=1\r\n",
    ] {
        host.transact(bad, b"\r\nERROR\r\n").await;
    }
    let too_long = format!("AT+MQTTPUB=0,\"t\",\"{}\",0,0\r\n", "x".repeat(240));
    assert!(too_long.len() > 257);
    host.transact(too_long.as_bytes(), b"\r\nERROR\r\n").await;
    let host_129 = format!("AT+MQTTCONN=0,\"{}\",1883,0\r\n", "h".repeat(129));
    host.transact(host_129.as_bytes(), b"\r\nERROR\r\n").await;
    // Not connected: MQTT commands answer ERROR, PUBRAW gives no prompt.
    host.transact(b"AT+MQTTPUB=0,\"t\",\"x\",0,0\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTPUBRAW=0,\"t\",4,0,0\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT\r\n", b"\r\nOK\r\n").await; // the next line is a command again
    host.transact(b"AT+MQTTSUB=0,\"t\",0\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTUNSUB=0,\"t\"\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTSUB?\r\n", b"\r\nOK\r\n").await;
    // A closed port: ERROR, state unchanged.
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{},0\r\n", free_port());
    host.transact(conn.as_bytes(), b"\r\nERROR\r\n").await;
    host.transact(b"AT+MQTTCLEAN=0\r\n", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+MQTTCONN?\r\n",
        b"+MQTTCONN:0,0,0,\"\",\"0\",\"\",0\r\n\r\nOK\r\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_fields_and_connection_settings_reach_the_broker() {
    let (_sim, mut host) = quiet().await;
    let (port, mut connects) = capture_broker().await;
    host.transact(
        b"AT+MQTTUSERCFG=0,1,\"\",\"\",\"\",0,0,\"\"\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    // The prompt follows the OK; every byte after it is data, CR, LF, quote and comma too.
    let id = "c".repeat(300);
    let user = "u\r\n\",x";
    let password = "p".repeat(1024);
    for (cmd, value) in [
        ("LONGCLIENTID", id.as_str()),
        ("LONGUSERNAME", user),
        ("LONGPASSWORD", password.as_str()),
    ] {
        let line = format!("AT+MQTT{cmd}=0,{}\r\n", value.len());
        host.transact(line.as_bytes(), b"\r\nOK\r\n>").await;
        host.transact(value.as_bytes(), b"\r\nOK\r\n").await;
    }
    host.transact(
        b"AT+MQTTCONNCFG=0,0,1,\"will/t\",\"gone\\, bye\",1,1\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},1\r\n");
    let ok = format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"\",1\r\n\r\nOK\r\n");
    host.transact(conn.as_bytes(), ok.as_bytes()).await;
    let c = next_connect(&mut connects).await;
    assert_eq!(c.client_id, id.as_bytes());
    assert_eq!(c.user.as_deref(), Some(user.as_bytes()));
    assert_eq!(c.password.as_deref(), Some(password.as_bytes()));
    assert!(!c.clean, "disable_clean_session=1 resumes the session");
    assert_eq!(c.keepalive, 120, "keepalive 0 is forced to 120 s");
    assert_eq!(
        c.will,
        Some((b"will/t".to_vec(), b"gone, bye".to_vec(), 1, true))
    );
    host.transact(
        b"AT+MQTTCONN?\r\n",
        format!("+MQTTCONN:0,4,1,\"127.0.0.1\",\"{port}\",\"\",1\r\n\r\nOK\r\n").as_bytes(),
    )
    .await;
    // Already connected.
    host.transact(conn.as_bytes(), b"\r\nERROR\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_subscribe_and_receive_byte_exact() {
    let port = start_rumqttd();
    let (outside, mut inbox) = outside_subscriber(port, "esp-outside", "up/#").await;
    let (_sim, mut host) = quiet().await;
    connect(&mut host, port, "esp-sim").await;

    // PUBRAW: OK, the prompt, exactly len raw bytes, then +MQTTPUB:OK and no OK after it.
    for qos in 0..=2 {
        let line = format!("AT+MQTTPUBRAW=0,\"up/{qos}\",{},{qos},0\r\n", AWKWARD.len());
        host.transact(line.as_bytes(), b"\r\nOK\r\n>").await;
        host.transact(AWKWARD, b"+MQTTPUB:OK\r\n").await;
        expect_message(&mut inbox, &format!("up/{qos}"), AWKWARD).await;
    }
    // 4 KiB, sent in pieces.
    let big: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    host.transact(b"AT+MQTTPUBRAW=0,\"up/big\",4096,1,0\r\n", b"\r\nOK\r\n>")
        .await;
    for chunk in big.chunks(1000) {
        host.send(chunk).await;
    }
    host.expect(b"+MQTTPUB:OK\r\n").await;
    expect_message(&mut inbox, "up/big", &big).await;
    // String publish with escapes, and the empty payload.
    host.transact(
        b"AT+MQTTPUB=0,\"up/s\",\"a\\,b\\\"c\\\\\",1,0\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    expect_message(&mut inbox, "up/s", b"a,b\"c\\").await;
    host.transact(b"AT+MQTTPUB=0,\"up/e\",\"\",0,0\r\n", b"\r\nOK\r\n")
        .await;
    expect_message(&mut inbox, "up/e", b"").await;

    // Subscriptions.
    host.transact(b"AT+MQTTSUB=0,\"down\",1\r\n", b"\r\nOK\r\n")
        .await;
    host.transact(
        b"AT+MQTTSUB=0,\"down\",0\r\n",
        b"ALREADY SUBSCRIBE\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTSUB=0,\"a/#/b\",0\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTSUB?\r\n", b"+MQTTSUB:0,6,\"down\",1\r\n\r\nOK\r\n")
        .await;
    host.transact(
        b"AT+MQTTCONN?\r\n",
        format!("+MQTTCONN:0,6,1,\"127.0.0.1\",\"{port}\",\"\",0\r\n\r\nOK\r\n").as_bytes(),
    )
    .await;
    publish_from(&outside, "down", QoS::AtMostOnce, AWKWARD).await;
    let head = format!("+MQTTSUBRECV:0,\"down\",{},", AWKWARD.len());
    host.expect(&[head.as_bytes(), AWKWARD, b"\r\n"].concat())
        .await;

    // A message that arrives while PUBRAW collects its data waits for +MQTTPUB:OK.
    let prompt = (
        &b"AT+MQTTPUBRAW=0,\"up/x\",3,1,0\r\n"[..],
        &b"\r\nOK\r\n>"[..],
    );
    let reply = b"+MQTTPUB:OK\r\n+MQTTSUBRECV:0,\"down\",3,mid\r\n";
    assert_message_waits_for_data(&mut host, &outside, prompt, reply).await;

    host.transact(b"AT+MQTTUNSUB=0,\"down\"\r\n", b"\r\nOK\r\n")
        .await;
    host.transact(
        b"AT+MQTTUNSUB=0,\"down\"\r\n",
        b"NO UNSUBSCRIBE\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTSUB?\r\n", b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTCLEAN=0\r\n", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+MQTTCONN?\r\n",
        b"+MQTTCONN:0,0,0,\"\",\"0\",\"\",0\r\n\r\nOK\r\n",
    )
    .await;
    assert!(host.drain_for(Duration::from_millis(200)).await.is_empty());
    // And nothing late either: the next answer is the first thing to come (a slow machine
    // could otherwise hide a late line past the window).
    host.transact(b"AT\r\n", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_going_away_is_reported_and_needs_clean() {
    let port = start_rumqttd();
    let front = proxy(port).await;
    let (sim, mut host) = quiet().await;
    connect(&mut host, front.port, "esp-loss").await;
    front.cut();
    host.expect(b"+MQTTDISCONNECTED:0\r\n").await;
    assert!(!sim.is_broker_connected());
    host.transact(
        b"AT+MQTTCONN?\r\n",
        format!(
            "+MQTTCONN:0,3,1,\"127.0.0.1\",\"{}\",\"\",0\r\n\r\nOK\r\n",
            front.port
        )
        .as_bytes(),
    )
    .await;
    host.transact(b"AT+MQTTPUBRAW=0,\"t\",1,0,0\r\n", b"\r\nERROR\r\n")
        .await;
    // reconnect=0: AT+MQTTCONN cannot bring it back; CLEAN, configure, connect.
    let again = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0\r\n");
    host.transact(again.as_bytes(), b"\r\nERROR\r\n").await;
    host.transact(b"AT+MQTTCLEAN=0\r\n", b"\r\nOK\r\n").await;
    connect(&mut host, port, "esp-loss").await;
    // A simulated network loss says the same.
    sim.drop_broker_connection();
    host.expect(b"+MQTTDISCONNECTED:0\r\n").await;
    assert!(host.drain_for(Duration::from_millis(200)).await.is_empty());
    host.transact(b"AT\r\n", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_missing_acks() {
    let (_sim, mut host) = sim_dialect(
        Dialect::EspAt,
        SimOptions {
            ack_timeout: Duration::from_millis(500),
            ..SimOptions::default()
        },
    )
    .await;
    host.transact(
        b"AT+MQTTUSERCFG=0,1,\"x\",\"\",\"\",0,0,\"\"\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    let refusing = fake_broker(Some(5)).await;
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{refusing},0\r\n");
    host.transact(conn.as_bytes(), b"\r\nERROR\r\n").await;
    let deaf = fake_broker(Some(0)).await;
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{deaf},0\r\n");
    let ok = format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{deaf}\",\"\",0\r\n\r\nOK\r\n");
    host.transact(conn.as_bytes(), ok.as_bytes()).await;
    host.transact(b"AT+MQTTSUB=0,\"t\",1\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTSUB?\r\n", b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTPUBRAW=0,\"t\",2,1,0\r\n", b"\r\nOK\r\n>")
        .await;
    host.transact(b"hi", b"+MQTTPUB:FAIL\r\n").await;
    host.transact(b"AT+MQTTPUB=0,\"t\",\"x\",1,0\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTPUB=0,\"t\",\"x\",0,0\r\n", b"\r\nOK\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knobs_work_in_this_dialect() {
    let (sim, mut host) = quiet().await;
    // Reboot: banner, echo back on, configuration gone.
    host.transact(
        b"AT+MQTTUSERCFG=0,1,\"x\",\"\",\"\",0,0,\"\"\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    sim.reboot();
    host.expect(Dialect::EspAt.boot_banner()).await;
    host.transact(
        b"AT+MQTTCONN?\r\n",
        b"AT+MQTTCONN?\r\n+MQTTCONN:0,0,0,\"\",\"0\",\"\",0\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+RST\r\n", b"AT+RST\r\n\r\nOK\r\n\r\nready\r\n")
        .await;
    host.transact(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n").await;
    // A reboot abandons a prompted command: what follows is a command line again.
    let port = start_rumqttd();
    connect(&mut host, port, "esp-knobs").await;
    host.transact(b"AT+MQTTPUBRAW=0,\"t\",100,0,0\r\n", b"\r\nOK\r\n>")
        .await;
    sim.reboot();
    host.expect(b"\r\nready\r\n").await;
    host.transact(b"AT\r\n", b"AT\r\n\r\nOK\r\n").await;
    host.transact(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n").await;
    // Injection lands in the next response.
    sim.inject_in_next_response(2, b"+MQTTDISCONNECTED:0\r\n".to_vec());
    host.transact(b"AT\r\n", b"\r\n+MQTTDISCONNECTED:0\r\nOK\r\n")
        .await;
    // Silence swallows lines and URCs.
    assert_silence_swallows(&sim, &mut host, b"AT\r\n").await;
    sim.emit_message("t", b"1\r\n2");
    host.expect(b"+MQTTSUBRECV:0,\"t\",4,1\r\n2\r\n").await;
    // Latency delays the response.
    assert_latency_delays(&sim, &mut host, b"AT\r\n", b"\r\nOK\r\n").await;
    // Baud pacing applies to prompted data too.
    host.transact(
        b"AT+MQTTUSERCFG=0,1,\"x\",\"\",\"\",0,0,\"\"\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    let prompt = (&b"AT+MQTTLONGPASSWORD=0,200\r\n"[..], &b"\r\nOK\r\n>"[..]);
    assert_prompted_data_paced(&sim, &mut host, prompt, b"\r\nOK\r\n").await;
    // Noise corrupts the output.
    assert_noise_corrupts(&sim, &mut host, b"AT\r\n", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sysmfg_stores_reads_erases_and_survives_a_reboot() {
    let (sim, mut host) = quiet().await;
    // Nothing stored yet.
    host.transact(b"AT+SYSMFG=1,\"mqtt_modem\",\"ca\"\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+SYSMFG=0,\"mqtt_modem\",\"ca\"\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+SYSMFG?\r\n", b"\r\nOK\r\n").await;
    // A binary value through the prompt: any byte, CR and LF included.
    host.transact(
        b"AT+SYSMFG=2,\"mqtt_ca\",\"mqtt_ca\",8,6\r\n",
        b"\r\nOK\r\n\r\n>",
    )
    .await;
    host.transact(b"a\r\n\0\"z", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+SYSMFG=2,\"mqtt_modem\",\"ca\",5,4294967295\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+SYSMFG=2,\"mqtt_modem\",\"i\",6,-7\r\n", b"\r\nOK\r\n")
        .await;
    host.transact(
        b"AT+SYSMFG=2,\"mqtt_modem\",\"ca\",5,4294967296\r\n",
        b"\r\nERROR\r\n",
    )
    .await;
    sim.reboot();
    host.expect(b"\r\nready\r\n").await;
    host.transact(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n").await;
    host.transact(
        b"AT+SYSMFG=1,\"mqtt_ca\",\"mqtt_ca\"\r\n",
        b"+SYSMFG:\"mqtt_ca\",\"mqtt_ca\",8,6,a\r\n\0\"z\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+SYSMFG=1,\"mqtt_ca\",\"mqtt_ca\",1,2\r\n",
        b"+SYSMFG:\"mqtt_ca\",\"mqtt_ca\",8,2,\r\n\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+SYSMFG=1,\"mqtt_ca\",\"mqtt_ca\",5,2\r\n",
        b"\r\nERROR\r\n",
    )
    .await;
    host.transact(
        b"AT+SYSMFG=1,\"mqtt_modem\",\"ca\"\r\n",
        b"+SYSMFG:\"mqtt_modem\",\"ca\",5,4294967295\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+SYSMFG=1,\"mqtt_modem\",\"i\"\r\n",
        b"+SYSMFG:\"mqtt_modem\",\"i\",6,-7\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+SYSMFG=1,\"mqtt_modem\"\r\n",
        b"+SYSMFG:\"mqtt_modem\",\"ca\",5\r\n+SYSMFG:\"mqtt_modem\",\"i\",6\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+SYSMFG?\r\n",
        b"+SYSMFG:\"mqtt_ca\"\r\n+SYSMFG:\"mqtt_modem\"\r\n\r\nOK\r\n",
    )
    .await;
    // AT+RST and AT+MQTTCLEAN keep it too.
    host.transact(b"AT+RST\r\n", b"\r\nOK\r\n\r\nready\r\n")
        .await;
    host.transact(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n").await;
    host.transact(
        b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"\r\n",
        b"\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTCLEAN=0\r\n", b"\r\nOK\r\n").await;
    // Erase a key, then a namespace.
    host.transact(b"AT+SYSMFG=0,\"mqtt_modem\",\"ca\"\r\n", b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+SYSMFG=1,\"mqtt_modem\",\"ca\"\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+SYSMFG=0,\"mqtt_ca\"\r\n", b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+SYSMFG=1,\"mqtt_ca\"\r\n", b"\r\nERROR\r\n")
        .await;
    host.transact(b"AT+SYSMFG?\r\n", b"+SYSMFG:\"mqtt_modem\"\r\n\r\nOK\r\n")
        .await;
}
