//! The product firmware (`../common/app.rs`) on QEMU's RISC-V `virt` board, built for the
//! ESP32-C3's target (`riscv32imc-unknown-none-elf`). `virt`'s cores implement RV32GC and more,
//! so RV32IMC code runs on them as it is. The end-to-end test (`scripts/qemu-e2e.sh`) connects
//! its UART to the simulated modem and checks the product from the broker's side.
//!
//! The board support, kept small:
//! - The NS16550A UART at 0x1000_0000 is the modem link: receive by interrupt (PLIC source 10,
//!   machine external interrupt) into a ring buffer, transmit by polling the THR-empty flag.
//! - The CLINT's `mtime` (10 MHz) is `embassy-time`'s clock at 1 MHz; `mtimecmp` raises the
//!   machine timer interrupt for the timer queue's next expiry.
//! - embassy's raw executor runs in a loop that sleeps with WFI.
//! - The log and the verdict go out through semihosting: the shared application's `exit`
//!   command ends the run with exit status 0 when the stack stayed within
//!   `qemu::STACK_BUDGET`; a panic or an exception ends it with status 1.

#![no_std]
#![no_main]

use core::cell::RefCell;
use core::convert::Infallible;
use core::ptr::addr_of;
use core::sync::atomic::Ordering;
use core::task::Waker;

use critical_section::Mutex;
use embassy_executor::{Spawner, raw};
use embassy_time_queue_utils::Queue;
use riscv::interrupt::Interrupt;
use riscv_semihosting::debug;
use static_cell::StaticCell;

// Logging for the shared code (defined before `mod app` so that it sees them).
macro_rules! info { ($($t:tt)*) => { ::riscv_semihosting::hprintln!($($t)*) }; }
macro_rules! warn { ($($t:tt)*) => { ::riscv_semihosting::hprintln!($($t)*) }; }
// Debug lines are left out: each semihosting call stops the emulated core.
macro_rules! debug { ($($t:tt)*) => { { let _ = format_args!($($t)*); } }; }

#[path = "../../common/app.rs"]
mod app;
#[path = "../../common/qemu.rs"]
mod qemu;

// ---------------------------------------------------------------------------------------------
// Memory-mapped registers.

fn read32(addr: usize) -> u32 {
    // SAFETY: a device register of the `virt` board, which only this file touches.
    unsafe { (addr as *const u32).read_volatile() }
}

fn write32(addr: usize, value: u32) {
    // SAFETY: as above.
    unsafe { (addr as *mut u32).write_volatile(value) }
}

// ---------------------------------------------------------------------------------------------
// UART: NS16550A, byte registers.

const UART: usize = 0x1000_0000;
const RBR_THR: usize = 0;
const IER: usize = 1;
const FCR: usize = 2;
const LCR: usize = 3;
const MCR: usize = 4;
const LSR: usize = 5;
const IER_RX: u8 = 1 << 0;
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;
const UART_IRQ: u32 = 10;

fn uart_read(reg: usize) -> u8 {
    // SAFETY: a register of the UART, which only this file touches.
    unsafe { ((UART + reg) as *const u8).read_volatile() }
}

fn uart_write(reg: usize, value: u8) {
    // SAFETY: as above.
    unsafe { ((UART + reg) as *mut u8).write_volatile(value) }
}

// PLIC: hart 0's machine-mode context.
const PLIC: usize = 0x0C00_0000;
const PLIC_ENABLE: usize = PLIC + 0x2000;
const PLIC_THRESHOLD: usize = PLIC + 0x20_0000;
const PLIC_CLAIM: usize = PLIC + 0x20_0004;

fn uart_interrupt() {
    let room = qemu::RX.fill(|| (uart_read(LSR) & LSR_DATA_READY != 0).then(|| uart_read(RBR_THR)));
    if !room {
        // The bytes stay in the UART's FIFO (QEMU holds the rest back) until the reader makes
        // room (see `Rx::read`).
        uart_write(IER, 0);
    }
}

/// The UART's receive half.
pub struct Rx;

impl embedded_io_async::ErrorType for Rx {
    type Error = Infallible;
}

impl embedded_io_async::Read for Rx {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        // Room again: the receive interrupt, level-triggered, fires for what waited.
        qemu::RX.read(buf, || uart_write(IER, IER_RX)).await
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
            while uart_read(LSR) & LSR_THR_EMPTY == 0 {
                if n > 0 {
                    return Ok(n);
                }
                // QEMU's pty backend is busy: let the other tasks run meanwhile.
                embassy_futures::yield_now().await;
            }
            uart_write(RBR_THR, byte);
            n += 1;
        }
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Time: the CLINT's 10 MHz `mtime`, counted in microseconds.

const CLINT_MTIMECMP: usize = 0x0200_4000;
const CLINT_MTIME: usize = 0x0200_BFF8;

