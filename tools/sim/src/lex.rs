//! What every dialect's reading of a command line shares: the `AT` prefix, a basic command or
//! an extended `+NAME` with the rest of the line, and a decimal integer. Written independently
//! of the driver, like the parsers that use it.
//!
//! Each parser (`at.rs`, `dialect/esp_at/parse.rs`, `dialect/quectel/parse.rs`) takes this file
//! in with `#[path]` instead of naming it by a crate path: the fuzz crate (`fuzz/src/lib.rs`)
//! compiles those parser files on their own and gives them only `crate::at::AtError`. The
//! simulator therefore compiles this file once per parser (hence `clippy::duplicate_mod`
//! allowed at each `mod`); nothing here holds state.

use crate::at::AtError;

/// A command line split after its `AT` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// `AT` alone.
    Attention,
    /// A basic command (`E0`, `I`, ...), upper-cased.
    Basic(Vec<u8>),
    /// An extended command: its name with the `+`, upper-cased, and what follows the name.
    Extended(Vec<u8>, &'a [u8]),
}

/// Split a command line after `AT` (in any case); anything else is [`AtError::Unknown`].
pub fn split(line: &[u8]) -> Result<Line<'_>, AtError> {
    if line.len() < 2 || !line[..2].eq_ignore_ascii_case(b"AT") {
        return Err(AtError::Unknown);
    }
    let rest = &line[2..];
    if rest.is_empty() {
        return Ok(Line::Attention);
    }
    if rest[0] != b'+' {
        return Ok(Line::Basic(rest.to_ascii_uppercase()));
    }
    let name_len = rest[1..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count()
        + 1;
    Ok(Line::Extended(
        rest[..name_len].to_ascii_uppercase(),
        &rest[name_len..],
    ))
}

/// `ATE0`/`ATE1`, the basic command every dialect has: whether echo goes on. `ATE` alone
/// means E0 where `bare` says so.
pub fn echo(basic: &[u8], bare: bool) -> Result<bool, AtError> {
    match basic {
        b"E" if bare => Ok(false),
        b"E0" => Ok(false),
        b"E1" => Ok(true),
        _ => Err(AtError::Unknown),
    }
}

/// Where the unquoted parameter that starts at `start` ends: at the next comma or at the end
/// of `s`.
pub fn field_end(s: &[u8], start: usize) -> usize {
    s[start..]
        .iter()
        .position(|&b| b == b',')
        .map_or(s.len(), |n| start + n)
}

/// A run of at most 10 decimal digits that fits a `u32`; `None` for anything else, the empty
/// run included.
pub fn decimal(t: &[u8]) -> Option<u32> {
    if t.is_empty() || t.len() > 10 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    t.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Calls `each` with 20 000 pseudo-random lines from `seed`: `prefix`, then up to 39 bytes of
/// `alphabet` (for the parsers' never-panics tests).
#[cfg(test)]
pub fn garbage_lines(seed: u32, prefix: &[u8], alphabet: &[u8], mut each: impl FnMut(&[u8])) {
    let mut seed = seed;
    for _ in 0..20_000 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let len = (seed >> 24) as usize % 40;
        let mut line = prefix.to_vec();
        for k in 0..len {
            let r = seed.wrapping_mul(k as u32 + 7).rotate_left(k as u32);
            line.push(alphabet[(r as usize) % alphabet.len()]);
        }
        each(&line);
    }
}
