//! What the two emulated boards (`qemu-mps2`, `qemu-virt`) share, whatever the core: the receive
//! ring their UART interrupt fills, the executor's wake-up flag, the stack paint and the verdict.
//! Included by each board's `main.rs` with `#[path = "../../common/qemu.rs"] mod qemu;`, after
//! its `info!` macro.

use core::cell::UnsafeCell;
use core::convert::Infallible;
use core::future::poll_fn;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use core::task::Poll;

use embassy_sync::waitqueue::AtomicWaker;

/// The most stack the firmware may use: driver tasks, application and interrupts together (they
/// share one stack; embassy keeps each task's state in static memory). The verdict fails above
/// it; `examples/README.md` gives the measured high-water marks.
pub const STACK_BUDGET: usize = 12 * 1024;

const RING: usize = 256;

/// Bytes the UART's receive interrupt took, for the runner to read: one producer (the
/// interrupt), one consumer (the reads); each index has one writer, and a byte is written before
/// `head` publishes it.
pub struct Ring {
    buf: UnsafeCell<[u8; RING]>,
    head: AtomicUsize,
    tail: AtomicUsize,
    waker: AtomicWaker,
    /// The interrupt found the ring full and left the byte in the UART (QEMU then holds the
    /// rest back): the reader lets it go on once there is room.
    stalled: AtomicBool,
}

// SAFETY: see the type's documentation.
unsafe impl Sync for Ring {}

/// The one receive ring.
pub static RX: Ring = Ring {
    buf: UnsafeCell::new([0; RING]),
    head: AtomicUsize::new(0),
    tail: AtomicUsize::new(0),
    waker: AtomicWaker::new(),
    stalled: AtomicBool::new(false),
};

impl Ring {
    /// From the receive interrupt: takes bytes while `byte()` gives them and there is room.
    /// Returns `false` when the ring is full (the interrupt must then stop until
    /// [`Ring::read`] calls its `resume`).
    pub fn fill(&self, mut byte: impl FnMut() -> Option<u8>) -> bool {
        let mut room = true;
        loop {
            let head = self.head.load(Ordering::Relaxed);
            if head.wrapping_sub(self.tail.load(Ordering::Acquire)) == RING {
                self.stalled.store(true, Ordering::Release);
                room = false;
                break;
            }
            let Some(b) = byte() else { break };
            // SAFETY: slot `head` is not visible to the reader until `head` moves past it.
            unsafe { (*self.buf.get())[head % RING] = b };
            self.head.store(head.wrapping_add(1), Ordering::Release);
        }
        self.waker.wake();
        room
    }

    /// The runner's read: waits for at least one byte; `resume` lets a stalled interrupt go on.
    pub async fn read(&self, buf: &mut [u8], resume: impl Fn()) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        poll_fn(|cx| {
            self.waker.register(cx.waker());
            let head = self.head.load(Ordering::Acquire);
            let mut tail = self.tail.load(Ordering::Relaxed);
            let mut n = 0;
            while tail != head && n < buf.len() {
                // SAFETY: slots between tail and head were published by the interrupt.
                buf[n] = unsafe { (*self.buf.get())[tail % RING] };
                tail = tail.wrapping_add(1);
                n += 1;
            }
            self.tail.store(tail, Ordering::Release);
            // Load and store, not a swap: RV32IMC has no atomic read-modify-write. A stall the
            // interrupt reports in between is seen by the next read (the ring is full then).
            if n > 0 && self.stalled.load(Ordering::Acquire) {
                self.stalled.store(false, Ordering::Release);
                resume();
            }
            if n > 0 {
                Poll::Ready(Ok(n))
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// Clock ticks spent asleep in WFI (for the busy time the test's `cost` commands report).
static ASLEEP: critical_section::Mutex<core::cell::Cell<u64>> =
    critical_section::Mutex::new(core::cell::Cell::new(0));

/// Adds `ticks` of sleep.
pub fn slept(ticks: u64) {
    critical_section::with(|cs| {
        let asleep = ASLEEP.borrow(cs);
        asleep.set(asleep.get() + ticks);
    });
}

/// Clock ticks spent asleep so far.
pub fn asleep() -> u64 {
    critical_section::with(|cs| ASLEEP.borrow(cs).get())
}

/// Set when a task was woken; the idle loop sleeps only while it is clear.
pub static PENDING: AtomicBool = AtomicBool::new(false);

#[unsafe(export_name = "__pender")]
fn pender(_context: *mut ()) {
    PENDING.store(true, Ordering::Release);
}

/// Runs the executor forever: poll, then `sleep_unless_pending` (which must check [`PENDING`]
/// and wait for an interrupt with interrupts masked, so that no wake-up slips in between).
pub fn run(
    executor: &'static embassy_executor::raw::Executor,
    sleep_unless_pending: impl Fn(),
) -> ! {
    loop {
        PENDING.store(false, Ordering::Release);
        // SAFETY: polled from this loop only, never from the pender.
        unsafe { executor.poll() };
        sleep_unless_pending();
    }
}

const PAINT: u32 = 0xC0FF_EE55;

/// Paints the stack from `bottom` up to just below the caller's frame.
pub fn paint_stack(bottom: usize, sp: usize) {
    let mut at = bottom as *mut u32;
    while (at as usize) < sp - 64 {
        // SAFETY: between the end of static memory and the live stack: unused.
        unsafe {
            at.write_volatile(PAINT);
            at = at.add(1);
        }
    }
}

/// How many bytes of the stack (`bottom..top`) were ever used.
pub fn stack_high_water(bottom: usize, top: usize) -> usize {
    let mut at = bottom as *const u32;
    // SAFETY: reads of the stack region, below the live frame.
    while (at as usize) < top && unsafe { at.read_volatile() } == PAINT {
        at = unsafe { at.add(1) };
    }
    top - at as usize
}

/// The verdict at the end of a run: logs the stack's high-water mark and whether it stayed
/// within [`STACK_BUDGET`].
pub fn verdict(bottom: usize, top: usize) -> bool {
    let used = stack_high_water(bottom, top);
    info!(
        "stack high water: {} B (budget {} B, stack region {} B)",
        used,
        STACK_BUDGET,
        top - bottom
    );
    if used > STACK_BUDGET {
        info!("verdict: FAIL (stack above its budget)");
        false
    } else {
        info!("verdict: PASS");
        true
    }
}

/// The board's status LED: there is none, so its changes are logged.
pub struct LogLed;

impl embedded_hal::digital::ErrorType for LogLed {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for LogLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        info!("led: off");
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        info!("led: on");
        Ok(())
    }
}
