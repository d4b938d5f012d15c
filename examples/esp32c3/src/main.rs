//! MQTT over a UC8088 modem on an ESP32-C3: see README.md for wiring and flashing.
//!
//! UART1 at 115200 8N1: GPIO6 = TX (to the modem's RXD), GPIO7 = RX (from the modem's TXD).
//! GPIO10 drives the modem's reset line (active low), GPIO3 a status LED (active high).
//! Logs go to the console (USB-Serial-JTAG or UART0, whichever is connected) through
//! `esp-println`; UART0's pins (GPIO20/21) are left to the board's USB bridge.
//!
//! With the `bare-uart` feature the driver is left out and the UART just echoes what it
//! receives (`common/bare.rs`): the baseline of `scripts/footprint.sh`. With `driver-only` it
//! runs the product's loop with the application logic compiled out (the driver's own cost).

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use esp_backtrace as _;
use esp_hal::gpio::{Level, Output, OutputConfig};
use esp_hal::timer::timg::TimerGroup;
use esp_hal::uart::{Config as UartConfig, Uart};
#[cfg(not(feature = "bare-uart"))]
use esp_hal::{Async, uart::UartRx};

esp_bootloader_esp_idf::esp_app_desc!();

// Logging for the shared code (defined before `mod app`/`mod bare` so that they see them).
#[allow(unused_macros)]
macro_rules! info { ($($t:tt)*) => { ::log::info!($($t)*) }; }
#[allow(unused_macros)]
macro_rules! warn { ($($t:tt)*) => { ::log::warn!($($t)*) }; }
#[allow(unused_macros)]
macro_rules! debug { ($($t:tt)*) => { ::log::debug!($($t)*) }; }

#[cfg(not(feature = "bare-uart"))]
#[path = "../../common/app.rs"]
mod app;
#[cfg(feature = "bare-uart")]
#[path = "../../common/bare.rs"]
mod bare;

const BAUD: u32 = 115_200;

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    esp_println::logger::init_logger(log::LevelFilter::Info);
    let p = esp_hal::init(esp_hal::Config::default());

    let timg0 = TimerGroup::new(p.TIMG0);
    esp_rtos::start(timg0.timer0, p.FROM_CPU_INTR0);

    let uart = Uart::new(p.UART1, UartConfig::default().with_baudrate(BAUD))
        .expect("UART1 config")
        .with_rx(p.GPIO7)
        .with_tx(p.GPIO6)
        .into_async();
    let (rx, tx) = uart.split();
    // Idle high: the modem is out of reset.
    let reset = Output::new(p.GPIO10, Level::High, OutputConfig::default());
    let led = Output::new(p.GPIO3, Level::Low, OutputConfig::default());
    log::info!("UART1 up at {} baud", BAUD);

    #[cfg(not(feature = "bare-uart"))]
    {
        let led = app::Led {
            pin: led,
            active_low: false,
        };
        app::start(rx, tx, app::reset_pin(reset), led, |runner| {
            spawner.spawn(modem_runner(runner).expect("runner task"))
        })
        .await
    }

    #[cfg(feature = "bare-uart")]
    {
        let _ = (spawner, reset, led);
        bare::echo(rx, tx).await
    }
}

#[cfg(not(feature = "bare-uart"))]
#[embassy_executor::task]
async fn modem_runner(runner: app::ModemRunner<UartRx<'static, Async>>) -> ! {
    runner.run().await
}
