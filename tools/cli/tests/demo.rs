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
        let stdout = demo_in(dialect).await;
        for want in wants {
            assert!(
                stdout.contains(want),
                "{dialect}: missing {want:?} in:\n{stdout}"
            );
        }
    }
}

/// Runs the demo in `dialect`; its output, once it succeeded.
async fn demo_in(dialect: &str) -> String {
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
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo --dialect {dialect} failed:\n{stdout}"
    );
    stdout
}

/// The trace lines (`>> …`, `<< …`) of each step, by the step's name.
fn steps(stdout: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split_once("] ")) {
            out.push((name.1.to_owned(), Vec::new()));
        } else if let (Some(step), Some(t)) = (out.last_mut(), line.strip_prefix("    ")) {
            if t.starts_with(">> ") || t.starts_with("<< ") {
                step.1.push(t.to_owned());
            }
        }
    }
    out
}

/// Where the first trace line starting with `prefix` is.
fn at(lines: &[String], prefix: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {lines:#?}"))
}

/// The demo's trace reads command, then answer, in every step of every dialect; a prompted
/// publish reads command, prompt, data, result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_shows_each_command_before_its_answer_in_every_dialect() {
    // (dialect, state query, its answer, publish command, prompt, result)
    let cases = [
        (
            "uc8088",
            ">> AT+MQTTSTATE\\r",
            "<< \\r\\n+MQTTSTATE:1\\r\\n",
            ">> AT+MQTTPUB=",
            None,
            "<< \\r\\nOK\\r\\n",
        ),
        (
            "esp-at",
            ">> AT+MQTTCONN?\\r\\n",
            "<< +MQTTCONN:0,",
            ">> AT+MQTTPUBRAW=",
            Some("<< >"),
            "<< +MQTTPUB:OK\\r\\n",
        ),
        (
            "quectel",
            ">> AT+QMTCONN?\\r",
            "<< \\r\\n+QMTCONN: 0,3\\r\\n",
            ">> AT+QMTPUBEX=",
            Some("<< \\r\\n> "),
            "<< \\r\\n+QMTPUBEX: 0,",
        ),
    ];
    for (dialect, query, answer, publish, prompt, result) in cases {
        let stdout = demo_in(dialect).await;
        let steps = steps(&stdout);
        assert!(steps.len() >= 10, "{dialect}: {stdout}");
        for (name, lines) in &steps {
            if let Some(first) = lines.first() {
                assert!(
                    first.starts_with(">> "),
                    "{dialect}, step {name}: the modem speaks first: {lines:#?}"
                );
            }
        }
        let lines = |want: &str| -> Vec<String> {
            steps
                .iter()
                .find(|(name, _)| name == want)
                .unwrap_or_else(|| panic!("{dialect}: no step {want:?}"))
                .1
                .clone()
        };
        let state = lines("state");
        assert_eq!(
            at(&state, query) + 1,
            at(&state, answer),
            "{dialect}: {state:#?}"
        );
        let publish_lines = lines("publish");
        let command = at(&publish_lines, publish);
        let done = at(&publish_lines, result);
        assert!(command < done, "{dialect}: {publish_lines:#?}");
        if let Some(prompt) = prompt {
            let prompt = at(&publish_lines, prompt);
            let data = at(&publish_lines, ">> {\"from\"");
            assert!(
                command < prompt && prompt < data && data < done,
                "{dialect}: command, prompt, data, result: {publish_lines:#?}"
            );
        }
    }
}
