//! The product firmware (`../common/app.rs`) on QEMU's `mps2-an386` board: a Cortex-M4F, the
//! nRF52840's target (`thumbv7em-none-eabihf`), with no probe and no board to buy. The
//! end-to-end test (`scripts/qemu-e2e.sh`) connects its UART to the simulated modem and checks
//! the product from the broker's side.
//!
//! The board support is what a HAL would give on a real part, kept small:
//! - UART0 (CMSDK APB UART at 0x4000_4000) is the modem link: receive by interrupt (IRQ 0) into
//!   a ring buffer, transmit by polling the TX-full flag. QEMU connects it to the simulator's
//!   pseudo-terminal (`-serial`).
//! - `embassy-time` counts CMSDK TIMER0 (25 MHz) in microseconds; SysTick at 1 kHz checks its
//!   timer queue (the time driver below).
//! - embassy's raw executor runs in a loop that sleeps with WFI (the stock thread executor's WFE
//!   makes QEMU spin a host core).
//! - The log and the verdict go out through semihosting: the shared application's `exit`
//!   command (feature `e2e`) ends the run, with exit status 0 when the stack stayed
//!   within `qemu::STACK_BUDGET`; a panic or a fault ends it with status 1.

#![no_std]
#![no_main]

use core::cell::RefCell;
use core::convert::Infallible;
use core::ptr::addr_of;
use core::sync::atomic::Ordering;
use core::task::Waker;

use cortex_m::peripheral::NVIC;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::debug;
use critical_section::Mutex;
use embassy_executor::{Spawner, raw};
use embassy_time_queue_utils::Queue;
use static_cell::StaticCell;

// Logging for the shared application (defined before `mod app` so that it sees them).
macro_rules! info { ($($t:tt)*) => { ::cortex_m_semihosting::hprintln!($($t)*) }; }
macro_rules! warn { ($($t:tt)*) => { ::cortex_m_semihosting::hprintln!($($t)*) }; }
// Debug lines are left out: each semihosting call stops the emulated core.
macro_rules! debug { ($($t:tt)*) => { { let _ = format_args!($($t)*); } }; }

#[path = "../../common/app.rs"]
mod app;
#[path = "../../common/qemu.rs"]
mod qemu;

// ---------------------------------------------------------------------------------------------
// UART0: CMSDK APB UART.

const UART0: usize = 0x4000_4000;
const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const INTCLEAR: usize = 0x0C;
const BAUDDIV: usize = 0x10;
const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INT_EN: u32 = 1 << 3;
const INT_RX: u32 = 1 << 1;
/// UART0's receive interrupt on mps2-an385/an386 (its transmit interrupt is 1).
const UART0_RX_IRQ: Irq = Irq(0);

fn uart_read(reg: usize) -> u32 {
    // SAFETY: a register of UART0, which only this file touches.
    unsafe { ((UART0 + reg) as *const u32).read_volatile() }
}

fn uart_write(reg: usize, value: u32) {
    // SAFETY: as above.
    unsafe { ((UART0 + reg) as *mut u32).write_volatile(value) }
}

#[derive(Clone, Copy)]
struct Irq(u16);

// SAFETY: the number is an interrupt of this board.
unsafe impl cortex_m::interrupt::InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

fn uart_rx_interrupt() {
    // Cleared before reading: a byte QEMU delivers once DATA is read raises it again.
    uart_write(INTCLEAR, INT_RX);
    let room =
        qemu::RX.fill(|| (uart_read(STATE) & STATE_RX_FULL != 0).then(|| uart_read(DATA) as u8));
    if !room {
        // The byte stays in the UART until the reader makes room (see `Rx::read`).
        NVIC::mask(UART0_RX_IRQ);
    }
}

/// The UART's receive half.
pub struct Rx;

impl embedded_io_async::ErrorType for Rx {
    type Error = Infallible;
}

impl embedded_io_async::Read for Rx {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        qemu::RX
            .read(buf, || {
                // Room again: let the interrupt take the byte it left in the UART.
                NVIC::pend(UART0_RX_IRQ);
                // SAFETY: the handler only touches the ring and the UART.
                unsafe { NVIC::unmask(UART0_RX_IRQ) };
            })
            .await
    }
}

/// The UART's transmit half.
pub struct Tx;

impl embedded_io_async::ErrorType for Tx {
    type Error = Infallible;
}

impl embedded_io_async::Write for Tx {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let mut n = 0;
        for &byte in buf {
            while uart_read(STATE) & STATE_TX_FULL != 0 {
                if n > 0 {
                    return Ok(n);
                }
                // QEMU's pty backend is busy: let the other tasks run meanwhile.
                embassy_futures::yield_now().await;
            }
            uart_write(DATA, u32::from(byte));
            n += 1;
        }
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Time: the clock is CMSDK APB TIMER0 (0x4000_0000), free-running down from 2^32 - 1 at the
// 25 MHz peripheral clock, read at every `now()`; its wraps (every 172 s) are counted there.
// SysTick's 1 kHz interrupt only checks the timer queue: QEMU may deliver fewer ticks than
// elapsed on a busy host, which a clock counting ticks would lose.

const TIMER0: usize = 0x4000_0000;
const TIMER_CTRL: usize = 0x0;
const TIMER_VALUE: usize = 0x4;
const TIMER_RELOAD: usize = 0x8;
const TIMER_ENABLE: u32 = 1;

fn timer0(reg: usize) -> *mut u32 {
    (TIMER0 + reg) as *mut u32
}

struct Clock {
    /// Timer ticks counted down at the last reading, and the wraps seen.
    last: u32,
    wraps: u64,
    /// The timer queue's next expiry, in microseconds (`u64::MAX`: none).
    alarm: u64,
}

struct TimerDriver {
    clock: Mutex<RefCell<Clock>>,
    queue: Mutex<RefCell<Queue>>,
}

impl TimerDriver {
    /// Timer ticks (25 MHz) since start.
    fn ticks_in(&self, cs: critical_section::CriticalSection<'_>) -> u64 {
        // SAFETY: TIMER0's value register, which only this driver touches.
        let value = unsafe { timer0(TIMER_VALUE).read_volatile() };
        let mut clock = self.clock.borrow(cs).borrow_mut();
        let ticks = u32::MAX - value;
        if ticks < clock.last {
            clock.wraps += 1;
        }
        clock.last = ticks;
        (clock.wraps << 32) | u64::from(ticks)
    }

