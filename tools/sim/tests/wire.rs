//! Transcripts of the modem without a broker: the bytes sent, then the bytes answered.

mod common;

use common::{sim_open, sim_quiet};
use modem_sim::SimOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_is_on_until_ate0() {
    let (_sim, mut host) = sim_open(SimOptions::default()).await;
    host.transact(b"AT\r", b"AT\r\r\nOK\r\n").await;
    host.transact(b"at\r\n", b"at\r\r\nOK\r\n").await; // LF after CR is ignored
    host.transact(b"ATE0\r", b"ATE0\r\r\nOK\r\n").await;
    host.transact(b"AT\r", b"\r\nOK\r\n").await;
    host.transact(b"ATE1\r", b"\r\nOK\r\n").await;
    host.transact(b"AT\r", b"AT\r\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bring_up_commands() {
    let (_sim, mut host) = sim_quiet().await;
    host.transact(b"AT+CFUN=1\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+CFUN?\r", b"\r\n+CFUN: 1\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+CGMI\r", b"\r\nucchip\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+CGMM\r", b"\r\n8088\r\n\r\nOK\r\n").await;
    let rev = format!("\r\n{}\r\n\r\nOK\r\n", modem_sim::REVISION);
    host.transact(b"AT+CGMR\r", rev.as_bytes()).await;
    host.transact(b"AT+NOPE\r", b"\r\nERROR\r\n").await;
    host.transact(b"garbage\r", b"\r\nERROR\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmee_modes() {
    let (_sim, mut host) = sim_quiet().await;
    host.transact(b"AT+CMEE=1\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTPUB=t,7,0,m\r", b"\r\n+CME ERROR: 50\r\n")
        .await;
    host.transact(b"AT+MQTTCONFIG?\r", b"\r\n+CME ERROR: 3\r\n")
        .await;
    host.transact(b"AT+CMEE=2\r", b"\r\nOK\r\n").await;
    host.transact(
        b"AT+MQTTSUB=t\r",
        b"\r\n+CME ERROR: Incorrect parameters\r\n",
    )
    .await;
    host.transact(b"AT+CMEE=0\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTSUB=t\r", b"\r\nERROR\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_and_test_forms() {
    let (_sim, mut host) = sim_quiet().await;
    host.transact(b"AT+MQTTSTATE\r", b"\r\n+MQTTSTATE:0\r\n\r\nOK\r\n")
        .await;
    host.transact(
        b"AT+MQTTPUB=?\r",
        b"\r\n+MQTTPUB:<topic>,(0-2),(0-1);<message>\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+MQTTSUB=?\r",
        b"\r\n+MQTTSUB:<topic>,(0-2)\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+MQTTCONFIG=?\r",
        b"\r\n+MQTTCONFIG:<url>,<port>,<clientid>,(0-1),<keepalive>,<username>,<password>\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+MQTTTLS=?\r",
        b"\r\n+MQTTTLS:(0-1),<type>,<cert file content>,<cert file size>\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTSUB?\r", b"\r\nOK\r\n").await;
    // Not connected: the MQTT code 5 (network unusable), then ERROR.
    host.transact(
        b"AT+MQTTPUB=\"t\",0,0,\"m\"\r",
        b"\r\n+MQTTPUB:5\r\n\r\nERROR\r\n",
    )
    .await;
    host.transact(b"AT+MQTTCONNECT\r", b"\r\n+MQTTCONNECT:3\r\n\r\nERROR\r\n")
        .await;
    host.transact(b"AT+MQTTDISCONNECT\r", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_is_echoed_unquoted() {
    let (_sim, mut host) = sim_quiet().await;
    // The manual's example, every string unquoted.
    let line = b"AT+MQTTCONFIG=183.230.40.16,8883,MQTT002,1,60,431671,version=2018-10-31&res=products%2F431671&sign=UJy%3D\r";
    host.transact(line, b"\r\nOK\r\n").await;
    host.transact(
        b"AT+MQTTCONFIG?\r",
        b"\r\n+MQTTCONFIG:183.230.40.16,8883,MQTT002,1,60,431671,version=2018-10-31&res=products%2F431671&sign=UJy%3D\r\n\r\nOK\r\n",
    )
    .await;
    // Quoted, with a comma and an escaped quote inside, and empty credentials.
    host.transact(
        b"AT+MQTTCONFIG=\"broker.example\",1883,\"id,\\\"x\\\"\",0,120,\"\",\"\"\r",
        b"\r\nOK\r\n",
    )
    .await;
    host.transact(
        b"AT+MQTTCONFIG?\r",
        b"\r\n+MQTTCONFIG:broker.example,1883,id,\"x\",0,120,,\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTCONFIG=h,99999,id,1,60,,\r", b"\r\nERROR\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_upload_and_query() {
    let (_sim, mut host) = sim_quiet().await;
    host.transact(b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:0\r\n\r\nOK\r\n")
        .await;
    // 28 bytes once `\n` is unescaped (29 would be the escaped length).
    host.transact(
        b"AT+MQTTTLS=1,0,\"-----BEGIN CERTIFICATE-----\\n\",29\r",
        b"\r\nERROR\r\n",
    )
    .await;
    host.transact(
        b"AT+MQTTTLS=1,0,\"-----BEGIN CERTIFICATE-----\\n\",28\r",
        b"\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:1\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTTLS=0,0,\"\",0\r", b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:0\r\n\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTTLS=1\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTTLS=0\r", b"\r\nOK\r\n").await;
    host.transact(b"AT+MQTTTLS?\r", b"\r\n+MQTTTLS:0\r\n\r\nOK\r\n")
        .await;
}
