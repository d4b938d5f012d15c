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

/// The size of a stored file (`+QFLST: "<name>",<size>`), none when it is not listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FileSize(pub Option<u32>);

impl AtatResp for FileSize {}

/// Reads the size (the last field) of the first `+QFLST:` line.
pub(crate) fn parse_file_size(resp: &[u8], prefix: &[u8]) -> FileSize {
    FileSize(
        info_line(resp, prefix)
            .and_then(|line| line.rsplit(|&b| b == b',').next())
            .and_then(crate::parse::number),
    )
}

/// What `+QFUPL: <size>,<checksum>` reports of an upload: the bytes the module took and the
/// 16-bit XOR checksum of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Uploaded {
    /// The bytes stored.
    pub size: u32,
    /// Their checksum.
    pub checksum: u16,
}

impl AtatResp for Uploaded {}

/// Reads `+QFUPL: <size>,<checksum in hex>`.
pub(crate) fn parse_uploaded(resp: &[u8], prefix: &[u8]) -> Result<Uploaded, atat::Error> {
    let line = info_line(resp, prefix).ok_or(atat::Error::Parse)?;
    let mut fields = line.split(|&b| b == b',');
    let size = fields
        .next()
        .and_then(crate::parse::number)
        .ok_or(atat::Error::Parse)?;
    let hex = fields.next().ok_or(atat::Error::Parse)?;
    if hex.is_empty() || hex.len() > 4 || fields.next().is_some() {
        return Err(atat::Error::Parse);
    }
    let mut checksum = 0u16;
    for &b in hex {
        let digit = char::from(b).to_digit(16).ok_or(atat::Error::Parse)?;
        checksum = (checksum << 4) | digit as u16;
    }
    Ok(Uploaded { size, checksum })
}

/// The checksum `AT+QFUPL` reports: the XOR of the bytes taken as big-endian 16-bit words, an
/// odd last byte as the high byte of a last word.
pub fn upload_checksum(data: &[u8]) -> u16 {
    data.chunks(2).fold(0, |sum, pair| {
        sum ^ (u16::from(pair[0]) << 8 | pair.get(1).copied().map_or(0, u16::from))
    })
}
