//! Typed AT commands, one folder per command group of the UC8088 manual's MQTT chapter (plus
//! the general bring-up commands). Each folder holds the command structs (`mod.rs`), the
//! values they take (`types.rs`), what the modem answers (`responses.rs`) and, where the group
//! has them, its unsolicited result codes (`urc.rs`).
//!
//! Commands whose text atat's derive writes byte for byte as the manual does (no string
//! parameters) are derived. Commands with strings are written by hand through
//! one private encoder, because atat escapes `"` as `\22` where the manual wants `\"`, and so that
//! big parameters stream from the caller's slice.

pub mod config;
pub mod general;
pub mod publish;
pub mod session;
pub mod subscribe;
pub mod tls;
mod urc;

pub use urc::Urc;

use atat::{AtatCmd, AtatResp};
use embassy_time::Duration;
use embedded_io_async::Write;

use crate::encode::Line;

/// What the driver needs to know about a command beyond [`AtatCmd`]: how its answer is
/// recognised and how it is written.
pub trait ModemCommand: AtatCmd {
    /// The prefix of this command's information lines, e.g. `b"+MQTTSTATE"`; empty when the
    /// answer is bare text (`ucchip`). Lines with another `+` prefix are unsolicited.
    const INFO_PREFIX: &'static [u8];

    /// Whether an information line `INFO_PREFIX:<n>` carries an MQTT result code, which makes
    /// the command fail when non-zero whatever the final line says.
    const CARRIES_CODE: bool = false;

    /// How long to wait for the final result after the line has been written.
    fn deadline(&self) -> Duration {
        Duration::from_millis(u64::from(Self::MAX_TIMEOUT_MS))
    }

    /// Writes the command line to the UART. The default goes through [`AtatCmd::write`] into
    /// a 64-byte stack buffer, which every fixed command of this crate fits; commands with
    /// string parameters override it to stream.
    #[allow(async_fn_in_trait)]
    async fn write_to<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        let mut buf = [0u8; 64];
        let n = self.write(&mut buf);
        w.write_all(&buf[..n]).await
    }
}

/// The answer of a command that returns nothing but its final result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoResponse;

impl AtatResp for NoResponse {}

/// The answer of a test form (`AT+MQTTPUB=?`): the modem's syntax description, after the
/// `+NAME:` prefix, cut to 128 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Syntax {
    /// The description, e.g. `<topic>,(0-2),(0-1);<message>`.
    pub text: heapless::String<128>,
}

impl AtatResp for Syntax {}

/// Parses a test-form answer: the first line with `prefix`, text after the colon.
pub(crate) fn parse_syntax(resp: &[u8], prefix: &[u8]) -> Result<Syntax, atat::Error> {
    let line = crate::parse::lines(resp)
        .find_map(|l| crate::parse::after_prefix(l, prefix))
        .ok_or(atat::Error::Parse)?;
    let text = core::str::from_utf8(line).map_err(|_| atat::Error::Parse)?;
    let mut out = heapless::String::new();
    for c in text.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    Ok(Syntax { text: out })
}

/// Writes a hand-encoded line for [`AtatCmd::write`]: the whole line, or nothing (0) when it
/// does not fit `buf`, instead of the panic a derived `write` gives. The driver itself never
/// calls this for these commands; it streams them.
pub(crate) fn write_line_or_nothing(line: &Line<'_>, buf: &mut [u8]) -> usize {
    line.write_into(buf).unwrap_or(0)
}

/// Implements [`AtatCmd`] and [`ModemCommand`] for a hand-encoded command with `fn line()`.
macro_rules! hand_encoded {
    ($ty:ident, $resp:ty, $prefix:expr, code = $code:expr, timeout_ms = $ms:expr, parse = $parse:expr) => {
        impl atat::AtatCmd for $ty<'_> {
            type Response = $resp;
            const MAX_TIMEOUT_MS: u32 = $ms;

            fn write(&self, buf: &mut [u8]) -> usize {
                let params = self.params();
                $crate::command::write_line_or_nothing(
                    &$crate::encode::Line {
                        prefix: Self::LINE_PREFIX,
                        params: &params,
                    },
                    buf,
                )
            }

            fn parse(
                &self,
                resp: Result<&[u8], atat::InternalError>,
            ) -> Result<Self::Response, atat::Error> {
                #[allow(clippy::redundant_closure_call)]
                ($parse)(resp)
            }
        }

        impl $crate::command::ModemCommand for $ty<'_> {
            const INFO_PREFIX: &'static [u8] = $prefix;
            const CARRIES_CODE: bool = $code;

            async fn write_to<W: embedded_io_async::Write>(
                &self,
                w: &mut W,
            ) -> Result<(), W::Error> {
                let params = self.params();
                $crate::encode::Line {
                    prefix: Self::LINE_PREFIX,
                    params: &params,
                }
                .write_to(w)
                .await
            }
        }
    };
}
pub(crate) use hand_encoded;

/// Parses the final-result-only answer of a command; information lines (an MQTT code line,
/// checked by the client) carry nothing more.
pub(crate) fn parse_nothing(
    resp: Result<&[u8], atat::InternalError>,
) -> Result<NoResponse, atat::Error> {
    resp.map(|_| NoResponse).map_err(atat::Error::from)
}

/// [`parse_nothing`] in the shape atat's derive `parse = ...` wants.
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn nothing(_resp: &[u8]) -> Result<NoResponse, atat::Error> {
    Ok(NoResponse)
}