fn mtime() -> u64 {
    loop {
        let hi = read32(CLINT_MTIME + 4);
        let lo = read32(CLINT_MTIME);
        if read32(CLINT_MTIME + 4) == hi {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

fn set_mtimecmp(at: u64) {
    // High half first to all ones, so that no half-written value fires early.
    write32(CLINT_MTIMECMP + 4, u32::MAX);
    write32(CLINT_MTIMECMP, at as u32);
    write32(CLINT_MTIMECMP + 4, (at >> 32) as u32);
}

struct ClintDriver {
    queue: Mutex<RefCell<Queue>>,
}

impl ClintDriver {
    /// Wakes what expired and sets the timer for the next expiry.
    fn expire(&self, cs: critical_section::CriticalSection<'_>) {
        let next = self
            .queue
            .borrow(cs)
            .borrow_mut()
            .next_expiration(self.now_us());
        set_mtimecmp(next.saturating_mul(10));
    }

    fn now_us(&self) -> u64 {
        mtime() / 10
    }
}

impl embassy_time_driver::Driver for ClintDriver {
    fn now(&self) -> u64 {
        self.now_us()
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            if self.queue.borrow(cs).borrow_mut().schedule_wake(at, waker) {
                self.expire(cs);
            }
        });
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: ClintDriver = ClintDriver {
    queue: Mutex::new(RefCell::new(Queue::new())),
});

// ---------------------------------------------------------------------------------------------
// Interrupts, exceptions, panics.

#[riscv_rt::core_interrupt(Interrupt::MachineTimer)]
fn machine_timer() {
    set_mtimecmp(u64::MAX);
    critical_section::with(|cs| DRIVER.expire(cs));
}

#[riscv_rt::core_interrupt(Interrupt::MachineExternal)]
fn machine_external() {
    let source = read32(PLIC_CLAIM);
    if source == UART_IRQ {
        uart_interrupt();
    }
    if source != 0 {
        write32(PLIC_CLAIM, source);
    }
}

#[unsafe(export_name = "ExceptionHandler")]
fn exception(frame: &riscv_rt::TrapFrame) -> ! {
    info!(
        "verdict: FAIL (exception {}, ra {:#x})",
        riscv::register::mcause::read().code(),
        frame.ra
    );
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
        riscv::asm::wfi();
    }
}

// ---------------------------------------------------------------------------------------------
// Start-up, and the end of a run.

unsafe extern "C" {
    static __estack: u32;
    static __sstack: u32;
}

/// The stack region (`riscv-rt`: from the end of static memory up to the top of RAM).
fn stack() -> (usize, usize) {
    (addr_of!(__estack) as usize, addr_of!(__sstack) as usize)
}

/// The core's busy time since start, in nanoseconds: the clock less the time asleep in WFI (100
/// ns an `mtime` tick). Under QEMU's `-icount shift=0`, one nanosecond per instruction.
pub fn busy_ns() -> u64 {
    (mtime() - qemu::asleep()) * 100
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
        riscv::asm::wfi();
    }
}

#[riscv_rt::entry]
fn main() -> ! {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp) };
    qemu::paint_stack(stack().0, sp);

    // 16550: 8N1, FIFOs on and cleared, OUT2 (the interrupt line on a PC), receive interrupt.
    uart_write(LCR, 0x03);
    uart_write(FCR, 0x07);
    uart_write(MCR, 0x0B);
    uart_write(IER, IER_RX);
    // PLIC: the UART's source at priority 1, enabled for hart 0 in machine mode, threshold 0.
    write32(PLIC + 4 * UART_IRQ as usize, 1);
    write32(PLIC_ENABLE, 1 << UART_IRQ);
    write32(PLIC_THRESHOLD, 0);
    set_mtimecmp(u64::MAX);
    // SAFETY: the handlers above only touch the ring, the UART, the PLIC and the timer queue.
    unsafe {
        riscv::register::mie::set_mext();
        riscv::register::mie::set_mtimer();
        riscv::interrupt::enable();
    }

    static EXECUTOR: StaticCell<raw::Executor> = StaticCell::new();
    let executor: &'static raw::Executor = EXECUTOR.init(raw::Executor::new(core::ptr::null_mut()));
    let spawner = executor.spawner();
    spawner.spawn(product(spawner).unwrap_or_else(|_| unreachable!()));
    // Interrupts masked between the check and WFI, so that a wake-up cannot slip in between;
    // WFI still returns on a pending interrupt, which is taken once they are unmasked.
    qemu::run(executor, || {
        riscv::interrupt::free(|| {
            if !qemu::PENDING.load(Ordering::Acquire) {
                let start = mtime();
                riscv::asm::wfi();
                qemu::slept(mtime() - start);
            }
        });
    })
}

#[embassy_executor::task]
async fn product(spawner: Spawner) -> ! {
    info!(
        "virt (riscv32imc): NS16550A to the modem, CLINT timer, broker {}:{} as {}",
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
