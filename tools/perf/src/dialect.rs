//! The three dialects the driver speaks, as the benchmarks need them: the exact bytes of a QoS 0
//! publish in both directions (what the fake modem expects and answers, and what the line-rate
//! bound counts) and of an incoming message. Written here by hand from docs/DIALECTS.md, not
//! taken from the driver, so that the fake modem checks the driver's bytes against an
//! independent copy.

use std::io::Write as _;

/// Which module's command set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// UCchip UC8088 (`MqttModem::new`): `AT+MQTTPUB` with the payload in the line.
    Uc8088,
    /// Espressif ESP-AT: `AT+MQTTPUBRAW`, the payload after a `>` prompt.
    EspAt,
    /// Quectel QMT: `AT+QMTPUBEX`, the payload after a `> ` prompt, `OK`, then a result URC.
    Quectel,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Uc8088, Kind::EspAt, Kind::Quectel];

    /// The name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Uc8088 => "UC8088",
            Kind::EspAt => "ESP-AT",
            Kind::Quectel => "Quectel",
        }
    }

    /// The name on the command line (`--dialect`).
    pub fn arg(self) -> &'static str {
        match self {
            Kind::Uc8088 => "uc8088",
            Kind::EspAt => "esp-at",
            Kind::Quectel => "quectel",
        }
    }

    pub fn from_arg(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.arg() == s)
    }

    /// Whether a publish goes through a `>` prompt (line, prompt, raw payload, result).
    pub fn prompted(self) -> bool {
        self != Kind::Uc8088
    }

    /// What the modem answers to a publish line whose payload follows a prompt.
    pub fn prompt_reply(self) -> &'static [u8] {
        match self {
            Kind::Uc8088 => b"",
            Kind::EspAt => b"\r\nOK\r\n\r\n>",
            Kind::Quectel => b"\r\n> ",
        }
    }

    /// What the modem answers once a QoS 0 publish is done (after the line, or after the
    /// payload when prompted).
    pub fn result_reply(self) -> &'static [u8] {
        match self {
            Kind::Uc8088 => b"\r\nOK\r\n",
            Kind::EspAt => b"\r\n+MQTTPUB:OK\r\n",
            Kind::Quectel => b"\r\nOK\r\n\r\n+QMTPUBEX: 0,0,0\r\n",
        }
    }

    /// Writes the publish command line (terminator included; for the UC8088 the escaped
    /// payload is in it) into `buf` the hand-rolled way; returns its length.
    pub fn encode_line(self, buf: &mut [u8], topic: &str, payload: &[u8]) -> usize {
        match self {
            Kind::Uc8088 => crate::cpu::encode_baseline(buf, topic, payload),
            Kind::EspAt => encode_pubraw(buf, topic, payload.len()),
            Kind::Quectel => encode_qmtpubex(buf, topic, payload.len()),
        }
    }

    /// One QoS 0 publish on the wire.
    pub fn publish(self, topic: &str, payload: &[u8]) -> Script {
        let mut line = vec![0u8; 2 * payload.len() + 2 * topic.len() + 64];
        let n = self.encode_line(&mut line, topic, payload);
        line.truncate(n);
        Script {
            kind: self,
            line,
            data: if self.prompted() {
                payload.to_vec()
            } else {
                Vec::new()
            },
        }
    }

    /// The incoming-message URC carrying `payload` on `topic` (QoS 0), as the module writes it.
    pub fn urc(self, topic: &str, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(payload.len() + 64);
        match self {
            Kind::Uc8088 => return crate::cpu::urc(topic, payload),
            // ESP-AT writes its URCs with no CR LF in front (docs/DIALECTS.md, ESP-AT 8).
            Kind::EspAt => write!(v, "+MQTTSUBRECV:0,\"{topic}\",{},", payload.len()).unwrap(),
            Kind::Quectel => {
                write!(v, "\r\n+QMTRECV: 0,0,\"{topic}\",{},\"", payload.len()).unwrap()
            }
        }
        v.extend_from_slice(payload);
        if self == Kind::Quectel {
            v.push(b'"');
        }
        v.extend_from_slice(b"\r\n");
        v
    }
}

