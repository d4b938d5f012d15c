//! The parameters of the ESP-AT and Quectel command lines: strings are quoted, integers are
//! not, and each is checked against a range or a length. How a quoted string reads (escapes or
//! none) and whether blanks surround a parameter are the dialect's, passed to [`split`].
//!
//! Taken in with `#[path]` by `esp_at/parse.rs` and `quectel/parse.rs`, next to `../lex.rs`
//! (whose module comment says why).

use super::lex::{decimal, field_end};
use crate::at::AtError;

/// One parameter as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// A quoted string, read by the dialect's rules (ESP-AT unescapes, Quectel has no escapes).
    Str(Vec<u8>),
    /// An unquoted decimal integer.
    Int(u32),
    /// Nothing between two commas (an omitted optional parameter).
    Omitted,
}

/// Reads a quoted string from just after its opening quote in `s`: its text and the index of
/// its closing quote.
pub type Quoted = fn(s: &[u8], start: usize) -> Result<(Vec<u8>, usize), AtError>;

/// Split the text after `=` into parameters, quoted strings read by `quoted`; with `blanks`,
/// blanks around a parameter are ignored.
pub fn split(s: &[u8], blanks: bool, quoted: Quoted) -> Result<Vec<Param>, AtError> {
    let skip_blanks = |mut i: usize| {
        while blanks && s.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        i = skip_blanks(i);
        if s.get(i) == Some(&b'"') {
            let (text, close) = quoted(s, i + 1)?;
            out.push(Param::Str(text));
            i = skip_blanks(close + 1);
            match s.get(i) {
                None => return Ok(out),
                Some(b',') => i += 1,
                Some(_) => return Err(AtError::InvalidParameter), // junk after the quote
            }
        } else {
            let end = field_end(s, i);
            let text = &s[i..end];
            out.push(unquoted(if blanks { text.trim_ascii() } else { text })?);
            if end >= s.len() {
                return Ok(out);
            }
            i = end + 1; // past the comma; a trailing comma yields one more omitted parameter
        }
    }
}

/// An unquoted parameter: empty is omitted, anything but a decimal is a type mismatch.
fn unquoted(t: &[u8]) -> Result<Param, AtError> {
    if t.is_empty() {
        return Ok(Param::Omitted);
    }
    decimal(t).map(Param::Int).ok_or(AtError::InvalidParameter)
}

/// An integer in `min..=max`.
pub fn int(p: &Param, min: u32, max: u32) -> Result<u32, AtError> {
    match p {
        Param::Int(v) if (min..=max).contains(v) => Ok(*v),
        _ => Err(AtError::InvalidParameter),
    }
}

/// A string of at most `max` bytes.
pub fn bytes(p: &Param, max: usize) -> Result<Vec<u8>, AtError> {
    match p {
        Param::Str(s) if s.len() <= max => Ok(s.clone()),
        _ => Err(AtError::InvalidParameter),
    }
}

/// A UTF-8 string of at most `max` bytes.
pub fn string(p: &Param, max: usize) -> Result<String, AtError> {
    String::from_utf8(bytes(p, max)?).map_err(|_| AtError::InvalidParameter)
}

/// A UTF-8 string of 1 to `max` bytes (a host name, client id or topic filter).
pub fn nonempty(p: &Param, max: usize) -> Result<String, AtError> {
    let s = string(p, max)?;
    if s.is_empty() {
        return Err(AtError::InvalidParameter);
    }
    Ok(s)
}

/// A topic to publish to: 1 to `max` bytes and no wildcards.
pub fn topic_name(p: &Param, max: usize) -> Result<String, AtError> {
    let t = nonempty(p, max)?;
    if t.contains(['+', '#']) {
        return Err(AtError::InvalidParameter);
    }
    Ok(t)
}
