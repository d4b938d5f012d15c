//! Values `AT+MQTTTLS` takes.

pub use crate::encode::CertEncoding;

/// `<type>`: which credential a `AT+MQTTTLS` upload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CertKind {
    /// 0: the root CA that verifies the broker.
    RootCa = 0,
    /// 1: the client certificate.
    ClientCert = 1,
    /// 2: the client private key.
    ClientKey = 2,
}

/// The most certificate bytes the manual allows in one upload.
pub const MAX_CERT_LEN: usize = 1536;
