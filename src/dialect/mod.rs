//! The seam between the one driver (digester, runner, exchange engine, event queue, supervisor)
//! and each module's own AT command set.
//!
//! A dialect supplies a [`Grammar`] (how its unsolicited lines look: the incoming-message
//! frames, the session lines, the boot banners), and the commands of each API call.

pub mod esp_at;
pub(crate) mod frame;
pub mod quectel;
#[doc(hidden)]
pub mod sketch;
mod uc8088;

pub use esp_at::EspAt;
pub use frame::{MessageFrame, Pieces};
pub use quectel::Quectel;
pub(crate) use uc8088::GRAMMAR as UC8088_GRAMMAR;
pub use uc8088::Uc8088;
pub(crate) use uc8088::failure as uc8088_failure;

use embedded_io_async::Write;

use crate::client::{Identity, MqttModem, Tls};
use crate::command::config::types::{Config, Quoting};
use crate::command::publish::types::Qos;
use crate::command::session::types::ConnectionState;
use crate::error::{Error, Feature};

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A module's built-in MQTT command set, chosen at compile time: [`Uc8088`] (the default of
/// [`MqttModem::new`]), or another through [`MqttModem::with_dialect`]. A firmware carries
/// only the dialect it names.
///
/// The trait is sealed; its items are the driver's, not the application's.
#[allow(async_fn_in_trait)]
pub trait Dialect: Sealed + Sized + 'static {
    /// How the runner reads this dialect's unsolicited output.
    #[doc(hidden)]
    const GRAMMAR: &'static Grammar;
    /// What the driver keeps between calls (connection settings, message ids).
    #[doc(hidden)]
    type State: Default;
    /// Whether commands answer in stages (a `>` prompt for raw data, or a completion line
    /// after `OK`): without, that part of the engine and the runner is compiled out.
    #[doc(hidden)]
    const STAGED: bool;
    /// Whether the modem keeps incoming messages until they are read with a command (it
    /// announces them with [`SessionUrc::Waiting`]); without, [`Dialect::fetch`] is never
    /// called and is compiled out.
    #[doc(hidden)]
    const PULL: bool = false;
    /// Whether a connection that failed or dropped must be configured again before it can
    /// connect (the [`Supervisor`](crate::Supervisor) then runs `configure` before each
    /// reconnect, without re-initialising the modem).
    #[doc(hidden)]
    const RECONNECT_CONFIGURES: bool = false;

    #[doc(hidden)]
    async fn init<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn identify<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<Identity, Error>;
    #[doc(hidden)]
    async fn configure<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        config: &Config<'_>,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn set_tls<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        tls: Tls<'_>,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn connect<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn state<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<ConnectionState, Error>;
    #[doc(hidden)]
    async fn disconnect<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn publish<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn subscribe<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn unsubscribe<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
        filter: &str,
    ) -> Result<(), Error>;
    /// Reads one message the modem holds (a [`Dialect::PULL`] dialect). The answer's message
    /// line is one of the grammar's [`MessageFrame`]s: the runner queues it as an event, as it
    /// does an unsolicited one, and the command ends with its final result.
    #[doc(hidden)]
    async fn fetch<W: Write, const R: usize, const E: usize>(
        m: &mut MqttModem<'_, W, R, E, Self>,
    ) -> Result<(), Error> {
        let _ = m;
        Ok(())
    }
}

/// How the runner recognises a dialect's unsolicited output.
#[derive(Debug)]
pub struct Grammar {
    /// The incoming-message URCs, read by length.
    pub messages: &'static [MessageFrame],
    /// Recognises an unsolicited session line (state change, link loss).
    pub session: fn(&[u8]) -> Option<SessionUrc>,
    /// Boot banners: the modem restarted and forgot its settings.
    pub banners: &'static [&'static [u8]],
    /// Whether a URC brings its own leading CRLF (`\r\n+MQTTRECV:…\r\n`, as V.25ter frames
    /// it); ESP-AT writes `+MQTTSUBRECV:…\r\n` straight after the previous line's end.
    pub urc_crlf: bool,
}

impl Grammar {
    /// The message frame whose head `rest` starts with (or is the start of).
    pub(crate) fn message_at(&self, rest: &[u8]) -> Option<&'static MessageFrame> {
        self.messages.iter().find(|f| f.starts(rest))
    }

    /// Whether `line` starts with a message head (a message whose framing broke).
    pub(crate) fn is_message_line(&self, line: &[u8]) -> bool {
        self.messages.iter().any(|f| line.starts_with(f.head))
    }

    /// Whether a message frame comes in [`Pieces`] (a constant of each dialect, which compiles
    /// their reading out where none does).
    pub(crate) const fn has_pieces(&self) -> bool {
        let mut i = 0;
        while i < self.messages.len() {
            if self.messages[i].pieces.is_some() {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The first message frame sent in [`Pieces`], if any.
    pub(crate) fn pieces(&self) -> Option<(&'static MessageFrame, &'static Pieces)> {
        self.messages
            .iter()
            .find_map(|f| f.pieces.as_ref().map(|p| (f, p)))
    }

    /// Whether `line` is a piece or the end of a [`Pieces`] message.
    pub(crate) fn is_piece_line(&self, line: &[u8]) -> bool {
        self.pieces().is_some_and(|(_, p)| {
            [p.topic, p.payload, p.end]
                .iter()
                .any(|h| line.starts_with(h))
        })
    }
}

/// An unsolicited session event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUrc {
    /// The link's state, reported unasked.
    State(ConnectionState),
    /// The link is gone.
    Disconnected,
    /// The modem holds this many incoming messages until they are read
    /// ([`Dialect::fetch`]; u-blox's `+UUMQTTC: 6,<n>`).
    Waiting(u16),
}

/// Refuses [`Quoting::Unquoted`] for a dialect whose commands take quoted strings only, so that
/// the setting is never silently ignored.
pub(crate) fn quoted_only(config: &Config<'_>) -> Result<(), Error> {
    if config.quoting == Quoting::Quoted {
        Ok(())
    } else {
        Err(Error::Unsupported(Feature::UnquotedStrings))
    }
}

/// The bring-up of modules with the 3GPP basics (UC8088, Quectel): `AT` until it answers, then
/// `ATE0`, `AT+CMEE=1` and `AT+CFUN=1`.
pub(crate) async fn init_3gpp<W: Write, const R: usize, const E: usize, D: Dialect>(
    m: &mut MqttModem<'_, W, R, E, D>,
) -> Result<(), Error> {
    use crate::command::general::types::{ErrorReporting, FunctionalityLevel};
    use crate::command::general::{At, EchoOff, SetErrorReporting, SetFunctionality};
    m.sync(&At).await?;
    m.send(&EchoOff).await?;
    m.send(&SetErrorReporting {
        mode: ErrorReporting::Numeric,
    })
    .await?;
    m.send(&SetFunctionality {
        fun: FunctionalityLevel::Full,
    })
    .await
    .map(drop)
}

/// `AT+CGMI`, `AT+CGMM` and `AT+CGMR` (UC8088, Quectel).
pub(crate) async fn identify_3gpp<W: Write, const R: usize, const E: usize, D: Dialect>(
    m: &mut MqttModem<'_, W, R, E, D>,
) -> Result<Identity, Error> {
    use crate::command::general::{GetManufacturer, GetModel, GetRevision};
    Ok(Identity {
        manufacturer: m.send(&GetManufacturer).await?,
        model: m.send(&GetModel).await?,
        revision: m.send(&GetRevision).await?,
    })
}