    /// Microseconds since start.
    fn now_in(&self, cs: critical_section::CriticalSection<'_>) -> u64 {
        self.ticks_in(cs) / 25
    }

    /// Wakes what expired and keeps the next expiry.
    fn expire(&self, cs: critical_section::CriticalSection<'_>) {
        let now = self.now_in(cs);
        let next = self.queue.borrow(cs).borrow_mut().next_expiration(now);
        self.clock.borrow(cs).borrow_mut().alarm = next;
    }
}

impl embassy_time_driver::Driver for TimerDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.now_in(cs))
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            if self.queue.borrow(cs).borrow_mut().schedule_wake(at, waker) {
                self.expire(cs);
            }
        });
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: TimerDriver = TimerDriver {
    clock: Mutex::new(RefCell::new(Clock { last: 0, wraps: 0, alarm: u64::MAX })),
    queue: Mutex::new(RefCell::new(Queue::new())),
});

#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        // Also reads the clock at least every millisecond, so that no wrap goes unseen.
        if DRIVER.now_in(cs) >= DRIVER.clock.borrow(cs).borrow().alarm {
            DRIVER.expire(cs);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Interrupts, faults, panics.

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn == i16::try_from(UART0_RX_IRQ.0).unwrap_or(-1) {
        uart_rx_interrupt();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    info!("verdict: FAIL (hard fault at pc {:#x})", frame.pc());
    fail()
}

#[panic_handler]
fn panic(panic: &core::panic::PanicInfo<'_>) -> ! {
    info!("verdict: FAIL (panic: {})", panic);
    fail()
}

fn fail() -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

// ---------------------------------------------------------------------------------------------
// Start-up, and the end of a run.

unsafe extern "C" {
    static _stack_end: u32;
    static _stack_start: u32;
}

/// The stack region (`cortex-m-rt`: from the end of static memory up to the top of RAM).
fn stack() -> (usize, usize) {
    (
        addr_of!(_stack_end) as usize,
        addr_of!(_stack_start) as usize,
    )
}

/// The core's busy time since start, in nanoseconds: the clock less the time asleep in WFI (40
/// ns a timer tick). Under QEMU's `-icount shift=0`, one nanosecond per instruction.
pub fn busy_ns() -> u64 {
    let ticks = critical_section::with(|cs| DRIVER.ticks_in(cs));
    (ticks - qemu::asleep()) * 40
}

/// The end of a run, called by the shared application's `exit` command: exit status 0 when the
/// stack stayed within [`qemu::STACK_BUDGET`].
pub fn exit() -> ! {
    let (bottom, top) = stack();
    if !qemu::verdict(bottom, top) {
        fail()
    }
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

#[entry]
fn main() -> ! {
    qemu::paint_stack(stack().0, cortex_m::register::msp::read() as usize);
    let mut core = cortex_m::Peripherals::take().unwrap_or_else(|| unreachable!());
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(25_000 - 1);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();
    // SAFETY: TIMER0's registers, which only the time driver reads.
    unsafe {
        timer0(TIMER_RELOAD).write_volatile(u32::MAX);
        timer0(TIMER_VALUE).write_volatile(u32::MAX);
        timer0(TIMER_CTRL).write_volatile(TIMER_ENABLE);
    }

    uart_write(BAUDDIV, 16);
    uart_write(CTRL, CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN);
    // SAFETY: the handler only touches the ring and the UART.
    unsafe { NVIC::unmask(UART0_RX_IRQ) };

    static EXECUTOR: StaticCell<raw::Executor> = StaticCell::new();
    let executor: &'static raw::Executor = EXECUTOR.init(raw::Executor::new(core::ptr::null_mut()));
    let spawner = executor.spawner();
    spawner.spawn(product(spawner).unwrap_or_else(|_| unreachable!()));
    // Interrupts masked between the check and WFI, so that a wake-up cannot slip in between;
    // WFI still returns on a pending interrupt, which runs once they are unmasked.
    qemu::run(executor, || {
        critical_section::with(|cs| {
            if !qemu::PENDING.load(Ordering::Acquire) {
                let start = DRIVER.ticks_in(cs);
                cortex_m::asm::wfi();
                qemu::slept(DRIVER.ticks_in(cs) - start);
            }
        });
    })
}

#[embassy_executor::task]
async fn product(spawner: Spawner) -> ! {
    info!(
        "mps2-an386: UART0 to the modem, TIMER0 clock, broker {}:{} as {}",
        app::HOST,
        app::PORT,
        app::CLIENT_ID
    );
    let led = app::Led {
        pin: qemu::LogLed,
        active_low: false,
    };
    app::start(Rx, Tx, mqtt_modem::NoReset, led, |runner| {
        spawner.spawn(modem_runner(runner).unwrap_or_else(|_| unreachable!()))
    })
    .await
}

#[embassy_executor::task]
async fn modem_runner(runner: app::ModemRunner<Rx>) -> ! {
    runner.run().await
}
