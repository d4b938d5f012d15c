//! The one place that puts parameters on the wire.
//!
//! Every string-bearing command is a [`Line`]: a fixed prefix such as `AT+MQTTPUB=`, a list of
//! [`Param`]s joined by commas, and the CR terminator. The line is walked as [`Piece`]s that
//! borrow the caller's bytes, so a 1 KiB payload or a 1536-byte certificate goes from the
//! caller's slice to the UART without being copied into a command buffer.
//!
//! Escaping follows docs/DIALECTS.md: inside quotes `\` and `"` get a backslash. CR, LF and NUL are
//! refused by the validators below before a byte is written, so no input can end the line early.

use embedded_io_async::Write;

use crate::error::{Error, Field, Invalid};

/// How certificate line breaks go on the wire (the manual does not say; docs/DIALECTS.md, UC8088 decision 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
    /// A string in quotes with `\`, `"` and `,` escaped (ESP-AT).
    QuotedComma(&'a [u8]),
    /// A string in quotes, sent as it is (validated to hold no `"`: Quectel has no escape).
    QuotedRaw(&'a [u8]),
}

/// Which bytes of a quoted parameter get a backslash (or another encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escapes {
    /// `\` and `"`.
    Plain,
    /// `\`, `"` and `,`.
    Comma,
    /// `\` and `"`, and line breaks encoded for a certificate.
    Cert(CertEncoding),
}

/// The most parameters a command line has (`AT+MQTTCONFIG`).
const MAX_PARAMS: usize = 7;

/// A command line: prefix, comma-separated parameters, CR (or CR LF).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    prefix: &'static [u8],
    params: [Param<'a>; MAX_PARAMS],
    count: usize,
    end: &'static [u8],
}

const QUOTE: &[u8] = b"\"";
const COMMA: &[u8] = b",";
const CR: &[u8] = b"\r";

/// The escape sequence for `b` in this kind of parameter, if it needs one.
/// `Some(b"")` drops the byte (stripped certificate newlines).
#[inline]
fn escape_of(b: u8, escapes: Escapes) -> Option<&'static [u8]> {
    match (b, escapes) {
        (b'"', _) => Some(b"\\\""),
        (b'\\', _) => Some(b"\\\\"),
        (b',', Escapes::Comma) => Some(b"\\,"),
        (b'\n', Escapes::Cert(CertEncoding::EscapedNewlines)) => Some(b"\\n"),
        (b'\r', Escapes::Cert(CertEncoding::EscapedNewlines)) => Some(b"\\r"),
        (b'\n' | b'\r', Escapes::Cert(CertEncoding::StrippedNewlines)) => Some(b""),
        _ => None,
    }
}

/// Where the encoder's bytes go. The encoder is written once, as an `async fn` over this;
/// the in-memory sinks never wait, so it also runs synchronously through `block_on`.
trait Sink {
    type Error;
    async fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
}

/// Into a slice; fails when it is full.
struct SliceSink<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Sink for SliceSink<'_> {
    type Error = ();
    async fn put(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let end = self.at + bytes.len();
        self.buf
            .get_mut(self.at..end)
            .ok_or(())?
            .copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }
}

/// Counts bytes only.
struct CountSink(usize);

impl Sink for CountSink {
    type Error = core::convert::Infallible;
    async fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0 += bytes.len();
        Ok(())
    }
}

/// To the UART: small pieces batched through a 64-byte stack buffer, long runs of the caller's
/// bytes written straight through.
struct UartSink<'w, W> {
    w: &'w mut W,
    batch: [u8; 64],
    used: usize,
}

impl<W: Write> UartSink<'_, W> {
    async fn flush_batch(&mut self) -> Result<(), W::Error> {
        if self.used > 0 {
            self.w.write_all(&self.batch[..self.used]).await?;
            self.used = 0;
        }
        Ok(())
    }
}

impl<W: Write> Sink for UartSink<'_, W> {
    type Error = W::Error;
    async fn put(&mut self, bytes: &[u8]) -> Result<(), W::Error> {
        const DIRECT: usize = 32;
        if bytes.len() >= DIRECT || bytes.len() > self.batch.len() - self.used {
            self.flush_batch().await?;
        }
        if bytes.len() >= DIRECT {
            return self.w.write_all(bytes).await;
        }
        self.batch[self.used..self.used + bytes.len()].copy_from_slice(bytes);
        self.used += bytes.len();
        Ok(())
    }
}

