//! Small, total parsers for the modem's information lines: `+NAME:<fields>` with or without a
//! space after the colon (`+CFUN: 1` against `+MQTTSTATE:1`), and fields that are either quoted
//! (with `\"` and `\\` escapes) or bare up to the next comma.

/// The text after `prefix:` (and an optional space), if `line` starts with `prefix:`.
pub(crate) fn after_prefix<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let rest = line.strip_prefix(prefix)?.strip_prefix(b":")?;
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// The lines of a response as the runner stored them (joined by CRLF), empty ones skipped.
pub(crate) fn lines(resp: &[u8]) -> impl Iterator<Item = &[u8]> {
    resp.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

/// The text after `prefix:` of the first answer line that has that head (the "prefix, then
/// fields" shape every information line has).
#[inline(never)]
pub(crate) fn info_line<'a>(resp: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    lines(resp).find_map(|l| after_prefix(l, prefix))
}

/// The number of the first `prefix:<n>` answer line (`+MQTTSTATE:1`), if it has one.
pub(crate) fn info_number(resp: &[u8], prefix: &[u8]) -> Option<u32> {
    info_line(resp, prefix).and_then(number)
}

/// How a quoted string ends when it is not closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unclosed {
    /// The text ran out after this many bytes (the closing quote may still come).
    Short(usize),
    /// A CR or LF came first: it is not a quoted string.
    LineEnd,
}

/// Where the quoted string whose body `text` starts (after its opening quote) closes: the index
/// of its closing `"`; a `\` escapes the byte after it. The one scanner of quoted strings, for
/// answer fields and message topics alike.
pub(crate) fn closing_quote(text: &[u8]) -> Result<usize, Unclosed> {
    let mut i = 0;
    loop {
        match text.get(i) {
            None => return Err(Unclosed::Short(i)),
            Some(b'\\') => i += 2,
            Some(b'"') => return Ok(i),
            Some(b'\r' | b'\n') => return Err(Unclosed::LineEnd),
            Some(_) => i += 1,
        }
    }
}

/// A decimal number that fits `u32`, with nothing else around it.
pub(crate) fn number(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 10 {
        return None;
    }
    let mut value: u32 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(value)
}

/// A field as it stands on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawField<'a> {
    /// A quoted field, quotes removed, escapes still in place.
    Quoted(&'a [u8]),
    /// A bare field.
    Bare(&'a [u8]),
}

impl RawField<'_> {
    /// The field as a number (bare fields only).
    pub(crate) fn number(self) -> Option<u32> {
        match self {
            Self::Bare(b) => number(b),
            Self::Quoted(_) => None,
        }
    }

    /// Copies the field, escapes resolved, into `out`; `None` if it does not fit.
    pub(crate) fn unescape_into(self, out: &mut [u8]) -> Option<usize> {
        match self {
            Self::Bare(b) => {
                out.get_mut(..b.len())?.copy_from_slice(b);
                Some(b.len())
            }
            Self::Quoted(b) => {
                let mut n = 0;
                let mut bytes = b.iter();
                while let Some(&c) = bytes.next() {
                    let c = if c == b'\\' {
                        *bytes.next().unwrap_or(&b'\\')
                    } else {
                        c
                    };
                    *out.get_mut(n)? = c;
                    n += 1;
                }
                Some(n)
            }
        }
    }

    /// The field as a UTF-8 string of at most `N` bytes.
    pub(crate) fn to_string<const N: usize>(self) -> Option<heapless::String<N>> {
        let mut buf = [0u8; N];
        let n = self.unescape_into(&mut buf)?;
        let text = core::str::from_utf8(&buf[..n]).ok()?;
        heapless::String::try_from(text).ok()
    }
}

/// Splits a field list. A quoted field runs to its closing unescaped quote; a bare field runs
/// to the next comma. Malformed input (a quote that never closes, text after a closing quote)
/// makes the iterator yield `None` for that field and stop.
pub(crate) struct Fields<'a> {
    rest: Option<&'a [u8]>,
}

pub(crate) fn fields(text: &[u8]) -> Fields<'_> {
    Fields { rest: Some(text) }
}

impl<'a> Fields<'a> {
    /// Everything not yet split, as one bare field (for a last field that may hold commas).
    pub(crate) fn remainder(&mut self) -> Option<&'a [u8]> {
        self.rest.take()
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Option<RawField<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.rest.take()?;
        if let Some(body) = text.strip_prefix(b"\"") {
            let Ok(i) = closing_quote(body) else {
                return Some(None);
            };
            return Some(match &body[i + 1..] {
                [] => Some(RawField::Quoted(&body[..i])),
                [b',', tail @ ..] => {
                    self.rest = Some(tail);
                    Some(RawField::Quoted(&body[..i]))
                }
                _ => None,
            });
        }
        match text.iter().position(|&b| b == b',') {
            Some(comma) => {
                self.rest = Some(&text[comma + 1..]);
                Some(Some(RawField::Bare(&text[..comma])))
            }
            None => Some(Some(RawField::Bare(text))),
        }
    }
}

/// The result code of the first `prefix:<n>` line in `resp` (UC8088 `+MQTTCONNECT:5`), if there is
/// one and it is a number.
/// `Some(Err(()))` when such a line exists but does not carry a bare number.
pub(crate) fn result_code(resp: &[u8], prefix: &[u8]) -> Option<Result<u32, ()>> {
    Some(number(info_line(resp, prefix)?).ok_or(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_with_and_without_space() {
        assert_eq!(after_prefix(b"+CFUN: 1", b"+CFUN"), Some(&b"1"[..]));
        assert_eq!(
            after_prefix(b"+MQTTSTATE:1", b"+MQTTSTATE"),
            Some(&b"1"[..])
        );
        assert_eq!(after_prefix(b"+MQTTSTATEX:1", b"+MQTTSTATE"), None);
    }

    #[test]
    fn quoted_and_bare_fields() {
        // closing_quote loops over an index: a mutant that stops it must fail, not hang.
        let _deadline = crate::deadline::deadline(30);
        let f: heapless::Vec<_, 8> = fields(br#""a\"b,c",1,bare,"""#).collect();
        assert_eq!(
            &f[..],
            &[
                Some(RawField::Quoted(br#"a\"b,c"#)),
                Some(RawField::Bare(b"1")),
                Some(RawField::Bare(b"bare")),
                Some(RawField::Quoted(b"")),
            ]
        );
        let s: heapless::String<8> = f[0].unwrap().to_string().unwrap();
        assert_eq!(s, "a\"b,c");
    }

    #[test]
    fn malformed_fields_stop() {
        // closing_quote loops over an index: a mutant that stops it must fail, not hang.
        let _deadline = crate::deadline::deadline(30);
        let f: heapless::Vec<_, 4> = fields(br#""open,1"#).collect();
        assert_eq!(&f[..], &[None]);
        let f: heapless::Vec<_, 4> = fields(br#""x"y,1"#).collect();
        assert_eq!(&f[..], &[None]);
    }

    #[test]
    fn numbers_are_total() {
        assert_eq!(number(b"0"), Some(0));
        assert_eq!(number(b"4294967295"), Some(u32::MAX));
        assert_eq!(number(b"4294967296"), None);
        assert_eq!(number(b""), None);
        assert_eq!(number(b"1a"), None);
    }
}
