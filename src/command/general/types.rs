//! Values the general commands take.

use atat::atat_derive::AtatEnum;

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
