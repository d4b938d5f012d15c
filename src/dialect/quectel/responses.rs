//! What Quectel's commands answer: numbers after a `+QMT…:` head, in an information line or
//! in the result URC that completes the command.

use atat::AtatResp;

use crate::parse::info_line;

/// The numbers of a `+QMT…: <client>,…` line, after the client index (at most three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Numbers {
    values: [i32; 3],
    count: u8,
}

impl AtatResp for Numbers {}

impl Numbers {
    /// The `i`th number after the client index, if the line had it.
    pub fn get(&self, i: usize) -> Option<i32> {
        self.values[..usize::from(self.count)].get(i).copied()
    }
}

/// A decimal number, maybe negative (`-1`).
fn signed(text: &[u8]) -> Option<i32> {
    match text.strip_prefix(b"-") {
        Some(digits) => crate::parse::number(digits)
            .and_then(|n| i32::try_from(n).ok())
            .map(|n| -n),
        None => crate::parse::number(text).and_then(|n| i32::try_from(n).ok()),
    }
}

/// Reads the first `prefix:` line's numbers after the client index; `Numbers::default()`
/// (none) when there is no such line. A field that is not a number is a parse error.
// Out of line: every Quectel command parses its result this way (a copy each costs flash).
#[inline(never)]
pub(crate) fn parse_numbers(resp: &[u8], prefix: &[u8]) -> Result<Numbers, atat::Error> {
    let mut out = Numbers::default();
    let Some(line) = info_line(resp, prefix) else {
        return Ok(out);
    };
    for (i, field) in line.split(|&b| b == b',').enumerate() {
        let n = signed(field).ok_or(atat::Error::Parse)?;
        if i == 0 {
            continue;
        }
        let slot = out.values.get_mut(i - 1).ok_or(atat::Error::Parse)?;
        *slot = n;
        out.count += 1;
    }
    Ok(out)
}
