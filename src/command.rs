//! What the exchange asks of a command ([`ModemCommand`]), the line it writes ([`Wire`]), the
//! line that completes it ([`Completion`]), and [`command!`], the one way every dialect declares
//! its commands (in `src/dialect/<name>/commands.rs`).
//!
//! Commands whose text atat's derive writes byte for byte as the manual does (no string
//! parameters) are derived. Commands with strings are written through the crate's encoder,
//! because atat escapes `"` as `\22` where the vendors' manuals want `\"` (or no escape), and
//! so that big parameters stream from the caller's slice.

use atat::{AtatCmd, AtatResp};
use embassy_time::Duration;
use embedded_io_async::Write;

use crate::encode::Line;
use crate::error::{Detail, ErrorKind};

/// What the driver needs to know about a command beyond [`AtatCmd`]: how its answer is
/// recognised and how it is written.
pub trait ModemCommand: AtatCmd {
    /// The prefix of this command's information lines, e.g. `b"+MQTTSTATE"`; empty when the
    /// answer is bare text (`ucchip`). Lines with another `+` prefix are unsolicited.
    const INFO_PREFIX: &'static [u8];

    /// Whether bare text lines (no `+` head) belong to the answer as well as `INFO_PREFIX:`
    /// lines; always so when the prefix is empty.
    const INFO_BARE: bool = Self::INFO_PREFIX.is_empty();

    /// Whether an information line `INFO_PREFIX:<n>` carries an MQTT result code, which makes
    /// the command fail when non-zero whatever the final line says.
    const CARRIES_CODE: bool = false;

    /// What a failure of this command means to the application: the dialect's reading of its
    /// `ERROR`, `+CME ERROR` or result code. By default, the modem failed it.
    const FAILURE: fn(&Detail) -> ErrorKind = crate::error::modem_failed;

    /// The prompt after which a prompted command's data goes: `>` (most modules, it comes
    /// without a line end), or a whole line of two bytes or more (Quectel's `CONNECT` before
    /// file data). No other one-byte prompt is recognised.
    const PROMPT: &'static [u8] = b">";

    /// Raw bytes written after the modem's prompt (a prompted command), streamed from the
    /// caller's slice; `None` for a one-line command.
    fn data(&self) -> Option<&[u8]> {
        None
    }

    /// The line that completes the command: after its final `OK` (Quectel's
    /// `+QMTPUBEX: 0,5,0`), or in place of a final result after its data (ESP-AT's
    /// `+MQTTPUB:OK`). `None` when the final result ends it.
    fn completion(&self) -> Option<Completion> {
        None
    }

    /// How long to wait for the final result after the line has been written.
    fn deadline(&self) -> Duration {
        Duration::from_millis(u64::from(Self::MAX_TIMEOUT_MS))
    }

    /// The command line to write: a constant for a fixed command, the encoder's line (streamed
    /// from the caller's slices) otherwise; never atat's serializer.
    fn wire(&self) -> Wire<'_>;
}

/// A line that completes a command after (or instead of) its final result, tied to the command
/// by the start of its fields (client index, message id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// Its head (`+QMTPUBEX`).
    pub prefix: &'static [u8],
    key: [u8; 16],
    key_len: u8,
    /// Whether a final `OK` comes before it.
    pub after_final: bool,
}

impl Completion {
    /// A completion line `prefix:<key>…`; `key` longer than 16 bytes is cut.
    pub fn new(prefix: &'static [u8], key: &[u8], after_final: bool) -> Self {
        let mut c = Self {
            prefix,
            key: [0; 16],
            key_len: 0,
            after_final,
        };
        let n = key.len().min(c.key.len());
        c.key[..n].copy_from_slice(&key[..n]);
        c.key_len = n as u8;
        c
    }

    /// Whether `line` is this completion (its fields start with the key).
    pub(crate) fn matches(&self, line: &[u8]) -> bool {
        crate::parse::after_prefix(line, self.prefix)
            .is_some_and(|rest| rest.starts_with(&self.key[..usize::from(self.key_len)]))
    }
}

/// One command line, ready to be streamed to the UART by the client (which writes every
/// command through the same, non-generic code).
pub struct Wire<'a>(WireKind<'a>);

