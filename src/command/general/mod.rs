//! General commands the manual's worked example uses for bring-up: `AT`, `ATE0`, `AT+CMEE`,
//! `AT+CFUN`, and the identification commands `AT+CGMI`, `AT+CGMM`, `AT+CGMR`.

pub mod responses;
pub mod types;

use atat::atat_derive::AtatCmd;

use super::{ModemCommand, NoResponse, nothing};
use responses::{Functionality, Identification};
use types::{ErrorReporting, FunctionalityLevel};

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

/// `AT+CGMI`: manufacturer identification (`ucchip`).
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+CGMI", Identification, timeout_ms = 1000)]
pub struct GetManufacturer;

/// `AT+CGMM`: model identification (`8088`).
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+CGMM", Identification, timeout_ms = 1000)]
pub struct GetModel;

/// `AT+CGMR`: firmware revision.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+CGMR", Identification, timeout_ms = 1000)]
pub struct GetRevision;

macro_rules! info {
    ($($ty:ty => $prefix:expr),* $(,)?) => {
        $(impl ModemCommand for $ty {
            const INFO_PREFIX: &'static [u8] = $prefix;
        })*
    };
}

info! {
    At => b"",
    EchoOff => b"",
    EchoOn => b"",
    SetErrorReporting => b"+CMEE",
    SetFunctionality => b"+CFUN",
    GetFunctionality => b"+CFUN",
    GetManufacturer => b"",
    GetModel => b"",
    GetRevision => b"",
}
