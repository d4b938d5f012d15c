//! `perf`: every benchmark of the mqtt-modem driver, printed as one table.
//!
//! ```text
//! cargo run --release -p mqtt-modem-perf --bin perf            # full run (~7 min), writes docs/throughput.svg
//! cargo run --release -p mqtt-modem-perf --bin perf -- --quick # short run (~1.5 min), no chart
//! perf [--dialect uc8088|esp-at|quectel]                       # one dialect only
//! perf --cpu-only --iters N --which driver|baseline [--dialect D] [--op publish|incoming|incoming-chunked] [--payload N] [--chunk N]
//! ```
//!
//! Every measurement runs in each dialect (UC8088, ESP-AT, Quectel), in the same run.
//! Throughput runs the real driver over a paced in-process UART (both directions) against a
//! fake modem that answers at once in the dialect's own bytes (prompts included), and compares
//! with the 8N1 line-rate bound of those bytes and a hand-rolled baseline over the same line.
//! CPU compares the driver's encoder and digester with a hand-rolled minimal encoder/parser of
//! the same dialect. Memory is `size_of` at the default sizes.

mod chart;
mod cpu;
mod dialect;
mod memory;
mod pipe;
mod throughput;
mod trace;

use std::time::Duration;

use cpu::{Op, Which};
use dialect::{Kind, Script};
use mqtt_modem::Qos;
use mqtt_modem::dialect::uc8088::commands::Publish;
use plotters::style::RGBColor;
use throughput::{Run, TOPIC, payload};

const BAUDS: [u32; 2] = [115_200, 921_600];
const PAYLOADS: [usize; 4] = [16, 64, 256, 1024];
const GOAL_THROUGHPUT: f64 = 0.95;
const GOAL_CPU: f64 = 1.5;

struct Args {
    quick: bool,
    cpu_only: bool,
    iters: u64,
    which: Which,
    op: Op,
    payload: usize,
    chunk: usize,
    chart: bool,
    renice: bool,
    /// One dialect only (`--cpu-only`: which one; otherwise all when `None`).
    dialect: Option<Kind>,
}

