//! A simulated UCchip UC8088 GPRS modem for end-to-end tests of the `mqtt-modem` driver.
//!
//! The simulator sits on a real pseudo-terminal, speaks the AT+MQTT dialect described in
//! `docs/DIALECTS.md` (UC8088) and is a real MQTT client (rumqttc, rustls with `ring`) of a real broker.
//! It parses AT text on its own and deliberately does not depend on the driver crate, so that
//! tests catch the driver's encoder bugs instead of sharing them.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = modem_sim::Sim::start(modem_sim::SimOptions::default()).await?;
//! println!("modem on {}", sim.device_path().display());
//! sim.set_latency(std::time::Duration::from_millis(20)); // a fault knob
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod at;
pub mod broker;
mod modem;
mod sim;

pub use broker::TlsMaterial;
pub use modem::{BOOT_BANNER, Ident, REVISION, recv_urc};
pub use sim::{Dir, MAX_LINE, Sim, SimHandle, SimOptions, Traffic};
