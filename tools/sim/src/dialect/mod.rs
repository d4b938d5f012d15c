//! The dialects the simulated modem speaks, one module each, over the shared engine
//! ([`crate::modem`]: line reader, broker link, knobs, writer).
//!
//! A dialect is a [`Personality`]: how its command lines end, its boot banner, and how it
//! answers a command line, a prompted command's raw data and a broker event. Adding one is a
//! new module here, a [`Dialect`] variant and one arm in [`crate::Sim::start`].

use std::future::Future;

use crate::framer::Terminator;
use crate::modem::{Core, Note};

pub mod esp_at;
pub mod quectel;
pub(crate) mod uc8088;

pub use uc8088::Ident;

/// Which AT command set the simulator speaks, chosen at start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// UCchip UC8088 `AT+MQTT*` (docs/DIALECTS.md, "UCchip UC8088").
    #[default]
    Uc8088,
    /// Espressif ESP-AT `AT+MQTT*` with link id 0 (docs/DIALECTS.md, "ESP-AT").
    EspAt,
    /// Quectel `AT+QMT*` with client index 0 (docs/DIALECTS.md, "Quectel QMT").
    Quectel,
}

impl Dialect {
    /// The bytes the modem prints when it has (re)booted.
    pub fn boot_banner(self) -> &'static [u8] {
        match self {
            Dialect::Uc8088 => uc8088::BOOT_BANNER,
            Dialect::EspAt => esp_at::BOOT_BANNER,
            Dialect::Quectel => quectel::BOOT_BANNER,
        }
    }

    /// The name `--dialect` takes.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Uc8088 => "uc8088",
            Dialect::EspAt => "esp-at",
            Dialect::Quectel => "quectel",
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "uc8088" => Ok(Dialect::Uc8088),
            "esp-at" | "espat" | "esp_at" => Ok(Dialect::EspAt),
            "quectel" => Ok(Dialect::Quectel),
            _ => Err(format!("{s:?}: expected uc8088, esp-at or quectel")),
        }
    }
}

/// One dialect's executor: its state and how it answers.
pub(crate) trait Personality: Send + Sized + 'static {
    /// How a command line ends.
    const TERMINATOR: Terminator;
    /// Printed after a reboot.
    const BANNER: &'static [u8];

    /// The state right after power-on.
    fn boot(ident: Ident) -> Self;

    /// A power cycle: back to [`Personality::boot`], keeping what the module holds in flash.
    fn reboot(&mut self, ident: Ident) {
        *self = Self::boot(ident);
    }

    /// Whether command lines are echoed.
    fn echo(&self) -> bool;

    /// Answer one command line (echo, latency and silence are already handled). Returns
    /// `Some(len)` when the command printed a prompt and now waits for `len` raw bytes.
    fn on_line(
        &mut self,
        core: &mut Core,
        line: Vec<u8>,
    ) -> impl Future<Output = Option<usize>> + Send;

    /// The raw bytes a prompted command asked for have all arrived.
    fn on_raw(&mut self, core: &mut Core, data: Vec<u8>) -> impl Future<Output = ()> + Send;

    /// The URC that tells the host about a broker event, if any.
    fn urc(&mut self, note: Note) -> Option<Vec<u8>> {
        match note {
            Note::Message(p) => Some(self.message_urc(p.topic.as_bytes(), &p.payload, p.pkid)),
            Note::Lost => self.lost_urc(),
        }
    }

    /// The incoming-message URC (`msgid` is the PUBLISH packet id, 0 for QoS 0).
    fn message_urc(&self, topic: &[u8], payload: &[u8], msgid: u16) -> Vec<u8>;

    /// What the host hears when the broker connection goes away unasked (and the state change
    /// that goes with it).
    fn lost_urc(&mut self) -> Option<Vec<u8>>;
}

/// `\r\n<line>\r\n`: how the UC8088 and Quectel frame information lines and URCs.
pub(crate) fn framed(line: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(line.len() + 4);
    v.extend_from_slice(b"\r\n");
    v.extend_from_slice(line);
    v.extend_from_slice(b"\r\n");
    v
}
