//! The seam between the one driver (digester, runner, exchange engine, event queue, supervisor)
//! and each module's own AT command set.
//!
//! A dialect supplies a [`Grammar`] (how its unsolicited lines look: the incoming-message
//! frames, the session lines, the boot banners), and the commands of each API call.

pub mod basic;
pub mod esp_at;
pub mod quectel;
#[doc(hidden)]
pub mod sketch;
pub mod uc8088;

pub use crate::grammar::{Grammar, MessageFrame, Pieces};

use embedded_io_async::Write;

use crate::encode::Quoting;
use crate::error::{Error, Feature};
use crate::exchange::{Exchange, Staging};
use crate::identity::Identity;
use crate::mqtt::{Config, ConnectionState, Qos, Tls};

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A module's built-in MQTT command set, chosen at compile time: [`Uc8088`](crate::Uc8088) (the default of
/// [`MqttModem::new`](crate::MqttModem::new)), or another through [`MqttModem::with_dialect`](crate::MqttModem::with_dialect). A firmware carries
/// only the dialect it names.
///
/// The trait is sealed; its items are the driver's, not the application's.
#[allow(async_fn_in_trait)]
pub trait Dialect: Sealed + Staging + Sized + 'static {
    /// How the runner reads this dialect's unsolicited output.
    #[doc(hidden)]
    const GRAMMAR: &'static Grammar;
    /// What the driver keeps between calls (connection settings, message ids).
    #[doc(hidden)]
    type State: Default;
    /// Whether the modem keeps incoming messages until they are read with a command (it
    /// announces them with [`Event::MessagesWaiting`](crate::Event::MessagesWaiting)); without, [`Dialect::fetch`] is never
    /// called and is compiled out.
    #[doc(hidden)]
    const PULL: bool = false;
    /// Whether a connection that failed or dropped must be configured again before it can
    /// connect (the [`Supervisor`](crate::Supervisor) then runs `configure` before each
    /// reconnect, without re-initialising the modem).
    #[doc(hidden)]
    const RECONNECT_CONFIGURES: bool = false;

    #[doc(hidden)]
    /// The bring-up; by default the 3GPP one (`basic::init`), which most modules take.
    async fn init<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<(), Error> {
        basic::init(x).await
    }
    /// Manufacturer, model and revision; by default from `AT+CGMI`, `AT+CGMM`, `AT+CGMR`.
    #[doc(hidden)]
    async fn identify<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        _state: &mut Self::State,
    ) -> Result<Identity, Error> {
        basic::identify(x).await
    }
    #[doc(hidden)]
    async fn configure<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        config: &Config<'_>,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn set_tls<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        tls: &Tls<'_>,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn connect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn state<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
    ) -> Result<ConnectionState, Error>;
    #[doc(hidden)]
    async fn disconnect<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn publish<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error>;
    /// Checks a topic filter as [`Dialect::subscribe`] would, without writing (the
    /// [`Supervisor`](crate::Supervisor) checks a filter registered while the link is down).
    #[doc(hidden)]
    fn check_filter(filter: &str) -> Result<(), Error> {
        crate::mqtt::check_filter(filter)
    }
    #[doc(hidden)]
    async fn subscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error>;
    #[doc(hidden)]
    async fn unsubscribe<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
        filter: &str,
    ) -> Result<(), Error>;
    /// Reads one message the modem holds (a [`Dialect::PULL`] dialect). The answer's message
    /// line is one of the grammar's [`MessageFrame`]s: the runner queues it as an event, as it
    /// does an unsolicited one, and the command ends with its final result.
    #[doc(hidden)]
    async fn fetch<W: Write, const R: usize, const E: usize>(
        x: &mut Exchange<'_, W, R, E, Self>,
        state: &mut Self::State,
    ) -> Result<(), Error> {
        let _ = (x, state);
        Ok(())
    }
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

/// A command whose refusal by the module (`ERROR`, `+CME ERROR`) is no failure: a cleanup of
/// what may not be there, a setting older firmware lacks. Other errors (timeout, I/O) stay.
pub(crate) fn tolerated<T>(r: Result<T, Error>) -> Result<(), Error> {
    match r {
        Ok(_) | Err(Error::Module { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