enum WireKind<'a> {
    Line(Line<'a>),
    Static(&'static [u8]),
}

impl<'a> Wire<'a> {
    /// A constant line, terminator included.
    pub const fn fixed_static(line: &'static [u8]) -> Self {
        Self(WireKind::Static(line))
    }

    /// Copies the line into `buf`; `None` if it does not fit.
    pub fn write_into(&self, buf: &mut [u8]) -> Option<usize> {
        match &self.0 {
            WireKind::Line(l) => l.write_into(buf),
            WireKind::Static(b) => {
                buf.get_mut(..b.len())?.copy_from_slice(b);
                Some(b.len())
            }
        }
    }

    pub(crate) fn line(line: Line<'a>) -> Self {
        Self(WireKind::Line(line))
    }

    /// Bytes the line takes on the wire, terminator included.
    pub fn len(&self) -> usize {
        match &self.0 {
            WireKind::Line(l) => l.encoded_len(),
            WireKind::Static(b) => b.len(),
        }
    }

    /// Whether the line is empty (never, for a real command).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) async fn write_to<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        match &self.0 {
            WireKind::Line(l) => l.write_to(w).await,
            WireKind::Static(b) => w.write_all(b).await,
        }
    }
}

/// The answer of a command that returns nothing but its final result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoResponse;

impl AtatResp for NoResponse {}

/// The answer of a test form (`AT+MQTTPUB=?`): the modem's syntax description, after the
/// `+NAME:` prefix, cut to 128 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Syntax {
    /// The description, e.g. `<topic>,(0-2),(0-1);<message>`.
    pub text: heapless::String<128>,
}

impl AtatResp for Syntax {}

/// Parses a test-form answer: the first line with `prefix`, text after the colon.
pub(crate) fn parse_syntax(resp: &[u8], prefix: &[u8]) -> Result<Syntax, atat::Error> {
    let line = crate::parse::info_line(resp, prefix).ok_or(atat::Error::Parse)?;
    let text = core::str::from_utf8(line).map_err(|_| atat::Error::Parse)?;
    let mut out = heapless::String::new();
    for c in text.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    Ok(Syntax { text: out })
}

/// Writes a hand-encoded line for [`AtatCmd::write`]: the whole line, or nothing (0) when it
/// does not fit `buf`, instead of the panic a derived `write` gives. The driver itself never
/// calls this for these commands; it streams them.
pub(crate) fn write_line_or_nothing(line: &Line<'_>, buf: &mut [u8]) -> usize {
    line.write_into(buf).unwrap_or(0)
}

/// Parses the final-result-only answer of a command; information lines (an MQTT code line,
/// checked by the exchange) carry nothing more. In the shape atat's derive `parse = ...` wants.
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn nothing(_resp: &[u8]) -> Result<NoResponse, atat::Error> {
    Ok(NoResponse)
}

/// How a command with parameters is written by the crate's encoder (its line begins with
/// `Self::AT`, which [`command!`] defines from the head), and for a prompted command its raw
/// data and the line that completes it.
pub(crate) trait Encode {
    /// The command line.
    fn line(&self) -> Line<'_>;
    /// Raw bytes written after the prompt.
    fn raw(&self) -> Option<&[u8]> {
        None
    }
    /// The line that completes the command.
    fn done(&self) -> Option<Completion> {
        None
    }
}

/// The first of two things, or the second when the first is absent (a macro default).
macro_rules! or {
    ($given:expr, $default:expr) => {
        $given
    };
    (, $default:expr) => {
        $default
    };
}
pub(crate) use or;

