//! A `no_std`, allocation-free, async driver for MQTT through a module's own AT commands, built
//! on [`atat`]: one typed API over UCchip's UC8088 (`AT+MQTT*`, the default), Espressif's ESP-AT
//! ([`EspAt`]) and Quectel's QMT ([`Quectel`]) command sets, chosen at compile time
//! ([`Dialect`], [`MqttModem::with_dialect`]).
//!
//! # Data flow
//! [`MqttModem::new`] splits the UART in two. The [`Runner`] owns the receive half: it reads
//! into the ingress buffer, and its digester ([`digest`]) sorts the bytes into command answers,
//! which go to the response slot, and unsolicited messages, which go to the event queue read
//! through [`Events`]. The [`MqttModem`] owns the transmit half: each call validates its
//! inputs, streams one command line from the caller's slices, and waits for its answer with an
//! `embassy-time` deadline; a call that is several commands in a dialect (ESP-AT's configure,
//! Quectel's connect) sends them in order. All memory lives in one [`Resources`] the
//! application provides.
//!
//! ```ignore
//! static RES: StaticCell<Resources> = StaticCell::new();
//! let (mut modem, runner, mut events) =
//!     MqttModem::new(RES.init(Resources::new()), rx, tx, Options::default());
//! spawner.spawn(modem_runner(runner));
//! modem.init().await?;
//! modem.configure(&Config::new("broker.example", 1883, "dev-1")).await?;
//! modem.connect().await?;
//! modem.subscribe("cmd/dev-1", Qos::AtLeastOnce).await?;
//! modem.publish("tele/dev-1", br#"{"t":21.5}"#, Qos::AtMostOnce, false).await?;
//! let mut buf = [0; 512];
//! if let Event::Message(m) = events.next(&mut buf).await { /* m.topic, m.payload */ }
//! ```
//!
//! # Features
//! - `defmt`: derives `defmt::Format` on every public type and logs through `defmt`.
//! - `log`: logs through the `log` crate (secrets are never logged).
//!
//! Enable one or neither, not both (atat allows only one). Neither is on by default; the driver
//! logs nothing without them.
//!
//! # Stability
//! Enums and structs that will grow as dialects are added are `#[non_exhaustive]`. The
//! digester is public only so that the crate's tests, fuzz targets and benchmarks can drive
//! it; it is hidden from this documentation and carries no semver guarantee.
#![no_std]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::module_name_repetitions,
    clippy::missing_errors_doc,
    clippy::cast_possible_truncation,
    clippy::must_use_candidate,
    clippy::missing_panics_doc,
    clippy::doc_markdown,
    clippy::large_types_passed_by_value
)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("mqtt-modem: enable the `defmt` or the `log` feature, not both");

mod fmt;

mod client;
pub mod command;
pub mod dialect;
#[doc(hidden)]
pub mod digest;
mod encode;
mod error;
mod events;
mod exchange;
mod grammar;
mod identity;
mod mqtt;
mod parse;
mod resources;
mod runner;
mod supervisor;

pub use client::MqttModem;
pub use dialect::Dialect;
pub use dialect::esp_at::EspAt;
pub use dialect::quectel::Quectel;
pub use dialect::uc8088::Uc8088;
pub use dialect::uc8088::types::MqttCode;
pub use encode::CertEncoding;
pub use error::{Detail, Error, ErrorKind, Feature, Field, Invalid};
pub use events::{Event, Events, Message};
pub use exchange::Options;
pub use identity::{Identification, Identity};
pub use mqtt::{Config, ConnectionState, MAX_PAYLOAD_LEN, MqttVersion, Qos, Quoting, Tls, Will};
pub use resources::{LinkHint, Resources, Stats};
pub use runner::Runner;
pub use supervisor::{LinkEvent, LossReason, ModemReset, NoReset, Policy, ResetPin, Supervisor};
