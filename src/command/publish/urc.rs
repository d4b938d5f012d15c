//! The incoming-message URC. The manual documents none; docs/DIALECTS.md (UC8088 decision 1)
//! sets the default `+MQTTRECV:"<topic>",<len>,<payload>` and also accepts ESP-AT's
//! `+MQTTSUBRECV:<link id>,"<topic>",<len>,<payload>`. Both are read by length
//! ([`crate::dialect::frame`]).

use crate::dialect::MessageFrame;

/// `+MQTTRECV:"<topic>",<len>,<payload>` and `+MQTTSUBRECV:<link id>,"<topic>",<len>,<payload>`.
pub(crate) const FRAMES: [MessageFrame; 2] = [
    MessageFrame {
        head: b"+MQTTRECV:",
        blank: false,
        ids: 0,
        quoted_payload: false,
        pieces: None,
    },
    MessageFrame {
        head: b"+MQTTSUBRECV:",
        blank: false,
        ids: 1,
        quoted_payload: false,
        pieces: None,
    },
];
