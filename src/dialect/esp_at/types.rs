//! ESP-AT's limits (docs/DIALECTS.md, ESP-AT "Limits").

/// The longest command line ESP-AT takes, terminator included, is one byte less.
pub const MAX_LINE_LEN: usize = 256;
/// The longest topic or topic filter.
pub const MAX_TOPIC_LEN: usize = 128;
/// The longest host name.
pub const MAX_HOST_LEN: usize = 128;
/// The longest client id, user name or password (through `AT+MQTTLONG*`).
pub const MAX_LONG_FIELD_LEN: usize = 1024;
/// The longest user name or password `AT+MQTTUSERCFG` itself takes; longer ones go through
/// `AT+MQTTLONGUSERNAME` / `AT+MQTTLONGPASSWORD`.
pub const MAX_USERCFG_CREDENTIAL_LEN: usize = 64;
/// The longest keepalive, in seconds.
pub const MAX_KEEPALIVE_S: u16 = 7200;
/// The only link ESP-AT has.
pub const LINK_ID: u32 = 0;
/// The most ALPN protocols `AT+MQTTALPN` takes.
pub const MAX_ALPN: usize = 5;
/// The longest server name the driver keeps for `AT+MQTTSNI`.
pub const MAX_SERVER_NAME_LEN: usize = 128;
/// The most bytes of ALPN protocol names the driver keeps for `AT+MQTTALPN`, together.
pub const MAX_ALPN_LEN: usize = 96;
/// The longest certificate or key the driver writes to the manufacturing NVS (8 KiB, the size
/// of each certificate partition of the firmware before it).
pub const MAX_PEM_LEN: usize = 8192;
