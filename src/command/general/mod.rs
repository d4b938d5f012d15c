//! General commands the manual's worked example uses for bring-up: `AT`, `ATE0`, `AT+CMEE`,
//! `AT+CFUN`, and the identification commands `AT+CGMI`, `AT+CGMM`, `AT+CGMR`.

pub mod responses;
pub mod types;

use atat::atat_derive::AtatCmd;

use super::{ModemCommand, NoResponse, Wire, fixed, nothing};
use crate::encode::{Line, Param};
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

fixed!(At, b"AT\r", info = b"");
fixed!(EchoOff, b"ATE0\r", info = b"");
fixed!(EchoOn, b"ATE1\r", info = b"");
fixed!(GetFunctionality, b"AT+CFUN?\r", info = b"+CFUN");
fixed!(GetManufacturer, b"AT+CGMI\r", info = b"");
fixed!(GetModel, b"AT+CGMM\r", info = b"");
fixed!(GetRevision, b"AT+CGMR\r", info = b"");

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
