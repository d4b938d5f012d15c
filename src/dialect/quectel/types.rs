//! Quectel's limits and values (docs/DIALECTS.md, Quectel QMT "Limits").

/// The client index the driver uses (the module has 0 to 5).
pub const CLIENT: u32 = 0;
/// The longest host name.
pub const MAX_HOST_LEN: usize = 100;
/// The longest keepalive, in seconds.
pub const MAX_KEEPALIVE_S: u16 = 3600;
/// `+QMTCONN: 0,<state>`: connected.
pub const STATE_CONNECTED: i32 = 3;
/// The longest will topic or message.
pub const MAX_WILL_LEN: usize = 255;
/// The SSL context the driver configures and binds the MQTT client to (the module has 0 to 5).
pub const SSL_CONTEXT: u32 = 0;
/// The longest certificate or key the driver uploads (`AT+QFUPL`'s default file size).
pub const MAX_PEM_LEN: usize = 10240;
