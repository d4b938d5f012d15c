//! The bring-up commands of ITU-T V.25ter and 3GPP TS 27.007 that several modules share (the
//! UC8088 manual's worked example uses them; Quectel's modules take the same): `AT`, `ATE0`,
//! `AT+CMEE`, `AT+CFUN`, and the identification commands `AT+CGMI`, `AT+CGMM`, `AT+CGMR`.

use atat::atat_derive::{AtatEnum, AtatResp};
use embedded_io_async::Write;

use crate::command::{ModemCommand, NoResponse, command, nothing};
use crate::encode::Param;
use crate::error::Error;
use crate::exchange::{Exchange, Staging};
use crate::identity::{Identification, Identity};
use crate::parse::info_number;

command!(
    /// `AT`: checks that the modem answers. Used to synchronise the line.
    derived struct At;
    at = "",
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 300,
);

command!(
    /// `ATE0`: echo off. The digester copes with echo either way; off halves the receive traffic.
    derived struct EchoOff;
    at = "E0",
    answer = NoResponse,
    parse = nothing,
    info = "",
    timeout_ms = 1000,
);

command!(
    /// `ATE1`: echo on (the modem's power-up default).
    derived struct EchoOn;
    at = "E1",
    answer = NoResponse,
    parse = nothing,
    info = "",
    timeout_ms = 1000,
);

command!(
    /// `AT+CMEE=<n>`: how errors are reported.
    derived struct SetErrorReporting {
        /// The reporting mode.
        pub mode: ErrorReporting,
    }
    at = "+CMEE",
    params = |c| [Param::Int(c.mode as u32)],
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 1000,
);

command!(
    /// `AT+CFUN=<fun>`: sets the functionality level; `1` (full) must precede MQTT use.
    derived struct SetFunctionality {
        /// The level to set.
        pub fun: FunctionalityLevel,
    }
    at = "+CFUN",
    params = |c| [Param::Int(c.fun as u32)],
    answer = NoResponse,
    parse = nothing,
    timeout_ms = 10000,
);

command!(
    /// `AT+CFUN?`: reads the functionality level (`+CFUN: 1`, with a space).
    derived struct GetFunctionality;
    at = "+CFUN?",
    answer = Functionality,
    parse = |resp| {
        let fun = info_number(resp, <Self as ModemCommand>::INFO_PREFIX)
            .and_then(|n| u8::try_from(n).ok());
        fun.map(|fun| Functionality { fun }).ok_or(atat::Error::Parse)
    },
    info = "+CFUN",
    timeout_ms = 1000,
);

command!(
    /// `AT+CGMI`: manufacturer identification (`ucchip`); any number of bare or `+CGMI:` lines.
    derived struct GetManufacturer;
    at = "+CGMI",
    answer = Identification,
    parse = |resp| Ok(Identification::from_answer(resp, <Self as ModemCommand>::INFO_PREFIX)),
    bare = true,
    timeout_ms = 1000,
);

command!(
    /// `AT+CGMM`: model identification (`8088`); any number of bare or `+CGMM:` lines.
    derived struct GetModel;
    at = "+CGMM",
    answer = Identification,
    parse = |resp| Ok(Identification::from_answer(resp, <Self as ModemCommand>::INFO_PREFIX)),
    bare = true,
    timeout_ms = 1000,
);

command!(
    /// `AT+CGMR`: firmware revision; any number of bare or `+CGMR:` lines.
    derived struct GetRevision;
    at = "+CGMR",
    answer = Identification,
    parse = |resp| Ok(Identification::from_answer(resp, <Self as ModemCommand>::INFO_PREFIX)),
    bare = true,
    timeout_ms = 1000,
);

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
