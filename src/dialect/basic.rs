//! The bring-up commands of ITU-T V.25ter and 3GPP TS 27.007 that several modules share (the
//! UC8088 manual's worked example uses them; Quectel's modules take the same): `AT`, `ATE0`,
//! `AT+CMEE`, `AT+CFUN`, and the identification commands `AT+CGMI`, `AT+CGMM`, `AT+CGMR`.

use atat::atat_derive::{AtatCmd, AtatEnum, AtatResp};
use embedded_io_async::Write;

use crate::command::{ModemCommand, NoResponse, Wire, fixed, fixed_answer, nothing};
use crate::encode::{Line, Param};
use crate::error::Error;
use crate::exchange::{Exchange, Staging};
use crate::identity::{Identification, Identity};

/// Declares an identification command: any number of bare or `+NAME:` lines, read into an
/// [`Identification`].
macro_rules! identification {
    ($(#[$doc:meta])* $ty:ident, $cmd:literal, $line:literal, $prefix:literal) => {
        fixed_answer!(
            $(#[$doc])* $ty, $cmd, $line, $prefix, Identification, bare = true,
            |resp| Ok(Identification::from_answer(resp, $prefix))
        );
    };
}

/// `AT`: checks that the modem answers. Used to synchronise the line.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("", NoResponse, parse = nothing, timeout_ms = 300)]
pub struct At;

/// `ATE0`: echo off. The digester copes with echo either way; off halves the receive traffic.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("E0", NoResponse, parse = nothing, timeout_ms = 1000)]
pub struct EchoOff;

/// `ATE1`: echo on (the modem's power-up default).
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("E1", NoResponse, parse = nothing, timeout_ms = 1000)]
pub struct EchoOn;

/// `AT+CMEE=<n>`: how errors are reported.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+CMEE", NoResponse, parse = nothing, timeout_ms = 1000)]
pub struct SetErrorReporting {
    /// The reporting mode.
    pub mode: ErrorReporting,
}

/// `AT+CFUN=<fun>`: sets the functionality level; `1` (full) must precede MQTT use.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+CFUN", NoResponse, parse = nothing, timeout_ms = 10000)]
pub struct SetFunctionality {
    /// The level to set.
    pub fun: FunctionalityLevel,
}

/// `AT+CFUN?`: reads the functionality level (`+CFUN: 1`, with a space).
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+CFUN?", Functionality, timeout_ms = 1000)]
pub struct GetFunctionality;

identification!(
    /// `AT+CGMI`: manufacturer identification (`ucchip`).
    GetManufacturer,
    "+CGMI",
    b"AT+CGMI\r",
    b"+CGMI"
);
identification!(
    /// `AT+CGMM`: model identification (`8088`).
    GetModel,
    "+CGMM",
    b"AT+CGMM\r",
    b"+CGMM"
);
identification!(
    /// `AT+CGMR`: firmware revision.
    GetRevision,
    "+CGMR",
    b"AT+CGMR\r",
    b"+CGMR"
);

fixed!(At, b"AT\r", info = b"");
fixed!(EchoOff, b"ATE0\r", info = b"");
fixed!(EchoOn, b"ATE1\r", info = b"");
fixed!(GetFunctionality, b"AT+CFUN?\r", info = b"+CFUN");

impl ModemCommand for SetErrorReporting {
    const INFO_PREFIX: &'static [u8] = b"+CMEE";

    fn wire(&self) -> Wire<'_> {
        Wire::line(Line::new(b"AT+CMEE=", &[Param::Int(self.mode as u32)]))
    }
}

impl ModemCommand for SetFunctionality {
    const INFO_PREFIX: &'static [u8] = b"+CFUN";

    fn wire(&self) -> Wire<'_> {
        Wire::line(Line::new(b"AT+CFUN=", &[Param::Int(self.fun as u32)]))
    }
}

/// `AT+CMEE` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AtatEnum)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorReporting {
    /// 0: plain `ERROR`.
    Disabled = 0,
    /// 1: `+CME ERROR: <n>` with a number.
    Numeric = 1,
    /// 2: `+CME ERROR: <text>`.
    Verbose = 2,
}

/// `AT+CFUN` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AtatEnum)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FunctionalityLevel {
    /// 0: minimum functionality.
    Minimum = 0,
    /// 1: full functionality, required before MQTT use.
    Full = 1,
    /// 4: radio off (flight mode).
    RadioOff = 4,
}

/// `+CFUN: <fun>`.
#[derive(Debug, Clone, PartialEq, Eq, AtatResp)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Functionality {
    /// The level as a number (1 = full).
    pub fun: u8,
}

/// The bring-up of modules with the 3GPP basics (UC8088, Quectel): `AT` until it answers, then
/// `ATE0`, `AT+CMEE=1` and `AT+CFUN=1`.
pub(crate) async fn init<W: Write, const R: usize, const E: usize, S: Staging>(
    x: &mut Exchange<'_, W, R, E, S>,
) -> Result<(), Error> {
    x.sync(&At).await?;
    x.send(&EchoOff).await?;
    x.send(&SetErrorReporting {
        mode: ErrorReporting::Numeric,
    })
    .await?;
    x.send(&SetFunctionality {
        fun: FunctionalityLevel::Full,
    })
    .await
    .map(drop)
}

/// `AT+CGMI`, `AT+CGMM` and `AT+CGMR` (UC8088, Quectel).
pub(crate) async fn identify<W: Write, const R: usize, const E: usize, S: Staging>(
    x: &mut Exchange<'_, W, R, E, S>,
) -> Result<Identity, Error> {
    Ok(Identity {
        manufacturer: x.send(&GetManufacturer).await?,
        model: x.send(&GetModel).await?,
        revision: x.send(&GetRevision).await?,
    })
}
