//! Logging that goes to `defmt`, to `log`, or nowhere, by feature; and the one way a secret
//! is shown.
#![allow(unused_macros)]

/// A secret of this many bytes (a password, a private key), shown as `<redacted, N bytes>`
/// (`""` when empty) by `Debug` and `defmt` alike, never its content.
pub(crate) struct Redacted(pub usize);

impl core::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0 == 0 {
            f.write_str("\"\"")
        } else {
            write!(f, "<redacted, {} bytes>", self.0)
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Redacted {
    fn format(&self, f: defmt::Formatter) {
        if self.0 == 0 {
            defmt::write!(f, "\"\"");
        } else {
            defmt::write!(f, "<redacted, {} bytes>", self.0);
        }
    }
}

macro_rules! debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::debug!($($arg)*);
        #[cfg(all(feature = "log", not(feature = "defmt")))]
        log::debug!($($arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        let _ = ($($arg)*,);
    }};
}

macro_rules! warning {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::warn!($($arg)*);
        #[cfg(all(feature = "log", not(feature = "defmt")))]
        log::warn!($($arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        let _ = ($($arg)*,);
    }};
}

pub(crate) use {debug, warning};