/// Declares a command, the one way every dialect does: its head is written once, and with it,
/// next to the struct, its answer (type, parse function, the prefix of its information lines,
/// whether bare lines belong to it too), whether a `<prefix>:<n>` line carries a result code,
/// what a failure means ([`ModemCommand::FAILURE`]), the prompt before its data (encoded
/// commands, [`ModemCommand::PROMPT`]), and its timeout.
///
/// - `derived struct X …`: a command atat can encode (no string parameters). The struct is
///   `#[derive(AtatCmd)]` with `#[at_cmd(<head>, …)]`; the driver writes the same line,
///   `AT<head>` then its `params` after `=`, without atat's serializer (a test holds the two
///   equal). Lines end in CR, or as `end` says (atat's `termination`: ESP-AT's CR LF).
/// - `encoded X`: a command with string parameters, declared beside it with an [`Encode`],
///   written by the crate's encoder (which escapes as the vendor's manual asks, and streams big
///   parameters from the caller's slices). `Self::AT` is `AT<head>=`, and a completion line's
///   head is `Self::HEAD`.
///
/// The information lines' prefix is the head unless `info` says otherwise.
macro_rules! command {
    (
        $(#[$attr:meta])*
        derived struct $ty:ident $body:tt
        at = $head:tt,
        end = $end:tt,
        $(params = |$s:ident| $params:expr,)?
        answer = $resp:ty, parse = $parse:expr,
        $(info = $info:literal,)?
        $(bare = $bare:expr,)?
        $(code = $code:expr,)?
        $(failure = $failure:expr,)?
        $(completion = $completion:expr,)?
        timeout_ms = $ms:tt $(,)?
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, atat::atat_derive::AtatCmd)]
        #[at_cmd(
            $head,
            $resp,
            timeout_ms = $ms,
            termination = $end,
            parse = Self::parse_answer
        )]
        pub struct $ty $body

        impl $ty {
            fn parse_answer(resp: &[u8]) -> Result<$resp, atat::Error> {
                let parse: fn(&[u8]) -> Result<$resp, atat::Error> = $parse;
                parse(resp)
            }
        }

        impl $crate::command::ModemCommand for $ty {
            const INFO_PREFIX: &'static [u8] = $crate::command::or!($($info)?, $head).as_bytes();
            $(const INFO_BARE: bool = $bare;)?
            $(const CARRIES_CODE: bool = $code;)?
            $(const FAILURE: fn(&$crate::error::Detail) -> $crate::error::ErrorKind = $failure;)?

            fn wire(&self) -> $crate::command::Wire<'_> {
                $crate::command::derived_wire!(self, $head, $end $(, |$s| $params)?)
            }

            $(
                fn completion(&self) -> Option<$crate::command::Completion> {
                    Some($completion)
                }
            )?
        }
    };
    (
        $(#[$attr:meta])*
        derived struct $ty:ident $body:tt
        at = $head:tt,
        $($rest:tt)*
    ) => {
        $crate::command::command!(
            $(#[$attr])*
            derived struct $ty $body
            at = $head,
            end = "\r",
            $($rest)*
        );
    };
    (
        $(#[$attr:meta])*
        encoded $ty:ident $(<$lt:lifetime>)?,
        at = $head:tt,
        answer = $resp:ty, parse = $parse:expr,
        $(info = $info:literal,)?
        $(bare = $bare:expr,)?
        $(code = $code:expr,)?
        $(failure = $failure:expr,)?
        $(prompt = $prompt:expr,)?
        timeout_ms = $ms:tt $(,)?
    ) => {
        impl$(<$lt>)? $ty$(<$lt>)? {
            /// How the line begins: `AT<head>=`.
            #[allow(dead_code)]
            const AT: &'static [u8] = concat!("AT", $head, "=").as_bytes();
            /// The head, which a completion line begins with too.
            #[allow(dead_code)]
            const HEAD: &'static [u8] = $head.as_bytes();
        }

        impl$(<$lt>)? atat::AtatCmd for $ty$(<$lt>)? {
            type Response = $resp;
            const MAX_TIMEOUT_MS: u32 = $ms;

            fn write(&self, buf: &mut [u8]) -> usize {
                $crate::command::write_line_or_nothing(&$crate::command::Encode::line(self), buf)
            }

            fn parse(
                &self,
                resp: Result<&[u8], atat::InternalError>,
            ) -> Result<Self::Response, atat::Error> {
                let parse: fn(&[u8]) -> Result<$resp, atat::Error> = $parse;
                resp.map_err(atat::Error::from).and_then(parse)
            }
        }

        impl$(<$lt>)? $crate::command::ModemCommand for $ty$(<$lt>)? {
            const INFO_PREFIX: &'static [u8] = $crate::command::or!($($info)?, $head).as_bytes();
            $(const INFO_BARE: bool = $bare;)?
            $(const CARRIES_CODE: bool = $code;)?
            $(const FAILURE: fn(&$crate::error::Detail) -> $crate::error::ErrorKind = $failure;)?
            $(const PROMPT: &'static [u8] = $prompt;)?

            fn wire(&self) -> $crate::command::Wire<'_> {
                $crate::command::Wire::line($crate::command::Encode::line(self))
            }

            fn data(&self) -> Option<&[u8]> {
                $crate::command::Encode::raw(self)
            }

            fn completion(&self) -> Option<$crate::command::Completion> {
                $crate::command::Encode::done(self)
            }
        }
    };
}
pub(crate) use command;

/// The line of a derived command: a constant `AT<head><end>`, or `AT<head>=` and its numeric
/// parameters, without atat's serializer.
macro_rules! derived_wire {
    ($self:ident, $head:tt, $end:tt) => {
        $crate::command::Wire::fixed_static(concat!("AT", $head, $end).as_bytes())
    };
    ($self:ident, $head:tt, $end:tt, |$s:ident| $params:expr) => {{
        let $s = $self;
        let line = $crate::encode::Line::new(concat!("AT", $head, "=").as_bytes(), &$params);
        $crate::command::Wire::line(if $end == "\r\n" { line.crlf() } else { line })
    }};
}
pub(crate) use derived_wire;
