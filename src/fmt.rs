//! Logging that goes to `defmt`, to `log`, or nowhere, by feature.
#![allow(unused_macros)]

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
