//! Fault knobs: silence, injection, reboot, latency, pacing, noise, emitted URCs, traffic tap.

mod common;

use std::time::{Duration, Instant};

use common::{sim_open, sim_quiet};
use modem_sim::{BOOT_BANNER, Dir, SimOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_swallows_commands_until_cleared() {
    let (sim, mut host) = sim_quiet().await;
    sim.set_silent(true);
    host.send(b"AT\r").await;
    sim.emit_urc(b"\r\n+MQTTSTATE:0\r\n".to_vec());
    assert_eq!(host.drain_for(Duration::from_millis(300)).await, b"");
    sim.set_silent(false);
    host.transact(b"AT\r", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inject_lands_inside_the_next_response_only() {
    let (sim, mut host) = sim_quiet().await;
    sim.inject_in_next_response(4, b"\r\n+MQTTRECV:\"t\",2,hi\r\n".to_vec());
    host.transact(
        b"AT+CFUN?\r",
        b"\r\n+C\r\n+MQTTRECV:\"t\",2,hi\r\nFUN: 1\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+CFUN?\r", b"\r\n+CFUN: 1\r\n\r\nOK\r\n")
        .await;
    // Offsets past the end append.
    sim.inject_in_next_response(1000, b"X".to_vec());
    host.transact(b"AT\r", b"\r\nOK\r\nX").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reboot_forgets_everything_and_prints_banner() {
    let (sim, mut host) = sim_quiet().await;
    host.transact(b"AT+MQTTCONFIG=h,1883,id,1,60,,\r", b"\r\nOK\r\n")
        .await;
    host.transact(b"AT+MQTTTLS=1\r", b"\r\nOK\r\n").await;
    sim.reboot();
    host.expect(BOOT_BANNER).await;
    assert_eq!(BOOT_BANNER, b"\r\nRDY\r\n");
    // Echo is back on, configuration and TLS are gone.
    host.transact(
        b"AT+MQTTTLS?\r",
        b"AT+MQTTTLS?\r\r\n+MQTTTLS:0\r\n\r\nOK\r\n",
    )
    .await;
    host.transact(b"AT+MQTTCONFIG?\r", b"AT+MQTTCONFIG?\r\r\nERROR\r\n")
        .await;
    host.transact(
        b"AT+MQTTSTATE\r",
        b"AT+MQTTSTATE\r\r\n+MQTTSTATE:0\r\n\r\nOK\r\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_the_response_not_the_echo() {
    let (_sim, mut host) = sim_open(SimOptions {
        latency: Duration::from_millis(300),
        ..SimOptions::default()
    })
    .await;
    let t0 = Instant::now();
    host.send(b"AT\r").await;
    host.expect(b"AT\r").await;
    let echo_at = t0.elapsed();
    host.expect(b"\r\nOK\r\n").await;
    let ok_at = t0.elapsed();
    // The OK waits the latency out; the echo does not (it comes well before the OK: a machine
    // slow enough to delay the echo by 150 ms would fail this, not a fast one).
    assert!(ok_at >= Duration::from_millis(300), "OK after {ok_at:?}");
    assert!(
        ok_at.saturating_sub(echo_at) >= Duration::from_millis(150),
        "echo at {echo_at:?}, OK at {ok_at:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baud_rate_paces_output() {
    let (sim, mut host) = sim_quiet().await;
    // 200 bytes at 9600 baud (960 bytes/s) take about 208 ms.
    sim.set_baud(Some(9600));
    let urc = vec![b'x'; 200];
    let t0 = Instant::now();
    sim.emit_urc(urc.clone());
    host.expect(&urc).await;
    let took = t0.elapsed();
    // Paced: not before the line rate allows (no upper bound: a loaded machine is slower).
    assert!(took >= Duration::from_millis(200), "too fast: {took:?}");
    // Host-to-modem bytes are accepted at the same rate: a 200-byte line takes ~208 ms.
    let mut line = b"AT+MQTTPUB=t,0,0,".to_vec();
    line.resize(199, b'm');
    line.push(b'\r');
    let t0 = Instant::now();
    host.transact(&line, b"\r\n+MQTTPUB:5\r\n\r\nERROR\r\n")
        .await;
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(200), "too fast: {took:?}");
    sim.set_baud(None);
    host.transact(b"AT\r", b"\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_is_seeded_and_reproducible() {
    async fn noisy_output(seed: u64) -> Vec<u8> {
        let (sim, mut host) = sim_quiet().await;
        sim.set_noise(0.2, seed);
        sim.emit_urc(vec![b'.'; 400]);
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < 400 && Instant::now() < deadline {
            got.extend(host.drain_for(Duration::from_millis(100)).await);
        }
        got
    }
    let a = noisy_output(7).await;
    let b = noisy_output(7).await;
    assert_eq!(a, b, "same seed, same corruption");
    assert!(a.len() > 400, "some bytes were inserted");
    assert!(a.iter().any(|&c| c != b'.'), "some bytes were changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitted_messages_and_traffic_tap() {
    let (sim, mut host) = sim_quiet().await;
    let mut tap = sim.traffic();
    sim.emit_message("a\"b", b"1\r\n2");
    host.expect(b"\r\n+MQTTRECV:\"a\\\"b\",4,1\r\n2\r\n").await;
    host.transact(b"AT\r", b"\r\nOK\r\n").await;
    let mut rx = Vec::new();
    let mut tx = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while rx != b"AT\r" || !tx.ends_with(b"\r\nOK\r\n") {
        let t = tokio::time::timeout_at(deadline, tap.recv())
            .await
            .expect("tap delivers")
            .unwrap();
        match t.dir {
            Dir::Rx => rx.extend(t.bytes),
            Dir::Tx => tx.extend(t.bytes),
        }
    }
}

/// Threads of this process named `modem-sim` (the simulator's own, from `Sim::spawn`).
fn sim_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "modem-sim")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_on_a_thread_of_its_own_until_dropped() {
    let before = sim_threads();
    let sim = modem_sim::Sim::spawn(SimOptions::default()).unwrap();
    assert_eq!(sim_threads(), before + 1);
    let mut host = common::Host::open(&sim);
    host.transact(b"AT\r", b"AT\r\r\nOK\r\n").await;
    sim.set_baud(Some(9600));
    let t0 = Instant::now();
    sim.emit_urc(vec![b'x'; 100]);
    host.expect(&[b'x'; 100]).await;
    assert!(t0.elapsed() >= Duration::from_millis(100), "not paced");
    drop(sim);
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim_threads() > before {
        assert!(
            Instant::now() < deadline,
            "the simulator's thread did not end"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
