//! The line reader every dialect shares: host bytes in, command lines (or a prompted command's
//! raw data) out.
//!
//! It runs inside the modem task, so a command that asks for raw data (`AT+MQTTPUBRAW`,
//! `AT+QMTPUBEX`) switches it before the next byte is looked at: from then on every byte,
//! CR, LF and NUL included, is data until the announced length is reached.

use std::collections::VecDeque;

use crate::sim::MAX_LINE;

/// How a command line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terminator {
    /// CR ends the line; LF is ignored wherever it appears (UC8088, Quectel).
    Cr,
    /// LF ends the line and one CR right before it is dropped (ESP-AT's CR-LF).
    CrLf,
}

/// What the framer delivers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// A command line without its terminator, and the bytes echo repeats (line + terminator).
    Line { text: Vec<u8>, echo: Vec<u8> },
    /// The raw data a prompted command asked for, exactly as long as announced.
    Raw(Vec<u8>),
}

/// The line reader of one modem.
#[derive(Debug)]
pub(crate) struct Framer {
    terminator: Terminator,
    input: VecDeque<u8>,
    line: Vec<u8>,
    overflow: bool,
    raw: Option<(usize, Vec<u8>)>,
}

impl Framer {
    pub fn new(terminator: Terminator) -> Self {
        Framer {
            terminator,
            input: VecDeque::new(),
            line: Vec::new(),
            overflow: false,
            raw: None,
        }
    }

    /// Bytes from the host, in order.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    /// Collect exactly `len` raw bytes next (0 delivers an empty [`Item::Raw`] at once).
    pub fn expect_raw(&mut self, len: usize) {
        self.raw = Some((len, Vec::with_capacity(len.min(1 << 16))));
    }

    /// Whether a prompted command is still collecting its data.
    pub fn in_raw(&self) -> bool {
        self.raw.is_some()
    }

    /// Forget a raw collection in progress (reboot); bytes already received stay.
    pub fn cancel_raw(&mut self) {
        self.raw = None;
    }

    /// The next complete item, if the bytes fed so far hold one.
    pub fn next_item(&mut self) -> Option<Item> {
        if let Some((len, data)) = &mut self.raw {
            let take = (*len - data.len()).min(self.input.len());
            data.extend(self.input.drain(..take));
            if data.len() < *len {
                return None;
            }
            let (_, data) = self.raw.take()?;
            return Some(Item::Raw(data));
        }
        while let Some(b) = self.input.pop_front() {
            let end = match (self.terminator, b) {
                (Terminator::Cr, b'\r') => Some(b"\r".to_vec()),
                (Terminator::Cr, b'\n') => continue, // LF after CR (or stray): ignored
                (Terminator::CrLf, b'\n') => {
                    if self.line.last() == Some(&b'\r') && !self.overflow {
                        self.line.pop();
                        Some(b"\r\n".to_vec())
                    } else {
                        Some(b"\n".to_vec())
                    }
                }
                _ => None,
            };
            match end {
                Some(end) => {
                    let text = std::mem::take(&mut self.line);
                    // An over-long line is reported as a line that cannot parse.
                    let text = if std::mem::take(&mut self.overflow) {
                        b"\xff".to_vec()
                    } else {
                        text
                    };
                    let mut echo = text.clone();
                    echo.extend(end);
                    return Some(Item::Line { text, echo });
                }
                None if self.line.len() >= MAX_LINE => self.overflow = true,
                None => self.line.push(b),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &[u8], echo: &[u8]) -> Option<Item> {
        Some(Item::Line {
            text: text.to_vec(),
            echo: echo.to_vec(),
        })
    }

    #[test]
    fn cr_lines_ignore_lf() {
        let mut f = Framer::new(Terminator::Cr);
        f.feed(b"AT\r\nA\nTE0\r\r");
        assert_eq!(f.next_item(), line(b"AT", b"AT\r"));
        assert_eq!(f.next_item(), line(b"ATE0", b"ATE0\r"));
        assert_eq!(f.next_item(), line(b"", b"\r"));
        assert_eq!(f.next_item(), None);
        f.feed(b"AT");
        assert_eq!(f.next_item(), None);
        f.feed(b"I\r");
        assert_eq!(f.next_item(), line(b"ATI", b"ATI\r"));
    }

    #[test]
    fn crlf_lines_end_at_lf() {
        let mut f = Framer::new(Terminator::CrLf);
        f.feed(b"AT\r");
        assert_eq!(f.next_item(), None);
        f.feed(b"\nATE0\nA\rB\r\n");
        assert_eq!(f.next_item(), line(b"AT", b"AT\r\n"));
        assert_eq!(f.next_item(), line(b"ATE0", b"ATE0\n"));
        assert_eq!(f.next_item(), line(b"A\rB", b"A\rB\r\n"));
    }

    #[test]
    fn raw_takes_every_byte_then_lines_resume() {
        let mut f = Framer::new(Terminator::Cr);
        f.feed(b"AT+X=5\r\n\r\0\"");
        assert_eq!(f.next_item(), line(b"AT+X=5", b"AT+X=5\r"));
        f.expect_raw(5);
        assert!(f.in_raw());
        assert_eq!(f.next_item(), None);
        f.feed(b",AT\r");
        assert_eq!(f.next_item(), Some(Item::Raw(b"\n\r\0\",".to_vec())));
        assert!(!f.in_raw());
        assert_eq!(f.next_item(), line(b"AT", b"AT\r"));
        f.expect_raw(0);
        assert_eq!(f.next_item(), Some(Item::Raw(Vec::new())));
    }

    #[test]
    fn overflow_becomes_an_unparsable_line() {
        let mut f = Framer::new(Terminator::Cr);
        f.feed(&vec![b'a'; MAX_LINE + 10]);
        f.feed(b"\rAT\r");
        assert_eq!(f.next_item(), line(b"\xff", b"\xff\r"));
        assert_eq!(f.next_item(), line(b"AT", b"AT\r"));
    }
}
