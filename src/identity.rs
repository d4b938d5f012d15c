//! Who the modem says it is.

/// The modem's identification, from `AT+CGMI`, `AT+CGMM` and `AT+CGMR`; each answer may span
/// several lines (see [`Identification`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Identity {
    /// Manufacturer (`ucchip`).
    pub manufacturer: Identification,
    /// Model (`8088`).
    pub model: Identification,
    /// Firmware revision.
    pub revision: Identification,
}

/// Most bytes of text an [`Identification`] keeps.
const ID_LEN: usize = 192;

/// What an identification command (`AT+CGMI`, `AT+CGMM`, `AT+CGMR`) answered: every
/// information line, in order, each with its `+NAME:` head (if it had one) removed, joined by
/// `\n`. Modems answer in one line (`ucchip`) or several (software version, hardware version,
/// maker); none is dropped.
///
/// At most [`Identification::MAX_LEN`] bytes are kept: a longer answer is cut at a character boundary and
/// [`Identification::truncated`] says so. Bytes that are not UTF-8 become U+FFFD. An answer
/// larger than the response slot is refused as [`Error::ResponseTooLarge`](crate::Error).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Identification {
    text: heapless::String<ID_LEN>,
    truncated: bool,
}

impl atat::AtatResp for Identification {}

impl Identification {
    /// Most bytes of text kept; a longer answer is cut and [`Identification::truncated`].
    pub const MAX_LEN: usize = ID_LEN;

    /// Reads the information lines of an answer, stripping `prefix:` (and one space) where a
    /// line has it.
    pub(crate) fn from_answer(resp: &[u8], prefix: &[u8]) -> Self {
        let mut id = Self::default();
        // Split at CR as well as LF: a lone CR must not end up inside a line.
        let lines = resp
            .split(|&b| b == b'\r' || b == b'\n')
            .filter(|l| !l.is_empty());
        for (i, line) in lines.enumerate() {
            let line = crate::parse::after_prefix(line, prefix).unwrap_or(line);
            if (i > 0 && !id.push('\n')) || !id.push_lossy(line) {
                break;
            }
        }
        id
    }

    /// Appends `c`, or marks the text truncated and returns `false`.
    fn push(&mut self, c: char) -> bool {
        let fits = self.text.push(c).is_ok();
        self.truncated |= !fits;
        fits
    }

    /// Appends `bytes` as UTF-8, invalid sequences as U+FFFD, as far as they fit.
    fn push_lossy(&mut self, bytes: &[u8]) -> bool {
        for chunk in bytes.utf8_chunks() {
            let invalid = (!chunk.invalid().is_empty()).then_some(char::REPLACEMENT_CHARACTER);
            for c in chunk.valid().chars().chain(invalid) {
                if !self.push(c) {
                    return false;
                }
            }
        }
        true
    }

    /// The whole answer, lines joined by `\n`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The answer's lines, in the order the modem sent them (none when it sent only `OK`).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text.split('\n').filter(|l| !l.is_empty())
    }

    /// The first line: for most modems, the whole answer.
    pub fn first_line(&self) -> &str {
        self.lines().next().unwrap_or("")
    }

    /// Whether the answer was longer than [`Identification::MAX_LEN`] bytes and was cut.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

/// The lines joined by ` | `, then `…` if the answer was cut.
impl core::fmt::Display for Identification {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, line) in self.lines().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            f.write_str(line)?;
        }
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}
