//! A simulated modem for end-to-end tests of the `mqtt-modem` driver.
//!
//! The simulator sits on a real pseudo-terminal, speaks one of the AT+MQTT dialects described in
//! `docs/DIALECTS.md` ([`Dialect`]: UCchip UC8088 by default, Espressif ESP-AT, Quectel QMT)
//! and is a real MQTT client (rumqttc, rustls with `ring`) of a real broker. It parses AT text
//! on its own and deliberately does not depend on the driver crate, so that tests catch the
//! driver's encoder bugs instead of sharing them.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = modem_sim::Sim::start(modem_sim::SimOptions::default()).await?;
//! println!("modem on {}", sim.device_path().display());
//! sim.set_latency(std::time::Duration::from_millis(20)); // a fault knob
//! let quectel = modem_sim::Sim::start(modem_sim::SimOptions {
//!     dialect: modem_sim::Dialect::Quectel,
//!     ..Default::default()
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod at;
pub mod broker;
pub mod dialect;
mod framer;
mod modem;
mod sim;

pub use broker::TlsMaterial;
pub use dialect::Dialect;
pub use dialect::uc8088::{BOOT_BANNER, Ident, REVISION, recv_urc};
pub use sim::{Dir, MAX_LINE, Sim, SimHandle, SimOptions, Traffic};
