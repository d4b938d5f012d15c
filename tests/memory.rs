//! Memory: the size of every piece of driver state at the default buffer sizes. Prints the
//! figures (`cargo test --test memory -- --nocapture`) and holds them to the budget.

mod common;

use common::MockUart;
use mqtt_modem::{Dialect, EspAt, Events, MqttModem, Quectel, Resources, Runner, Uc8088};

#[test]
fn static_ram_at_default_sizes() {
    let resources = size_of::<Resources>();
    let client = size_of::<MqttModem<'static, MockUart>>() - size_of::<MockUart>();
    let runner = size_of::<Runner<'static, MockUart>>() - size_of::<MockUart>();
    let events = size_of::<Events<'static, 2048>>();
    // The application sizes these two: the ingress buffer (largest incoming message) and the
    // event queue (how many messages may wait).
    let app_sized = 1152 + 2048;
    let driver = resources - app_sized + client + runner + events;
    println!("Resources<1152, 256, 2048>: {resources} B");
    println!("  of which ingress buffer 1152 B and event queue 2048 B (application-sized)");
    println!("MqttModem (without the UART half): {client} B");
    println!("Runner (without the UART half): {runner} B");
    println!("Events: {events} B");
    println!("driver state besides application-sized buffers: {driver} B");
    assert!(driver <= 2048, "driver state {driver} B exceeds 2 KiB");
}

/// The driver's state besides the application-sized buffers, per dialect.
fn driver_state<D: Dialect>() -> usize {
    let client = size_of::<MqttModem<'static, MockUart, D>>() - size_of::<MockUart>();
    let runner = size_of::<Runner<'static, MockUart, D>>() - size_of::<MockUart>();
    size_of::<Resources>() - (1152 + 2048) + client + runner + size_of::<Events<'static, 2048>>()
}

/// What the README says: under 1.5 KiB in every dialect (ESP-AT keeps the broker's host and
/// its TLS server name and ALPN protocols for `configure`).
#[test]
fn driver_state_under_1_5_kib_in_every_dialect() {
    for (name, bytes) in [
        ("UC8088", driver_state::<Uc8088>()),
        ("ESP-AT", driver_state::<EspAt>()),
        ("Quectel", driver_state::<Quectel>()),
    ] {
        println!("{name}: driver state besides application-sized buffers: {bytes} B");
        assert!(bytes < 1536, "{name}: {bytes} B");
    }
}
