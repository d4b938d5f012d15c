//! `AT+MQTTTLS`: TLS on or off, and certificate upload.

pub mod responses;
pub mod types;

use atat::atat_derive::AtatCmd;

use super::{fixed, hand_encoded};
use crate::encode::Param;
use crate::error::{Error, Field, Invalid};
use responses::{TlsStatus, parse_tls_status};
use types::{CertEncoding, CertKind, MAX_CERT_LEN};

/// `AT+MQTTTLS=<tls>,<type>,"<content>",<size>`: uploads one credential and switches TLS on,
/// or (with [`SetTls::off`]) switches it off as `AT+MQTTTLS=0,0,"",0`.
///
/// The content streams from the caller's slice. Its line breaks are encoded per
/// [`CertEncoding`]; `<size>` is the length as given (escaped newlines) or as sent (stripped).
/// `Debug` shows the content's length only: it may be a private key.
#[derive(Clone)]
pub struct SetTls<'a> {
    enabled: bool,
    kind: CertKind,
    content: &'a [u8],
    encoding: CertEncoding,
}

impl core::fmt::Debug for SetTls<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SetTls")
            .field("enabled", &self.enabled)
            .field("kind", &self.kind)
            .field("content_len", &self.content.len())
            .field("encoding", &self.encoding)
            .finish()
    }
}

impl<'a> SetTls<'a> {
    const LINE_PREFIX: &'static [u8] = b"AT+MQTTTLS=";

    /// TLS on, uploading `content` (PEM text, at most 1536 bytes, no NUL).
    pub fn upload(
        kind: CertKind,
        content: &'a [u8],
        encoding: CertEncoding,
    ) -> Result<Self, Error> {
        if content.is_empty() {
            return Err(Error::invalid(Field::Certificate, Invalid::Empty));
        }
        if content.len() > MAX_CERT_LEN {
            return Err(Error::invalid(
                Field::Certificate,
                Invalid::TooLong { max: MAX_CERT_LEN },
            ));
        }
        // CR and LF are encoded, never sent raw; NUL has no encoding.
        if content.contains(&0) {
            return Err(Error::invalid(Field::Certificate, Invalid::LineBreakOrNul));
        }
        let cmd = Self {
            enabled: true,
            kind,
            content,
            encoding,
        };
        // Only line breaks, stripped, would go out as `""`: the form that clears a slot.
        if cmd.size() == 0 {
            return Err(Error::invalid(Field::Certificate, Invalid::Empty));
        }
        Ok(cmd)
    }

    /// TLS off (plain TCP).
    pub fn off() -> Self {
        Self {
            enabled: false,
            kind: CertKind::RootCa,
            content: b"",
            encoding: CertEncoding::EscapedNewlines,
        }
    }

    /// The `<size>` field.
    fn size(&self) -> usize {
        match self.encoding {
            CertEncoding::EscapedNewlines => self.content.len(),
            CertEncoding::StrippedNewlines => self
                .content
                .iter()
                .filter(|&&b| b != b'\r' && b != b'\n')
                .count(),
        }
    }

    fn params(&self) -> [Param<'a>; 4] {
        [
            Param::Int(u32::from(self.enabled)),
            Param::Int(self.kind as u32),
            Param::Cert(self.content, self.encoding),
            // Bounded by MAX_CERT_LEN, so it fits u32.
            Param::Int(self.size() as u32),
        ]
    }
}

hand_encoded!(SetTls, b"+MQTTTLS", code = true, timeout_ms = 5000);

/// `AT+MQTTTLS?`: reads whether TLS is on.
#[derive(Debug, Clone, AtatCmd)]
#[at_cmd("+MQTTTLS?", TlsStatus, timeout_ms = 1000, parse = parse_tls_status)]
pub struct GetTls;

fixed!(GetTls, b"AT+MQTTTLS?\r", info = b"+MQTTTLS");

super::test_form!(
    /// `AT+MQTTTLS=?`: the modem's syntax for `AT+MQTTTLS`.
    TestTls,
    "+MQTTTLS=?",
    b"AT+MQTTTLS=?\r",
    b"+MQTTTLS"
);
