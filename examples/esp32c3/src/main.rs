//! MQTT over a UC8088 modem on an ESP32-C3: see README.md for wiring and flashing.
//!
//! UART1 at 115200 8N1: GPIO6 = TX (to the modem's RXD), GPIO7 = RX (from the modem's TXD).
//! GPIO10 drives the modem's reset line (active low), GPIO3 a status LED (active high).
//! Logs go to the console (USB-Serial-JTAG or UART0, whichever is connected) through
//! `esp-println`; UART0's pins (GPIO20/21) are left to the board's USB bridge.
//!
//! With the `bare-uart` feature the driver is left out and the UART just echoes what it
//! receives: the baseline of `scripts/footprint.sh`. With `driver-only` it makes each driver
//! call once in a plain loop, without the application's logic (the driver's own cost).

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use esp_backtrace as _;
use esp_hal::Async;
use esp_hal::gpio::{Level, Output, OutputConfig};
use esp_hal::timer::timg::TimerGroup;
#[cfg(feature = "bare-uart")]
use esp_hal::uart::UartTx;
use esp_hal::uart::{Config as UartConfig, Uart, UartRx};

esp_bootloader_esp_idf::esp_app_desc!();

// Logging for the shared application (defined before `mod app` so that it sees them).
#[allow(unused_macros)]
macro_rules! info { ($($t:tt)*) => { ::log::info!($($t)*) }; }
#[allow(unused_macros)]
macro_rules! warn { ($($t:tt)*) => { ::log::warn!($($t)*) }; }
#[allow(unused_macros)]
macro_rules! debug { ($($t:tt)*) => { ::log::debug!($($t)*) }; }

#[cfg(not(feature = "bare-uart"))]
#[path = "../../common/app.rs"]
mod app;

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
        use mqtt_modem::{MqttModem, Options};
        use static_cell::StaticCell;

        static RESOURCES: StaticCell<app::ModemResources> = StaticCell::new();
        let (mut modem, runner, events) = MqttModem::new(
            RESOURCES.init(app::ModemResources::new()),
            rx,
            tx,
            Options::default(),
        );
        spawner.spawn(modem_runner(runner).expect("runner task"));
        spawner.spawn(modem_events(events).expect("events task"));
        #[cfg(feature = "driver-only")]
        {
            let _ = (reset, led);
            app::run_driver_only(&mut modem).await
        }
        #[cfg(not(feature = "driver-only"))]
        let board = app::Board {
            reset: Some(reset),
            led,
            led_active_low: false,
            delay: embassy_time::Delay,
        };
        #[cfg(not(feature = "driver-only"))]
        app::run(&mut modem, board).await
    }

    #[cfg(feature = "bare-uart")]
    {
        let _ = (spawner, reset, led);
        bare_echo(rx, tx).await
    }
}

#[cfg(not(feature = "bare-uart"))]
#[embassy_executor::task]
async fn modem_runner(
    runner: mqtt_modem::Runner<'static, UartRx<'static, Async>, { app::RESPONSE }, { app::EVENTS }>,
) -> ! {
    runner.run().await
}

#[cfg(not(feature = "bare-uart"))]
#[embassy_executor::task]
async fn modem_events(events: mqtt_modem::Events<'static, { app::EVENTS }>) -> ! {
    #[cfg(feature = "driver-only")]
    app::drain_events(events).await;
    #[cfg(not(feature = "driver-only"))]
    app::pump_events(events).await
}

/// The footprint baseline: the same HAL, executor and logger, echoing UART bytes.
#[cfg(feature = "bare-uart")]
async fn bare_echo(mut rx: UartRx<'static, Async>, mut tx: UartTx<'static, Async>) -> ! {
    // esp-hal's inherent blocking `read`/`flush` shadow the async traits: call them by path.
    let mut buf = [0u8; 64];
    loop {
        match embedded_io_async::Read::read(&mut rx, &mut buf).await {
            Ok(n) => {
                if embedded_io_async::Write::write_all(&mut tx, &buf[..n])
                    .await
                    .is_err()
                {
                    warn!("UART write error");
                }
            }
            Err(e) => warn!("UART read error {:?}", e),
        }
    }
}