fn parse_args() -> Args {
    let mut a = Args {
        quick: false,
        cpu_only: false,
        iters: 100_000,
        which: Which::Driver,
        op: Op::Publish,
        payload: 64,
        chunk: 16,
        chart: true,
        renice: true,
        dialect: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--cpu-only" => a.cpu_only = true,
            "--no-chart" => a.chart = false,
            "--no-renice" => a.renice = false,
            "--iters" => a.iters = val().parse().unwrap_or_else(|_| usage("bad --iters")),
            "--chunk" => a.chunk = val().parse().unwrap_or_else(|_| usage("bad --chunk")),
            "--payload" => a.payload = val().parse().unwrap_or_else(|_| usage("bad --payload")),
            "--dialect" => {
                a.dialect = Some(
                    Kind::from_arg(&val())
                        .unwrap_or_else(|| usage("--dialect uc8088|esp-at|quectel")),
                );
            }
            "--which" => {
                a.which = match val().as_str() {
                    "driver" => Which::Driver,
                    "baseline" => Which::Baseline,
                    _ => usage("--which driver|baseline"),
                }
            }
            "--op" => {
                a.op = match val().as_str() {
                    "publish" => Op::Publish,
                    "incoming" => Op::Incoming,
                    "incoming-chunked" => Op::IncomingChunked(16),
                    _ => usage("--op publish|incoming|incoming-chunked"),
                }
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    a
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("perf: {msg}");
    }
    eprintln!(
        "usage: perf [--quick] [--no-chart] [--no-renice] [--dialect uc8088|esp-at|quectel]\n       perf --cpu-only --iters N --which driver|baseline [--dialect uc8088|esp-at|quectel] [--op publish|incoming|incoming-chunked] [--payload N] [--chunk N]"
    );
    std::process::exit(2)
}

fn main() {
    let args = parse_args();
    if args.cpu_only {
        // For callgrind: nothing but the loop.
        let p = payload(args.payload);
        let op = match args.op {
            Op::IncomingChunked(_) => Op::IncomingChunked(args.chunk.max(1)),
            op => op,
        };
        let kind = args.dialect.unwrap_or(Kind::Uc8088);
        let sum = cpu::run(kind, op, args.which, args.iters, TOPIC, &p);
        println!("{sum}");
        return;
    }
    let priority = if args.renice {
        renice()
    } else {
        "not raised".to_string()
    };
    println!("priority: {priority}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, run_all(&args));
}

/// The paced line spins while bytes are due; on a loaded host the scheduler's time slices
/// then stall whole round trips. Ask for a higher priority (best effort: needs root or
/// CAP_SYS_NICE) so the measurement is of the driver, not of the neighbours.
fn renice() -> String {
    let pid = std::process::id().to_string();
    let ok = std::process::Command::new("renice")
        .args(["-n", "-10", "-p", &pid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        "nice -10 (renice)".into()
    } else {
        "unchanged (renice refused)".into()
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs (nproc), {model}")
}

/// The UC8088 line's length by the driver's own count (the bound's N_tx).
fn uc8088_n_tx(payload: &[u8]) -> usize {
    Publish::new(TOPIC, payload, Qos::AtMostOnce, false)
        .expect("valid")
        .encoded_len()
}

/// A segment that may not exist.
fn opt(us: f64) -> String {
    if us.is_nan() {
        "-".into()
    } else {
        format!("{us:.1}")
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISS" }
}

/// Mean (driver, baseline) ratio to the bound, per dialect, at one point.
type Ratios = Vec<(f64, f64)>;

/// The throughput results of one dialect at one point.
struct PublishPoint {
    kind: Kind,
    script: Script,
    bound: f64,
    driver: Run,
    baseline: Run,
}

#[allow(clippy::too_many_lines)]
async fn run_all(args: &Args) {
    let _ = embassy_time::Instant::now(); // start embassy-time's clock thread up front
    let quick = args.quick;
    let kinds: Vec<Kind> = args.dialect.map_or(Kind::ALL.to_vec(), |k| vec![k]);
    let per_point = Duration::from_secs(if quick { 1 } else { 5 });
    let rounds: u32 = if quick { 2 } else { 5 };
    let line = |s: String| {
        println!("{s}");
    };
    line(format!(
        "mqtt-modem perf ({} run) on {}; load average at start {}",
        if quick { "quick" } else { "full" },
        machine(),
        loadavg()
    ));
    line(format!(
        "dialects: {}",
        kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    // 0. The pipe itself.
    line(String::new());
    line("== pipe check: raw transfer, both directions at once ==".into());
    let check_bytes = if quick { 20_000 } else { 100_000 };
    for baud in BAUDS {
        let r = throughput::pipe_check(baud, check_bytes).await;
        line(format!(
            "{baud:>7} baud  {check_bytes} B each way  achieved/nominal {r:.5}  (need >= 0.999) {}",
            mark(r >= 0.999)
        ));
    }
    for baud in BAUDS {
        let (p50, p99) =
            throughput::pipe_turnaround(baud, 60, if quick { 200 } else { 1000 }).await;
        line(format!(
            "{baud:>7} baud  turnaround (60 B out, 6 B back) beyond line time: median {p50:.1} us, p99 {p99:.1} us"
        ));
    }

    // 1. Publish throughput: every dialect's driver and baseline interleaved at each point.
    line(String::new());
    line(format!(
        "== publish throughput: QoS 0, 16-byte topic, {} s per point and dialect ({rounds} slices each; all dialects' driver and baseline runs interleaved) ==",
        per_point.as_secs()
    ));
    line("(tx = line + payload after the prompt, rx = prompt + result: bytes per publish each way in the dialect's own bytes;".into());
    line(" bound = baud / 10 / (tx + rx); ratio = mean rate / bound; med = 1 / median op time / bound; +us = median op time beyond line time)".into());
    line(format!(
        "{:<8} {:>7} {:>7} {:>5} {:>3} {:>8} | {:>8} {:>6} {:>6} {:>6} | {:>8} {:>6} {:>6} {:>6} | {:>4}",
        "dialect",
        "baud",
        "payload",
        "tx",
        "rx",
        "bound/s",
        "driver/s",
        "ratio",
        "med",
        "+us",
        "base/s",
        "ratio",
        "med",
        "+us",
        "goal"
    ));
    let mut chart_series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut summary: Vec<(u32, usize, Ratios)> = Vec::new();
    for baud in BAUDS {
        let mut drv_pts = Vec::new();
        let mut base_pts = Vec::new();
        for size in PAYLOADS {
            let p = payload(size);
            let mut points: Vec<PublishPoint> = kinds
                .iter()
                .map(|&kind| {
                    let script = kind.publish(TOPIC, &p);
                    if kind == Kind::Uc8088 {
                        assert_eq!(script.tx(), uc8088_n_tx(&p), "UC8088 line length");
                    }
                    PublishPoint {
                        kind,
                        bound: script.bound(baud),
                        script,
                        driver: Run::default(),
                        baseline: Run::default(),
                    }
                })
                .collect();
            let slice = per_point / rounds;
            for _ in 0..rounds {
                for pt in &mut points {
                    pt.driver
                        .add(throughput::publish_driver(pt.kind, baud, &p, slice).await);
                    pt.baseline
                        .add(throughput::publish_baseline(pt.kind, baud, &p, slice).await);
                }
            }
            let mut row = Vec::new();
            for pt in &points {
                let (d, b, bound) = (&pt.driver, &pt.baseline, pt.bound);
                let (rd, rb) = (d.rate() / bound, b.rate() / bound);
                let (md, mb) = (1.0 / d.median() / bound, 1.0 / b.median() / bound);
                let (xd, xb) = (
                    (d.median() - 1.0 / bound) * 1e6,
                    (b.median() - 1.0 / bound) * 1e6,
                );
                if pt.kind == Kind::Uc8088 {
                    drv_pts.push((size as f64, rd));
                    base_pts.push((size as f64, rb));
                }
                row.push((rd, rb));
                line(format!(
                    "{:<8} {baud:>7} {size:>7} {:>5} {:>3} {bound:>8.1} | {:>8.1} {rd:>6.3} {md:>6.3} {xd:>6.1} | {:>8.1} {rb:>6.3} {mb:>6.3} {xb:>6.1} | {:>4}",
                    pt.kind.name(),
                    pt.script.tx(),
                    pt.script.rx(),
                    d.rate(),
                    b.rate(),
                    mark(rd >= GOAL_THROUGHPUT)
                ));
            }
            summary.push((baud, size, row));
        }
        if kinds.contains(&Kind::Uc8088) {
            chart_series.push((format!("driver {baud}"), drv_pts));
            chart_series.push((format!("baseline {baud}"), base_pts));
        }
    }

    line(String::new());
    line(
        "== publish: mean ratio to each dialect's own line-rate bound, driver / baseline ==".into(),
    );
    let mut head = format!("{:>7} {:>7}", "baud", "payload");
    for k in &kinds {
        head.push_str(&format!(" | {:>7} {:>8}", k.name(), "baseline"));
    }
    line(head);
    for (baud, size, row) in &summary {
        let mut l = format!("{baud:>7} {size:>7}");
        for (rd, rb) in row {
            l.push_str(&format!(" | {rd:>7.3} {rb:>8.3}"));
        }
        line(l);
    }

    line(String::new());
    line("== where a publish round trip goes (921600 baud; median us per op) ==".into());
    line(format!(
        "{:<8} {:<9} {:>7} {:>9} {:>7} {:>9} {:>10} {:>10} {:>10} {:>7} {:>7}",
        "dialect",
        "",
        "payload",
        "line out",
        "prompt",
        "data out",
        "answer in",
        "hand-over",
        "next line",
        "reads",
        "writes"
    ));
    for &kind in &kinds {
        for size in [16, 1024] {
            for (name, driver) in [("driver", true), ("baseline", false)] {
                let p = payload(size);
                let b = trace::publish(kind, 921_600, &p, per_point / 2, driver).await;
                line(format!(
                    "{:<8} {name:<9} {size:>7} {:>9.1} {:>7} {:>9} {:>10.1} {:>10.1} {:>10.1} {:>7.1} {:>7.1}",
                    kind.name(),
                    b.out_us,
                    opt(b.prompt_us),
                    opt(b.data_us),
                    b.answer_us,
                    b.handover_us,
                    b.restart_us,
                    b.reads,
                    b.writes
                ));
            }
        }
    }
    line("(line out: first write -> its flush done; prompt: -> the payload's first write; data out: -> last flush done; answer in: -> last read; hand-over: last read -> call returns; next line: return -> next write)".into());

    // 2. Incoming throughput.
    line(String::new());
    line(format!(
        "== incoming throughput: each dialect's message URC back to back at line rate, ~{} s per point and dialect (no baseline in any dialect) ==",
        per_point.as_secs()
    ));
    line(format!(
        "{:<8} {:>7} {:>7} {:>5} {:>9} {:>9} {:>7} {:>6} {:>6} {:>5} {:>14} {:>5}",
        "dialect",
        "baud",
        "payload",
        "URC",
        "bound/s",
        "recv/s",
        "ratio",
        "sent",
        "recvd",
        "lost",
        "stats.dropped",
        "goal"
    ));
    for baud in BAUDS {
        let mut pts = Vec::new();
        for size in PAYLOADS {
            let p = payload(size);
            for &kind in &kinds {
                let r = throughput::incoming(kind, baud, &p, per_point).await;
                let bound = f64::from(baud) / 10.0 / r.urc_len as f64;
                let ratio = r.rate() / bound;
                let lost = r.sent - r.received;
                let s = r.stats;
                let dropped = s.dropped_queue_full + s.dropped_broken + s.dropped_oversized;
                if kind == Kind::Uc8088 {
                    pts.push((size as f64, ratio));
                }
                line(format!(
                    "{:<8} {baud:>7} {size:>7} {:>5} {bound:>9.1} {:>9.1} {ratio:>7.3} {:>6} {:>6} {lost:>5} {dropped:>14} {:>5}",
                    kind.name(),
                    r.urc_len,
                    r.rate(),
                    r.sent,
                    r.received,
                    mark(ratio >= GOAL_THROUGHPUT && lost == 0 && r.corrupted == 0)
                ));
                if r.corrupted > 0 || r.dropped_events > 0 {
                    line(format!(
                        "         corrupted {}  Event::Dropped {}  stats {:?}",
                        r.corrupted, r.dropped_events, s
                    ));
                }
            }
        }
        if kinds.contains(&Kind::Uc8088) {
            chart_series.push((format!("incoming {baud}"), pts));
        }
    }

    // 3. CPU per command.
    line(String::new());
    line("== CPU per command (host, no I/O; median of interleaved batches) ==".into());
    line(format!(
        "{:<8} {:<34} {:>10} {:>12} {:>7} {:>5}",
        "dialect", "operation", "driver ns", "baseline ns", "ratio", "goal"
    ));
    let (batches, batch) = if quick { (7, 20_000) } else { (21, 100_000) };
    for &kind in &kinds {
        for (op, name) in [
            (Op::Publish, "publish: encode + digest answer"),
            (Op::Incoming, "incoming: digest message URC"),
            (Op::IncomingChunked(16), "incoming, 16-byte reads"),
        ] {
            for size in [64usize, 1024] {
                let p = payload(size);
                let (d, b) = cpu::measure(
                    kind,
                    op,
                    TOPIC,
                    &p,
                    batches,
                    batch / (size as u64 / 64).max(1),
                );
                line(format!(
                    "{:<8} {:<34} {d:>10.1} {b:>12.1} {:>7.2} {:>5}",
                    kind.name(),
                    format!("{name}, {size} B"),
                    d / b,
                    mark(d / b <= GOAL_CPU)
                ));
            }
        }
    }
    line("(instructions/op: bash tools/perf/callgrind.sh)".into());

    // 4. Memory.
    line(String::new());
    line("== memory at default sizes (Resources<1152, 256, 2048>) ==".into());
    let m = memory::measure(Kind::Uc8088);
    line(format!(
        "Resources                                  {:>6} B",
        m.resources
    ));
    line(format!(
        "  application-sized: ingress + event queue {:>6} B ({} + {})",
        memory::INGRESS + memory::EVENTS,
        memory::INGRESS,
        memory::EVENTS
    ));
    line(format!(
        "64-byte messages the event queue holds     {:>6}",
        m.queued_64
    ));
    line(format!(
        "largest publish payload (streamed)         {:>6} B",
        m.max_publish
    ));
    line(format!(
        "{:<8} {:>26} {:>14} {:>24} {:>16}",
        "dialect",
        "MqttModem / Runner / Events",
        "driver static",
        "publish() / run() future",
        "largest incoming"
    ));
    for &kind in &kinds {
        let m = memory::measure(kind);
        line(format!(
            "{:<8} {:>26} {:>9} B {:>4} {:>24} {:>14} B",
            kind.name(),
            format!("{} / {} / {} B", m.client, m.runner, m.events),
            m.driver_static,
            mark(m.driver_static <= 2048),
            format!("{} / {} B", m.publish_future, m.runner_future),
            m.max_incoming,
        ));
    }
    line(format!(
        "(driver static: Resources + MqttModem + Runner + Events without the UART halves and the application-sized buffers, goal <= 2048; largest incoming: 16-byte topic, ingress {}; the event queue alone would take {})",
        memory::INGRESS,
        m.max_queued
    ));

    line(format!("load average at end {}", loadavg()));

    // The chart stays the UC8088's (driver and baseline per baud, incoming).
    if args.chart && !quick && kinds.contains(&Kind::Uc8088) {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/throughput.svg"
        ));
        let colors = [
            RGBColor(31, 119, 180),
            RGBColor(31, 119, 180),
            RGBColor(214, 39, 40),
            RGBColor(214, 39, 40),
            RGBColor(44, 160, 44),
            RGBColor(148, 103, 189),
        ];
        let series: Vec<chart::Series> = chart_series
            .into_iter()
            .zip(colors)
            .map(|((label, points), color)| chart::Series {
                dashed: label.starts_with("baseline"),
                label,
                points,
                color,
            })
            .collect();
        let series: Vec<chart::Series> = {
            // Same colour per baud: driver solid, baseline thin.
            let mut s = series;
            s[1].color = RGBColor(120, 170, 220);
            s[3].color = RGBColor(240, 140, 140);
            s
        };
        match chart::draw(
            path,
            &format!("mqtt-modem throughput vs 8N1 line rate — {}", machine()),
            &series,
        ) {
            Ok(()) => line(format!(
                "chart: {}",
                path.canonicalize().unwrap_or(path.into()).display()
            )),
            Err(e) => line(format!("chart not written: {e}")),
        }
    }
}
