//! The one place that puts parameters on the wire.
//!
//! Every string-bearing command is a [`Line`]: a fixed prefix such as `AT+MQTTPUB=`, a list of
//! [`Param`]s joined by commas, and the CR terminator. The line is walked as [`Piece`]s that
//! borrow the caller's bytes, so a 1 KiB payload or a 1536-byte certificate goes from the
//! caller's slice to the UART without being copied into a command buffer.
//!
//! Escaping follows PROTOCOL.md: inside quotes `\` and `"` get a backslash. CR, LF and NUL are
//! refused by the validators below before a byte is written, so no input can end the line early.

use embedded_io_async::Write;

use crate::error::{Error, Field, Invalid};

/// How certificate line breaks go on the wire (the manual does not say; PROTOCOL.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CertEncoding {
    /// LF is sent as the two characters `\n` and CR as `\r`; `<size>` is the length as given.
    #[default]
    EscapedNewlines,
    /// CR and LF are left out; `<size>` is the number of bytes actually sent inside the quotes.
    StrippedNewlines,
}

/// One parameter of a command line.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    /// A decimal integer.
    Int(u32),
    /// A string in quotes, `\` and `"` escaped.
    Quoted(&'a [u8]),
    /// A string sent bare (validated to hold no `,` `"` CR LF NUL).
    Unquoted(&'a [u8]),
    /// Certificate text in quotes with its line breaks encoded.
    Cert(&'a [u8], CertEncoding),
}

/// The most parameters a command line has (`AT+MQTTCONFIG`).
const MAX_PARAMS: usize = 7;

/// A command line: prefix, comma-separated parameters, CR.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    prefix: &'static [u8],
    params: [Param<'a>; MAX_PARAMS],
    count: usize,
}

/// A run of bytes, or an integer still to be formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Bytes(&'a [u8]),
    Int(u32),
}

const QUOTE: &[u8] = b"\"";
const COMMA: &[u8] = b",";
const CR: &[u8] = b"\r";

/// The escape sequence for `b` in this kind of parameter, if it needs one.
/// `Some(b"")` drops the byte (stripped certificate newlines).
#[inline]
fn escape_of(b: u8, cert: Option<CertEncoding>) -> Option<&'static [u8]> {
    match (b, cert) {
        (b'"', _) => Some(b"\\\""),
        (b'\\', _) => Some(b"\\\\"),
        (b'\n', Some(CertEncoding::EscapedNewlines)) => Some(b"\\n"),
        (b'\r', Some(CertEncoding::EscapedNewlines)) => Some(b"\\r"),
        (b'\n' | b'\r', Some(CertEncoding::StrippedNewlines)) => Some(b""),
        _ => None,
    }
}

/// Walks the pieces of a line in order.
pub(crate) struct Pieces<'a> {
    line: Line<'a>,
    /// Index of the parameter being walked.
    param: usize,
    stage: Stage<'a>,
}

#[derive(Clone, Copy)]
enum Stage<'a> {
    Prefix,
    Separator,
    Value,
    Body(&'a [u8], Option<CertEncoding>),
    Close,
    Terminator,
    Done,
}

impl<'a> Line<'a> {
    /// A line of `prefix` and up to seven `params` (more are never needed, and are dropped).
    pub(crate) fn new(prefix: &'static [u8], params: &[Param<'a>]) -> Self {
        let mut line = Self {
            prefix,
            params: [Param::Int(0); MAX_PARAMS],
            count: params.len().min(MAX_PARAMS),
        };
        line.params[..line.count].copy_from_slice(&params[..line.count]);
        line
    }

    fn params(&self) -> &[Param<'a>] {
        &self.params[..self.count]
    }

    pub(crate) fn pieces(&self) -> Pieces<'a> {
        Pieces {
            line: *self,
            param: 0,
            stage: Stage::Prefix,
        }
    }

    /// Bytes the line takes on the wire, terminator included.
    pub(crate) fn encoded_len(&self) -> usize {
        self.pieces()
            .map(|p| match p {
                Piece::Bytes(b) => b.len(),
                Piece::Int(v) => int_len(v),
            })
            .sum()
    }

    /// Writes the whole line into `buf`; `None` (and nothing promised about `buf`) if it does
    /// not fit. Never panics.
    pub(crate) fn write_into(&self, buf: &mut [u8]) -> Option<usize> {
        let mut at = 0;
        let mut digits = [0u8; 10];
        for piece in self.pieces() {
            let bytes = match piece {
                Piece::Bytes(b) => b,
                Piece::Int(v) => format_int(v, &mut digits),
            };
            buf.get_mut(at..at + bytes.len())?.copy_from_slice(bytes);
            at += bytes.len();
        }
        Some(at)
    }

    /// Streams the line to `w`, batching small pieces through a 64-byte stack buffer and
    /// writing long runs of the caller's bytes straight through.
    pub(crate) async fn write_to<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        const DIRECT: usize = 32;
        let mut batch = [0u8; 64];
        let mut used = 0;
        let mut digits = [0u8; 10];
        for piece in self.pieces() {
            let bytes = match piece {
                Piece::Bytes(b) => b,
                Piece::Int(v) => format_int(v, &mut digits),
            };
            let direct = bytes.len() >= DIRECT;
            if (direct || bytes.len() > batch.len() - used) && used > 0 {
                w.write_all(&batch[..used]).await?;
                used = 0;
            }
            if direct {
                w.write_all(bytes).await?;
            } else {
                batch[used..used + bytes.len()].copy_from_slice(bytes);
                used += bytes.len();
            }
        }
        if used > 0 {
            w.write_all(&batch[..used]).await?;
        }
        Ok(())
    }
}