impl<'a> Line<'a> {
    /// A line of `prefix` and up to seven `params` (more are never needed, and are dropped).
    pub(crate) fn new(prefix: &'static [u8], params: &[Param<'a>]) -> Self {
        let mut line = Self {
            prefix,
            params: [Param::Int(0); MAX_PARAMS],
            count: params.len().min(MAX_PARAMS),
            end: CR,
        };
        line.params[..line.count].copy_from_slice(&params[..line.count]);
        line
    }

    /// The same line ended by CR LF (ESP-AT).
    pub(crate) const fn crlf(mut self) -> Self {
        self.end = b"\r\n";
        self
    }

    fn params(&self) -> &[Param<'a>] {
        &self.params[..self.count]
    }

    /// The encoder: prefix, parameters joined by commas, each in its kind's encoding, CR.
    async fn emit<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error> {
        sink.put(self.prefix).await?;
        for (i, param) in self.params().iter().enumerate() {
            if i > 0 {
                sink.put(COMMA).await?;
            }
            match *param {
                Param::Int(v) => sink.put(format_int(v, &mut [0; 10])).await?,
                Param::Unquoted(b) => sink.put(b).await?,
                Param::Quoted(b) => quoted(sink, b, Escapes::Plain).await?,
                Param::Cert(b, enc) => quoted(sink, b, Escapes::Cert(enc)).await?,
                Param::QuotedComma(b) => quoted(sink, b, Escapes::Comma).await?,
                Param::QuotedRaw(b) => {
                    sink.put(QUOTE).await?;
                    sink.put(b).await?;
                    sink.put(QUOTE).await?;
                }
            }
        }
        sink.put(self.end).await
    }

    /// Bytes the line takes on the wire, terminator included.
    pub(crate) fn encoded_len(&self) -> usize {
        let mut count = CountSink(0);
        let _ = embassy_futures::block_on(self.emit(&mut count));
        count.0
    }

    /// Writes the whole line into `buf`; `None` (and nothing promised about `buf`) if it does
    /// not fit. Never panics.
    pub(crate) fn write_into(&self, buf: &mut [u8]) -> Option<usize> {
        let mut sink = SliceSink { buf, at: 0 };
        embassy_futures::block_on(self.emit(&mut sink)).ok()?;
        Some(sink.at)
    }

    /// Streams the line to `w` from the caller's slices.
    pub(crate) async fn write_to<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        let mut sink = UartSink {
            w,
            batch: [0; 64],
            used: 0,
        };
        self.emit(&mut sink).await?;
        sink.flush_batch().await
    }
}

/// A quoted parameter: quotes around `body`, its escapable bytes escaped.
async fn quoted<S: Sink>(sink: &mut S, mut body: &[u8], escapes: Escapes) -> Result<(), S::Error> {
    sink.put(QUOTE).await?;
    loop {
        let next = match escapes {
            // The common case: the bytes that need escaping, found a word at a time.
            // The payload's hot loop: memchr2 inlined here, at its full speed.
            Escapes::Plain => memchr::memchr2(b'"', b'\\', body),
            // Rarer (ESP-AT's short strings, certificates): a plain scan is smaller code.
            Escapes::Comma | Escapes::Cert(_) => {
                body.iter().position(|&b| escape_of(b, escapes).is_some())
            }
        };
        let Some(at) = next else {
            if !body.is_empty() {
                sink.put(body).await?;
            }
            return sink.put(QUOTE).await;
        };
        if at > 0 {
            sink.put(&body[..at]).await?;
        }
        let escape = escape_of(body[at], escapes).unwrap_or(b"");
        if !escape.is_empty() {
            sink.put(escape).await?;
        }
        body = &body[at + 1..];
    }
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
    if memchr::memchr3(b'\r', b'\n', 0, s).is_some() {
        return Err(Error::invalid(field, Invalid::LineBreakOrNul));
    }
    Ok(())
}

/// How the string fields of the configuration go on the wire (UC8088's `AT+MQTTCONFIG`,
/// docs/DIALECTS.md, UC8088 decision 4).
/// Only the UC8088 has a bare form: ESP-AT and Quectel refuse [`Quoting::Unquoted`] with
/// [`Error::Unsupported`](crate::Error::Unsupported)`(`[`Feature::UnquotedStrings`](crate::Feature)`)`
/// before a byte is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Quoting {
    /// Every string quoted, `\` and `"` escaped: any character but CR, LF and NUL is safe.
    #[default]
    Quoted,
    /// The UC8088 manual's example style, bare strings; a field holding `,` or `"` is refused.
    Unquoted,
}

/// `memchr2`, compiled once for the checks of topics, filters and fields (the escaper of big
/// payloads inlines its own, for speed): each inlined copy of its word-at-a-time loop costs
/// about 250 bytes of flash on a Cortex-M.
#[inline(never)]
pub(crate) fn find2(a: u8, b: u8, s: &[u8]) -> Option<usize> {
    memchr::memchr2(a, b, s)
}

/// Whether a string parameter may be empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    /// An empty string is a valid value (a user name, a payload).
    Allowed,
    /// The parameter must hold something (a host, a topic).
    Refused,
}

/// Checks a string parameter: length limits, line safety, and for unquoted mode no `,` or `"`.
pub(crate) fn check_string(
    field: Field,
    s: &[u8],
    max: usize,
    empty: Empty,
    quoting: Quoting,
) -> Result<(), Error> {
    if s.is_empty() && empty == Empty::Refused {
        return Err(Error::invalid(field, Invalid::Empty));
    }
    if s.len() > max {
        return Err(Error::invalid(field, Invalid::TooLong { max }));
    }
    check_line_safe(field, s)?;
    // Bare, a comma or quote would shift or open a parameter, and blanks at either end may be
    // trimmed by the modem's parser.
    let blank = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if quoting == Quoting::Unquoted
        && (find2(b',', b'"', s).is_some() || blank(s.first()) || blank(s.last()))
    {
        return Err(Error::invalid(field, Invalid::NeedsQuoting));
    }
    Ok(())
}

/// The string parameter in the requested style.
pub(crate) fn string_param(s: &[u8], quoting: Quoting) -> Param<'_> {
    if quoting == Quoting::Quoted {
        Param::Quoted(s)
    } else {
        Param::Unquoted(s)
    }
}
