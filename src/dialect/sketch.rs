//! The grammars of the two dialects sketched in docs/DIALECTS.md ("SIMCom" and "u-blox"), as
//! tables the one digester reads: the seam's [`Pieces`] and pull patterns, tested and fuzzed
//! before a dialect uses them. Not dialects: no commands go with them.

use super::{Grammar, MessageFrame, Pieces};
use crate::events::Event;
use crate::parse::number;

/// SIMCom's `AT+CMQTT*`: a message in pieces (`+CMQTTRXSTART: 0,<topic len>,<payload len>`,
/// `+CMQTTRXTOPIC`, `+CMQTTRXPAYLOAD`, `+CMQTTRXEND`), `+CMQTTCONNLOST` for a lost link.
pub static SIMCOM: Grammar = Grammar {
    messages: &[MessageFrame {
        head: b"+CMQTTRXSTART:",
        blank: true,
        ids: 1,
        quoted_payload: false,
        pieces: Some(Pieces {
            topic: b"+CMQTTRXTOPIC:",
            payload: b"+CMQTTRXPAYLOAD:",
            end: b"+CMQTTRXEND:",
        }),
    }],
    session: simcom_session,
    banners: &[],
    urc_crlf: true,
};

fn simcom_session(line: &[u8]) -> Option<Event<'static>> {
    line.starts_with(b"+CMQTTCONNLOST:")
        .then_some(Event::Disconnected)
}

/// u-blox's `AT+UMQTTC`: `+UUMQTTC: 6,<n>` announces held messages; `AT+UMQTTC=6,1` reads one
/// as `+UMQTTC: 6,<qos>,<topic and message length>,<topic length>,"<topic>",<len>,"<msg>"`;
/// `+UUMQTTC: 0,<reason>` is a lost link.
pub static UBLOX: Grammar = Grammar {
    messages: &[MessageFrame {
        head: b"+UMQTTC: 6,",
        blank: false,
        ids: 3,
        quoted_payload: true,
        pieces: None,
    }],
    session: ublox_session,
    banners: &[],
    urc_crlf: true,
};

fn ublox_session(line: &[u8]) -> Option<Event<'static>> {
    if let Some(n) = line.strip_prefix(b"+UUMQTTC: 6,") {
        return number(n)
            .and_then(|n| u16::try_from(n).ok())
            .map(|count| Event::MessagesWaiting { count });
    }
    line.starts_with(b"+UUMQTTC: 0,")
        .then_some(Event::Disconnected)
}

/// A test fixture, not a module: the u-blox grammar with the pull hooks ([`Dialect::PULL`],
/// [`Dialect::fetch`] reading one held message with `AT+UMQTTC=6,1`), and every other call
/// answered without a byte on the wire, so that the runner, client and supervisor paths of the
/// pull pattern are tested end to end on a scripted wire.
#[cfg(feature = "_fixture")]
pub use fixture::Pull;

#[cfg(feature = "_fixture")]
mod fixture {
    use embedded_io_async::Write;

    use crate::command::{Encode, NoResponse, command, nothing};
    use crate::dialect::{Dialect, Sealed};
    use crate::encode::{Line, Param};
    use crate::error::Error;
    use crate::exchange::{Exchange, Staging};
    use crate::grammar::Grammar;
    use crate::mqtt::{Config, ConnectionState, Qos, Tls};

    /// `AT+UMQTTC=6,1`: reads one held message.
    #[derive(Debug, Clone)]
    pub struct ReadOne;

    impl Encode for ReadOne {
        fn line(&self) -> Line<'_> {
            Line::new(Self::AT, &[Param::Int(6), Param::Int(1)]).crlf()
        }
    }

    command!(
        encoded ReadOne,
        at = "+UMQTTC",
        answer = NoResponse,
        parse = nothing,
        timeout_ms = 1000,
    );

    /// The pull fixture (see [`super`]).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Pull;

    impl Sealed for Pull {}

    impl Staging for Pull {
        const STAGED: bool = false;
    }

    impl Dialect for Pull {
        const GRAMMAR: &'static Grammar = &super::UBLOX;
        const PULL: bool = true;
        type State = ();

        async fn init<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn configure<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
            _: &Config<'_>,
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn set_tls<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
            _: &Tls<'_>,
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn connect<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn state<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
        ) -> Result<ConnectionState, Error> {
            Ok(ConnectionState::Connected)
        }
        async fn disconnect<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn publish<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
            _: &str,
            _: &[u8],
            _: Qos,
            _: bool,
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn subscribe<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
            _: &str,
            _: Qos,
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn unsubscribe<W: Write, const R: usize, const E: usize>(
            _: &mut Exchange<'_, W, R, E, Self>,
            (): &mut (),
            _: &str,
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn fetch<W: Write, const R: usize, const E: usize>(
            x: &mut Exchange<'_, W, R, E, Self>,
            _state: &mut Self::State,
        ) -> Result<(), Error> {
            x.send(&ReadOne).await.map(drop)
        }
    }
}