impl Pieces<'_> {
    fn advance(&mut self) {
        self.param += 1;
        self.stage = if self.param < self.line.count {
            Stage::Separator
        } else {
            Stage::Terminator
        };
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        loop {
            match self.stage {
                Stage::Prefix => {
                    self.stage = if self.line.count == 0 {
                        Stage::Terminator
                    } else {
                        Stage::Value
                    };
                    return Some(Piece::Bytes(self.line.prefix));
                }
                Stage::Separator => {
                    self.stage = Stage::Value;
                    return Some(Piece::Bytes(COMMA));
                }
                Stage::Value => match self.line.params()[self.param] {
                    Param::Int(v) => {
                        self.advance();
                        return Some(Piece::Int(v));
                    }
                    Param::Unquoted(b) => {
                        self.advance();
                        return Some(Piece::Bytes(b));
                    }
                    Param::Quoted(b) => {
                        self.stage = Stage::Body(b, None);
                        return Some(Piece::Bytes(QUOTE));
                    }
                    Param::Cert(b, enc) => {
                        self.stage = Stage::Body(b, Some(enc));
                        return Some(Piece::Bytes(QUOTE));
                    }
                },
                Stage::Body(rest, cert) => {
                    let Some((&first, tail)) = rest.split_first() else {
                        self.stage = Stage::Close;
                        continue;
                    };
                    if let Some(esc) = escape_of(first, cert) {
                        self.stage = Stage::Body(tail, cert);
                        if esc.is_empty() {
                            continue;
                        }
                        return Some(Piece::Bytes(esc));
                    }
                    let plain = match cert {
                        // The common case, kept to the two bytes that need escaping.
                        None => rest.iter().position(|&b| b == b'"' || b == b'\\'),
                        Some(_) => rest.iter().position(|&b| escape_of(b, cert).is_some()),
                    }
                    .unwrap_or(rest.len());
                    self.stage = Stage::Body(&rest[plain..], cert);
                    return Some(Piece::Bytes(&rest[..plain]));
                }
                Stage::Close => {
                    self.advance();
                    return Some(Piece::Bytes(QUOTE));
                }
                Stage::Terminator => {
                    self.stage = Stage::Done;
                    return Some(Piece::Bytes(CR));
                }
                Stage::Done => return None,
            }
        }
    }
}

fn int_len(mut v: u32) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

fn format_int(mut v: u32, digits: &mut [u8; 10]) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &digits[at..];
        }
    }
}

/// Refuses a string that could end the command line: CR, LF or NUL anywhere.
pub(crate) fn check_line_safe(field: Field, s: &[u8]) -> Result<(), Error> {
    if s.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(Error::invalid(field, Invalid::LineBreakOrNul));
    }
    Ok(())
}

/// Checks a string parameter: length limits, line safety, and for unquoted mode no `,` or `"`.
pub(crate) fn check_string(
    field: Field,
    s: &[u8],
    max: usize,
    allow_empty: bool,
    quoted: bool,
) -> Result<(), Error> {
    if s.is_empty() && !allow_empty {
        return Err(Error::invalid(field, Invalid::Empty));
    }
    if s.len() > max {
        return Err(Error::invalid(field, Invalid::TooLong { max }));
    }
    check_line_safe(field, s)?;
    // Bare, a comma or quote would shift or open a parameter, and blanks at either end may be
    // trimmed by the modem's parser.
    let blank = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if !quoted
        && (s.iter().any(|&b| matches!(b, b',' | b'"')) || blank(s.first()) || blank(s.last()))
    {
        return Err(Error::invalid(field, Invalid::NeedsQuoting));
    }
    Ok(())
}

/// The string parameter in the requested style.
pub(crate) fn string_param(s: &[u8], quoted: bool) -> Param<'_> {
    if quoted {
        Param::Quoted(s)
    } else {
        Param::Unquoted(s)
    }
}
