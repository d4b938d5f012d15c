//! A `no_std`, allocation-free, async driver for MQTT through a module's own AT commands, built
//! on [`atat`]: one typed API over UCchip's UC8088 (`AT+MQTT*`, the default), Espressif's ESP-AT
//! ([`EspAt`]) and Quectel's QMT ([`Quectel`]) command sets, chosen at compile time
//! ([`Dialect`], [`MqttModem::with_dialect`]).
//!
//! # Layers
//! Data flows one way: UART → digester → response slot or event queue → client.
//! - [`Runner`] (the receive half) reads the UART into the ingress buffer; its digester sorts
//!   the bytes, by the dialect's grammar, into answers to the command in flight, which move the
//!   response slot on, and unsolicited output, which becomes an [`Event`] in the queue read
//!   through [`Events`].
//! - [`MqttModem`] (the transmit half) checks each call's inputs and runs the dialect's
//!   commands for it through the exchange, which writes one command at a time (its data after
//!   a `>` prompt), waits for its result or completion line under an `embassy-time` deadline,
//!   and re-synchronises after a command that did not complete. A call that is several
//!   commands in a dialect (ESP-AT's configure, Quectel's connect) sends them in order.
//! - A [`Dialect`] (zero-sized, sealed) supplies its commands, its grammar and its reading of
//!   failures; the core knows no module's codes. Every failure has an [`ErrorKind`] that means
//!   the same in every dialect.
//! - [`Supervisor`] keeps the link up from [`LinkEvent`]s and error kinds.
//! - All memory lives in one [`Resources`] the application provides.
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
//! Enums and structs that will grow as dialects are added are `#[non_exhaustive]`. The command
//! structs, the dialects' internals and the digester are private; the `_internal` feature
//! makes them public for the crate's own tests, fuzz targets, benchmarks and simulator only,
//! hidden from this documentation and with no semver guarantee.
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

/// Declares modules that are public only with the `_internal` feature (for the crate's own
/// tests, fuzz targets, benchmarks and simulator), private otherwise.
macro_rules! internal {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "_internal")]
        #[doc(hidden)]
        pub mod $name;
        #[cfg(not(feature = "_internal"))]
        #[allow(dead_code)]
        mod $name;
    )*};
}

mod client;
internal!(command, dialect, digest);
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
pub use dialect::uc8088::responses::{StoredConfig, Subscription, Subscriptions};
pub use dialect::uc8088::types::MqttCode;
pub use encode::{CertEncoding, Quoting};
pub use error::{Detail, Error, ErrorKind, Feature, Field, Invalid};
pub use events::{Event, Events, Message};
pub use exchange::Options;
pub use identity::{Identification, Identity};
pub use mqtt::{Config, ConnectionState, MAX_PAYLOAD_LEN, MqttVersion, Qos, Tls, Will};
pub use resources::{LinkHint, Resources, Stats};
pub use runner::Runner;
pub use supervisor::{LinkEvent, LossReason, ModemReset, NoReset, Policy, ResetPin, Supervisor};
