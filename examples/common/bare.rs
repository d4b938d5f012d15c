//! The footprint baseline of both examples (feature `bare-uart`): the same HAL, executor and
//! logger as the product, echoing UART bytes, without the driver. Included like `app.rs`.

use embedded_io_async::{Read, Write};

/// Echoes every byte received on `rx` to `tx`, forever.
pub async fn echo<R: Read, W: Write>(mut rx: R, mut tx: W) -> ! {
    let mut buf = [0u8; 64];
    loop {
        // By path: esp-hal's inherent blocking `read` would shadow the async trait method.
        match Read::read(&mut rx, &mut buf).await {
            Ok(n) => {
                if Write::write_all(&mut tx, &buf[..n]).await.is_err() {
                    warn!("UART write error");
                }
            }
            Err(_) => warn!("UART read error"),
        }
    }
}