/// `AT+MQTTPUBRAW=0,"<topic>",<len>,0,0\r\n`, the topic's `\`, `"` and `,` escaped.
pub fn encode_pubraw(buf: &mut [u8], topic: &str, len: usize) -> usize {
    let total = buf.len();
    let mut w: &mut [u8] = buf;
    w.write_all(b"AT+MQTTPUBRAW=0,\"").unwrap();
    for &b in topic.as_bytes() {
        if matches!(b, b'"' | b'\\' | b',') {
            w.write_all(b"\\").unwrap();
        }
        w.write_all(&[b]).unwrap();
    }
    write!(w, "\",{len},0,0\r\n").unwrap();
    total - w.len()
}

/// `AT+QMTPUBEX=0,0,0,0,"<topic>",<len>\r` (Quectel has no escape; msgid 0 for QoS 0).
pub fn encode_qmtpubex(buf: &mut [u8], topic: &str, len: usize) -> usize {
    let total = buf.len();
    let mut w: &mut [u8] = buf;
    write!(w, "AT+QMTPUBEX=0,0,0,0,\"{topic}\",{len}\r").unwrap();
    total - w.len()
}

/// The bytes of one publish: what the host writes and what the modem answers.
#[derive(Clone, Debug)]
pub struct Script {
    pub kind: Kind,
    /// The command line, terminator included.
    pub line: Vec<u8>,
    /// The raw bytes written after the prompt (empty without one).
    pub data: Vec<u8>,
}

impl Script {
    /// Bytes host to modem: the line and the payload after the prompt.
    pub fn tx(&self) -> usize {
        self.line.len() + self.data.len()
    }

    /// Bytes modem to host: the prompt and the result.
    pub fn rx(&self) -> usize {
        self.kind.prompt_reply().len() + self.kind.result_reply().len()
    }

    /// Publishes per second at 8N1 if every byte each way follows the one before it with no
    /// gap (each step waits for the previous one's last byte).
    pub fn bound(&self, baud: u32) -> f64 {
        f64::from(baud) / 10.0 / (self.tx() + self.rx()) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atat::AtatCmd;
    use mqtt_modem::Qos;
    use mqtt_modem::command::ModemCommand;
    use mqtt_modem::dialect::esp_at::commands::PublishRaw;
    use mqtt_modem::dialect::quectel::commands::Publish as QPublish;

    /// The hand-written lines are the driver's, byte for byte (the fake modem also checks every
    /// line it receives).
    #[test]
    fn lines_match_the_driver() {
        let payload = b"x\"y,z\r\n";
        for topic in ["tele/dev-0001/tx", "a,b\\c"] {
            let s = Kind::EspAt.publish(topic, payload);
            let cmd = PublishRaw {
                topic: topic.as_bytes(),
                payload,
                qos: Qos::AtMostOnce,
                retain: false,
            };
            let mut buf = [0u8; 128];
            let n = cmd.write(&mut buf);
            assert_eq!(s.line, &buf[..n]);
            assert_eq!(cmd.data(), Some(&payload[..]));
        }
        let s = Kind::Quectel.publish("tele/dev-0001/tx", payload);
        let cmd = QPublish {
            msgid: 0,
            qos: Qos::AtMostOnce,
            retain: false,
            topic: b"tele/dev-0001/tx",
            payload,
        };
        let mut buf = [0u8; 128];
        let n = cmd.write(&mut buf);
        assert_eq!(s.line, &buf[..n]);
        assert_eq!((s.tx(), s.rx()), (n + payload.len(), 4 + 26));
        assert_eq!(Kind::EspAt.publish("t", payload).rx(), 9 + 15);
    }

    #[test]
    fn urcs() {
        assert_eq!(
            Kind::EspAt.urc("a/b", b"x,\"y"),
            b"+MQTTSUBRECV:0,\"a/b\",4,x,\"y\r\n"
        );
        assert_eq!(
            Kind::Quectel.urc("a/b", b"x,\"y"),
            b"\r\n+QMTRECV: 0,0,\"a/b\",4,\"x,\"y\"\r\n"
        );
    }
}
