//! What the general commands answer.

use atat::atat_derive::AtatResp;

/// `+CFUN: <fun>`.
#[derive(Debug, Clone, PartialEq, Eq, AtatResp)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Functionality {
    /// The level as a number (1 = full).
    pub fun: u8,
}

/// A bare identification line such as `ucchip` or `8088`.
#[derive(Debug, Clone, PartialEq, Eq, AtatResp)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Identification {
    /// The text the modem sent.
    pub id: heapless::String<64>,
}
