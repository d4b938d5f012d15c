//! MQTT over a UC8088 modem on an nRF52840 (nRF52840-DK): see README.md for wiring and
//! flashing.
//!
//! UARTE1 at 115200 8N1 through `BufferedUarte` (TIMER1, PPI channels 0 and 1, PPI group 0):
//! P1.02 = TX (to the modem's RXD), P1.01 = RX (from the modem's TXD). P1.03 drives the
//! modem's reset line (active low); LED1 (P0.13, active low) is the status LED. Logs go out
//! through defmt over RTT. `embassy-time` runs on RTC1.
//!
//! With the `bare-uart` feature the driver is left out and the UART just echoes what it
//! receives (`common/bare.rs`): the baseline of `scripts/footprint.sh`. With `driver-only` it
//! runs the product's loop with the application logic compiled out (the driver's own cost).

#![no_std]
#![no_main]

use embassy_executor::Spawner;
#[cfg(not(feature = "bare-uart"))]
use embassy_nrf::buffered_uarte::BufferedUarteRx;
use embassy_nrf::buffered_uarte::{self, BufferedUarte};
use embassy_nrf::gpio::{Level, Output, OutputDrive};
use embassy_nrf::{bind_interrupts, peripherals, uarte};
use static_cell::ConstStaticCell;
use {defmt_rtt as _, panic_probe as _};

// Logging for the shared code (defined before `mod app`/`mod bare` so that they see them).
#[allow(unused_macros)]
macro_rules! info { ($($t:tt)*) => { ::defmt::info!($($t)*) }; }
#[allow(unused_macros)]
macro_rules! warn { ($($t:tt)*) => { ::defmt::warn!($($t)*) }; }
#[allow(unused_macros)]
macro_rules! debug { ($($t:tt)*) => { ::defmt::debug!($($t)*) }; }

#[cfg(not(feature = "bare-uart"))]
#[path = "../../common/app.rs"]
mod app;
#[cfg(feature = "bare-uart")]
#[path = "../../common/bare.rs"]
mod bare;

bind_interrupts!(struct Irqs {
    UARTE1 => buffered_uarte::InterruptHandler<peripherals::UARTE1>;
});

/// BufferedUarte's own ring buffers (the receive one must have an even length). The driver's
/// ingress buffer comes after it, so 256 bytes is enough at 115200 baud.
static UART_RX_BUF: ConstStaticCell<[u8; 256]> = ConstStaticCell::new([0; 256]);
static UART_TX_BUF: ConstStaticCell<[u8; 256]> = ConstStaticCell::new([0; 256]);

#[embassy_executor::main]
async fn main(spawner: Spawner) -> ! {
    let p = embassy_nrf::init(Default::default());

    let mut config = uarte::Config::default();
    config.baudrate = uarte::Baudrate::Baud115200;
    config.parity = uarte::Parity::Excluded;
    // 0.11 order: peripheral, timer, PPI ch1, PPI ch2, PPI group, RXD, TXD, irqs, config, bufs.
    let uart = BufferedUarte::new(
        p.UARTE1,
        p.TIMER1,
        p.PPI_CH0,
        p.PPI_CH1,
        p.PPI_GROUP0,
        p.P1_01,
        p.P1_02,
        Irqs,
        config,
        UART_RX_BUF.take(),
        UART_TX_BUF.take(),
    );
    let (rx, tx) = uart.split();
    // Idle high: the modem is out of reset.
    let reset = Output::new(p.P1_03, Level::High, OutputDrive::Standard);
    // LED1 on the DK is active low: start it off.
    let led = Output::new(p.P0_13, Level::High, OutputDrive::Standard);
    defmt::info!("UARTE1 up at 115200 baud");

    #[cfg(not(feature = "bare-uart"))]
    {
        let led = app::Led {
            pin: led,
            active_low: true,
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
async fn modem_runner(runner: app::ModemRunner<BufferedUarteRx<'static>>) -> ! {
    runner.run().await
}
