//! The `demo` binary against its in-process broker.

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_a_full_session_against_its_embedded_broker() {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_demo"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("demo hung")
    .expect("run demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for want in [
        "broker: rumqttd in-process on 127.0.0.1:",
        "] init",
        ">> ATE0\\r",
        "= manufacturer ucchip, model 8088",
        ">> AT+MQTTCONNECT\\r",
        "<< \\r\\n+MQTTCONNECT:0\\r\\n",
        ">> AT+MQTTSUB=",
        ">> AT+MQTTPUB=",
        "<< \\r\\n+MQTTRECV:",
        "(byte-exact)",
        "<< \\r\\n+MQTTSTATE:1\\r\\n",
        ">> AT+MQTTUNSUB=",
        ">> AT+MQTTDISCONNECT\\r",
        "<< \\r\\n+MQTTSTATE:0\\r\\n",
        "demo: success",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fails_with_a_reason_when_the_broker_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(["--broker", &format!("127.0.0.1:{port}")])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("demo hung")
    .expect("run demo");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("connect) failed: link down: the modem answered result 5"),
        "{stderr}"
    );
}

/// The same demo against a simulated ESP-AT and a simulated Quectel module: the same session,
/// each in its own bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_for_every_dialect() {
    for (dialect, wants) in [
        (
            "esp-at",
            &[
                "modem: simulated ESP-AT module",
                ">> AT+GMR\\r\\n",
                ">> AT+MQTTUSERCFG=0,1,",
                "<< +MQTTCONNECTED:0,1,",
                ">> AT+MQTTPUBRAW=0,",
                "+MQTTPUB:OK\\r\\n",
                "<< +MQTTSUBRECV:0,",
                "(byte-exact)",
                ">> AT+MQTTCLEAN=0\\r\\n",
                "demo: success",
            ][..],
        ),
        (
            "quectel",
            &[
                "modem: simulated Quectel module",
                ">> AT+QMTCFG=\"recv/mode\",0,0,1\\r",
                "<< \\r\\n+QMTOPEN: 0,0\\r\\n",
                "<< \\r\\n+QMTCONN: 0,0,0\\r\\n",
                ">> AT+QMTPUBEX=0,",
                "+QMTRECV: 0,",
                "(byte-exact)",
                "<< \\r\\n+QMTDISC: 0,0\\r\\n",
                "demo: success",
            ][..],
        ),
    ] {
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new(env!("CARGO_BIN_EXE_demo"))
                .args(["--dialect", dialect])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("demo hung")
        .expect("run demo");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "demo --dialect {dialect} failed:\n{stdout}"
        );
        for want in wants {
            assert!(
                stdout.contains(want),
                "{dialect}: missing {want:?} in:\n{stdout}"
            );
        }
    }
}
