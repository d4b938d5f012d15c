//! A deadline on a whole test (tests only): a loop that never yields (a mutant that stops an
//! index from moving, say) cannot be ended by an async timeout, so a watchdog thread ends the
//! test process with a failure instead of letting it hang.

extern crate std;

use std::borrow::ToOwned;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::time::Duration;

/// Dropped when the test is done (or panics): the watchdog then stands down.
pub struct Deadline {
    _done: Sender<()>,
}

/// Arms a watchdog: unless the returned guard is dropped within `secs` seconds, the process
/// exits with status 101 (a failed test), naming the test that did not finish.
pub fn deadline(secs: u64) -> Deadline {
    let (done, wait) = channel::<()>();
    let name = std::thread::current().name().unwrap_or("a test").to_owned();
    std::thread::spawn(move || {
        if wait.recv_timeout(Duration::from_secs(secs)) == Err(RecvTimeoutError::Timeout) {
            std::eprintln!("{name} did not finish within {secs} s (a loop that never yields)");
            std::process::exit(101);
        }
    });
    Deadline { _done: done }
}
