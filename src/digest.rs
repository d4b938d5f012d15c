//! The modem-side parser: turns the bytes the UART delivers into echo, information lines, final
//! results and URCs.
//!
//! It replaces atat's `AtDigester`, which loses a URC that arrives inside a response (atat#223)
//! and cuts URC payloads at CRLF. Here:
//! - an incoming-message URC is read **by length**, whatever its payload holds;
//! - a URC that arrives in the middle of a response, even in the middle of a line, is cut out
//!   of the buffer with the CRLF that framed it, and the response is parsed from what is left;
//! - a line ending at the very end of the buffer while a command is pending is judged only once
//!   the next byte is there (a response's lines are always followed by its final result), so a
//!   URC that splits a line is still recognised; final results are judged at once;
//! - echo (`AT...\r`), a missing leading CRLF, and `+X:v` against `+X: v` are all accepted;
//! - noise is discarded and reported, never allowed to stall the buffer.
//!
//! [`Ingress`] owns the buffer; the runner reads the UART into [`Ingress::space`], calls
//! [`Ingress::commit`], then drains [`Ingress::next`].

use crate::error::Detail;
use crate::events::Event;
use crate::grammar::Grammar;
use crate::grammar::frame::{
    HeaderError, MessageFrame, Pieces, Scan, numbers_line, parse_header, scan_pieces, shift_left,
};
use crate::parse::{after_prefix, number};

/// How a command ended: `OK`, or the failure the module reported (`ERROR`,
/// `+CME ERROR: <n|text>`, `+EXT ERROR: <n>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Final {
    /// `OK`.
    Ok,
    /// A failure, as the module said it.
    Failed(Detail),
}

/// The text of a `+CME ERROR: <text>`, cut to 16 bytes at a character boundary; bytes that are
/// not UTF-8 make it `?`.
fn cme_text(text: &[u8]) -> heapless::String<16, u8> {
    let mut s = heapless::String::new();
    for c in core::str::from_utf8(text).unwrap_or("?").chars() {
        if s.push(c).is_err() {
            break;
        }
    }
    s
}

/// One thing the digester recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<'a> {
    /// The modem echoed the command line.
    Echo,
    /// An information line of the pending command.
    Info(&'a [u8]),
    /// The final result of the pending command (or a stale one, if none is pending).
    Final(Final),
    /// The prompt that asks for the pending command's raw data (`>`, or a prompt line such as
    /// `CONNECT`).
    Prompt,
    /// An incoming message.
    Message(RawMessage<'a>),
    /// Anything else the modem said unasked, in the application's event vocabulary (a state
    /// change, a lost link, a restart, held messages, an unrecognised line).
    Event(Event<'a>),
    /// Bytes that are not part of anything.
    Discarded {
        /// How many bytes were thrown away.
        bytes: usize,
        /// What they were.
        what: Discard,
    },
}

/// What discarded bytes were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    /// Noise, a stray line, or an overlong line.
    Noise,
    /// The start of an incoming message whose header did not parse (noise broke its framing).
    BrokenMessage,
    /// A well-framed incoming message larger than the ingress buffer.
    Oversized,
}

/// How the pending command's information lines are told apart from unsolicited lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Expect<'p> {
    /// The `+NAME` head of its information lines (`+MQTTSTATE`); empty when they have none.
    pub prefix: &'p [u8],
    /// Whether bare text lines (no `+` head, such as `ucchip`) belong to the answer too.
    pub bare: bool,
    /// The prompt awaited, if any: `>` (which comes without a line end), or a whole line
    /// (`CONNECT`); empty when none is.
    pub prompt: &'p [u8],
    /// Whether a matching line ends the answer (a completion line, no final result after it),
    /// so it is judged at once.
    pub last: bool,
}

impl<'p> Expect<'p> {
    /// Lines `prefix:…` only; an empty prefix means bare text lines only.
    pub const fn prefixed(prefix: &'p [u8]) -> Self {
        Self {
            prefix,
            bare: prefix.is_empty(),
            prompt: b"",
            last: false,
        }
    }

    /// Bare text lines and lines `prefix:…` alike (identification answers, which modems
    /// send either way and over several lines).
    pub const fn text(prefix: &'p [u8]) -> Self {
        Self {
            prefix,
            bare: true,
            prompt: b"",
            last: false,
        }
    }

    /// Whether `line` is an information line of this answer.
    fn matches(self, line: &[u8]) -> bool {
        (self.bare && !line.starts_with(b"+"))
            || (!self.prefix.is_empty() && after_prefix(line, self.prefix).is_some())
    }
}

/// The ingress buffer and the parser state over it.
pub struct Ingress<'a> {
    buf: &'a mut [u8],
    len: usize,
    /// A range to cut out before the next look, deferred so outputs can borrow the buffer.
    cut: (usize, usize),
    /// Bytes of an oversized message still to be dropped as they arrive.
    skip: usize,
    /// Dropping bytes of an overlong line until its end.
    discard_line: bool,
    /// A message is arriving: nothing to judge before the buffer holds this many bytes.
    need: usize,
    /// A prompt was just taken: a blank right after it belongs to it.
    after_prompt: bool,
    /// What the dialect says unasked.
    grammar: &'static Grammar,
    /// The pieces of a message in [`Pieces`] (too large for the buffer, or broken) are being
    /// dropped by their lengths, from `drop_at` on.
    dropping: bool,
    /// Where the next piece line is expected while `dropping`.
    drop_at: usize,
    /// Bytes of it dropped since the last [`Ingress::commit`], which reports them.
    dropped: usize,
}

impl<'a> Ingress<'a> {
    /// An empty ingress over `buf` for a dialect's `grammar`. The buffer must hold the largest
    /// incoming message the application wants delivered (its header, payload and closing CRLF,
    /// from where it starts in the buffer); larger ones are dropped and counted.
    pub fn with_grammar(buf: &'a mut [u8], grammar: &'static Grammar) -> Self {
        Self {
            buf,
            len: 0,
            cut: (0, 0),
            skip: 0,
            discard_line: false,
            need: 0,
            after_prompt: false,
            grammar,
            dropping: false,
            drop_at: 0,
            dropped: 0,
        }
    }

    /// Where the next UART read goes. Empty when the buffer is full: call [`Ingress::next`]
    /// with `full = true`.
    pub fn space(&mut self) -> &mut [u8] {
        self.apply_cut();
        &mut self.buf[self.len..]
    }

    /// Whether a message is holding everything back: its payload is still arriving, or the rest
    /// of an oversized one is being dropped. A length changed by noise can make either last
    /// until enough bytes come.
    pub fn stuck(&self) -> bool {
        self.skip > 0 || self.need > self.len
    }

    /// Like [`Ingress::commit`], but first drops everything buffered before these `n` bytes and
    /// any message in progress: the runner calls it when the client, after a timeout, says all
    /// that came before is stale. Returns how many bytes were dropped.
    pub fn commit_fresh(&mut self, n: usize) -> usize {
        let n = n.min(self.buf.len() - self.len);
        let old = self.len;
        shift_left(self.buf, old..old + n, 0);
        self.len = n;
        self.cut = (0, 0);
        self.skip = 0;
        self.need = 0;
        self.discard_line = false;
        self.dropping = false;
        self.drop_at = 0;
        old + core::mem::take(&mut self.dropped)
    }

    /// Makes `n` bytes written into [`Ingress::space`] visible. Bytes belonging to an oversized
    /// message or an overlong line are dropped here, as they arrive. Returns the bytes dropped:
    /// these, and those of a message in pieces dropped from the buffer since the last call
    /// (so it may exceed `n`).
    pub fn commit(&mut self, n: usize) -> usize {
        let n = n.min(self.buf.len() - self.len);
        let start = self.len;
        let mut drop = self.skip.min(n);
        self.skip -= drop;
        if self.discard_line {
            match self.buf[start + drop..start + n]
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
            {
                Some(end) => {
                    drop += end;
                    self.discard_line = false;
                }
                None => drop = n,
            }
        }
        if drop > 0 {
            shift_left(self.buf, start + drop..start + n, start);
        }
        self.len += n - drop;
        drop + core::mem::take(&mut self.dropped)
    }

    /// Bytes waiting to be parsed.
    pub fn buffered(&self) -> usize {
        self.len - (self.cut.1 - self.cut.0)
    }

    fn apply_cut(&mut self) {
        let (from, to) = self.cut;
        if to > from {
            shift_left(self.buf, to..self.len, from);
            self.len -= to - from;
            self.need = 0;
            // Where dropped pieces continue moves with what follows the cut.
            if self.drop_at >= to {
                self.drop_at -= to - from;
            } else if self.drop_at > from {
                self.drop_at = from;
            }
        }
        self.cut = (0, 0);
    }

    fn consume(&mut self, n: usize) {
        self.cut = (0, n);
    }

    /// Drops the first `n` bytes now.
    fn drop_front(&mut self, n: usize) {
        self.consume(n);
        self.apply_cut();
    }

    /// The next recognised item, or `None` when more bytes are needed.
    ///
    /// `pending` says what the information lines of the command awaiting its answer look like,
    /// or is `None` when no command is pending. `full` says the buffer has no
    /// space left: then whatever is there is judged or dropped so that reading can go on.
    pub fn next(&mut self, pending: Option<Expect<'_>>, full: bool) -> Option<Output<'_>> {
        self.next_with(self.grammar, true, true, pending, full)
    }

    /// [`Ingress::next`] with the dialect's grammar given where it is a constant (the runner),
    /// so that it folds into the code; `prompts` false compiles prompt handling out, and
    /// `pieces` false the reading of [`Pieces`] messages.
    #[allow(clippy::inline_always)] // one copy per caller: the runner's folds its constants
    #[inline(always)]
    pub(crate) fn next_with(
        &mut self,
        grammar: &'static Grammar,
        prompts: bool,
        pieces: bool,
        pending: Option<Expect<'_>>,
        full: bool,
    ) -> Option<Output<'_>> {
        self.apply_cut();
        if !full && self.len < self.need {
            // A message is still arriving.
            return None;
        }
        if pieces && !self.pieces_first(grammar, full) {
            return None;
        }
        let (lead, after_lead) = self.line_ends(grammar, full);
        // Dropped line ends made room.
        let full = full && self.len == self.buf.len();
        if prompts && self.after_prompt && self.len > 0 {
            // The blank that may follow the prompt arrived on its own.
            self.after_prompt = false;
            if self.buf[0] == b' ' {
                self.drop_front(1);
            }
        }
        if prompts
            && pending.is_some_and(|p| p.prompt == b">")
            && self.buf[..self.len].first() == Some(&b'>')
        {
            let blank = self.buf[..self.len].get(1) == Some(&b' ');
            self.after_prompt = !blank;
            self.consume(1 + usize::from(blank));
            return Some(Output::Prompt);
        }
        if self.len == 0 {
            return None;
        }
        self.need = 0;
        let buf = &self.buf[..self.len];
        // Lines are short (a message's payload is never scanned): a plain loop is small code.
        let line_end = |buf: &[u8]| buf.iter().position(|&b| b == b'\r' || b == b'\n');
        // A message at the start is framed by its length: no line end to look for in it.
        let urc_at = match after_lead.or_else(|| grammar.message_at(buf)) {
            Some(frame) => Some((lead, frame)),
            None => urc_after_first_line(grammar, buf, line_end(buf)),
        };

        if let Some((at, frame)) = urc_at {
            match self.plan_message(frame, at, lead, full, grammar.urc_crlf, pieces) {
                Plan::Wait => return None,
                // The line ends before it were kept for it: they go now (none: nothing to do).
                Plan::NotAMessage => self.drop_front(lead),
                Plan::Oversized { bytes } => {
                    return Some(Output::Discarded {
                        bytes,
                        what: Discard::Oversized,
                    });
                }
                Plan::Broken { bytes } => {
                    return Some(Output::Discarded {
                        bytes,
                        what: Discard::BrokenMessage,
                    });
                }
                Plan::Deliver {
                    topic,
                    quoted,
                    payload,
                } => {
                    return Some(Output::Message(RawMessage {
                        topic: &self.buf[topic.0..topic.1],
                        quoted,
                        payload: &self.buf[payload.0..payload.1],
                    }));
                }
            }
        }

        let buf = &self.buf[..self.len];
        let Some(end) = line_end(buf) else {
            if !full {
                return None;
            }
            // A line longer than the whole buffer: drop it up to its end.
            let bytes = self.len;
            let what = if grammar.is_message_line(buf) {
                Discard::BrokenMessage
            } else {
                Discard::Noise
            };
            self.discard_line = true;
            self.cut = (0, bytes);
            if pending.is_some() && is_echo(buf) {
                // The echo of a long command line (echo still on): not part of the answer.
                return Some(Output::Echo);
            }
            return Some(Output::Discarded { bytes, what });
        };
        // Nothing but line-end bytes after it yet: the next line has not started.
        let at_end = buf[end..].iter().all(|&b| b == b'\r' || b == b'\n');
        let prompt_line = |p: Expect<'_>| !p.prompt.is_empty() && p.prompt == &buf[..end];
        let item = if prompts && pending.is_some_and(prompt_line) {
            Output::Prompt // a prompt line (`CONNECT`): nothing follows it before the data
        } else {
            classify(grammar, pieces, &buf[..end], pending)
        };
        let judge_now = match item {
            Output::Final(_) | Output::Prompt => true,
            Output::Info(_) => prompts && pending.is_some_and(|p| p.last),
            _ => false,
        };
        if at_end && pending.is_some() && !full && !judge_now {
            // Maybe a URC splits this line: judge it when the next byte is there.
            return None;
        }
        self.cut = (0, end + 1);
        Some(item)
    }

    /// Drops the line ends at the front, unless a message follows them in a buffer with room:
    /// then they stay, to be cut out with it, instead of shifting the whole message down the
    /// buffer now (a full buffer needs their room at once). Returns how many stay, and the
    /// frame of the message after them.
    fn line_ends(
        &mut self,
        grammar: &Grammar,
        full: bool,
    ) -> (usize, Option<&'static MessageFrame>) {
        let lead = line_ends_at_front(&self.buf[..self.len]);
        if lead == 0 {
            return (0, None);
        }
        let frame = grammar.message_at(&self.buf[lead..self.len]);
        if frame.is_some() && !full {
            return (lead, frame);
        }
        self.drop_front(lead);
        (0, frame)
    }

    /// Decides what to do with an incoming-message URC starting at `at`.
    /// `lead` is how many line ends stand before it when nothing else does (then `at == lead`).
    fn plan_message(
        &mut self,
        frame: &MessageFrame,
        mut at: usize,
        lead: usize,
        full: bool,
        crlf: bool,
        pieces: bool,
    ) -> Plan {
        if let Some(p) = frame.pieces.as_ref().filter(|_| pieces) {
            return self.plan_pieces(frame, p, at, lead, full, crlf);
        }
        let buf = &self.buf[..self.len];
        let header = match parse_header(frame, &buf[at..]) {
            Ok(h) => h,
            Err(HeaderError::Incomplete) if !full => return Plan::Wait,
            Err(_) => return Plan::NotAMessage,
        };
        let (topic, quoted) = match header.topic {
            crate::parse::RawField::Quoted(t) => (t, true),
            crate::parse::RawField::Bare(t) => (t, false),
        };
        // Offsets from `at`, so that the caller can borrow the buffer for the output, and so
        // that they hold if the message moves to the front.
        let topic_at = topic.as_ptr() as usize - buf[at..].as_ptr() as usize;
        let topic_len = topic.len();
        let (header_len, len) = (header.header_len, header.len);
        // Header, payload, and the CRLF (after a closing quote, if quoted) that must close it: a
        // length that noise changed is caught there instead of cutting the stream wrongly.
        let trailer = frame.trailer();
        let total = header_len + len + trailer.len();
        if at + total > self.buf.len() && lead > 0 && total <= self.buf.len() {
            // It fits without the line ends before it: drop them, moving what is here.
            self.drop_front(lead);
            at = 0;
        }
        if at + total > self.buf.len() && self.judge_line_first(at, lead, crlf, total) {
            return Plan::NotAMessage;
        }
        // Where URCs bring their own leading CRLF, it goes with the message, so a line it split
        // joins up again; elsewhere that CRLF ends the line before it (ESP-AT's `OK\r\n+MQTT…`).
        let start = if crlf { at.saturating_sub(2) } else { at };
        // The message must fit where it stands: it is delivered in place.
        if at + total > self.buf.len() {
            // Too large to ever deliver: drop what is here and the rest as it arrives.
            let here = self.len - at;
            self.skip = total - here;
            self.len = start;
            return Plan::Oversized { bytes: here };
        }
        if self.len - at < total {
            self.need = at + total;
            return Plan::Wait;
        }
        let end = at + total;
        if self.buf[end - trailer.len()..end] != *trailer {
            // Broken framing: drop the header; what followed it is judged as lines.
            self.cut = (at, at + header_len);
            return Plan::Broken { bytes: header_len };
        }
        self.cut = (start, end);
        Plan::Deliver {
            topic: (at + topic_at, at + topic_at + topic_len),
            quoted,
            payload: (at + header_len, at + header_len + len),
        }
    }

    /// Drops the buffered pieces of a [`Pieces`] message being dropped (from `drop_at`), and
    /// the rest of the current piece as it arrives; `false` while a piece's line is incomplete.
    /// The grammar's (first) pieces frame is the one: a dialect has one.
    fn drop_pieces(&mut self, grammar: &Grammar, full: bool) -> bool {
        let Some((frame, p)) = grammar.pieces() else {
            self.dropping = false;
            return true;
        };
        let at = self.drop_at.min(self.len);
        self.drop_at = at;
        while self.dropping && self.skip == 0 {
            // The CRLF that may close a piece.
            let lead = line_ends_at_front(&self.buf[at..self.len]);
            self.dropped += lead;
            self.cut = (at, at + lead);
            self.apply_cut();
            if self.len <= at {
                break;
            }
            let buf = &self.buf[at..self.len];
            let Some(&(head, body)) = [(p.topic, 1), (p.payload, 1), (p.end, 0)]
                .iter()
                .find(|(h, _)| buf.starts_with(h) || h.starts_with(buf))
            else {
                // Not a piece: what follows is judged as lines.
                self.dropping = false;
                break;
            };
            match numbers_line(frame, head, body, buf) {
                Ok(([n, _], line)) => {
                    // The piece's bytes, as much as is here (a CRLF after them goes as any
                    // line end between items does).
                    let piece = if body == 1 { n } else { 0 };
                    let here = (buf.len() - line).min(piece);
                    self.skip = piece - here;
                    self.dropped += line + here;
                    self.dropping = body == 1;
                    self.cut = (at, at + line + here);
                    self.apply_cut();
                }
                Err(HeaderError::Incomplete) if !full => return false,
                Err(_) => self.dropping = false,
            }
        }
        true
    }

    /// Drops the pieces of a [`Pieces`] message being dropped, or found at the front without
    /// their head (broken): their bytes go by their lengths, never judged as lines (they could
    /// fake an answer or a URC). `false` while a piece's line is incomplete.
    fn pieces_first(&mut self, grammar: &Grammar, full: bool) -> bool {
        if !self.dropping && self.piece_at_front(grammar) {
            self.dropping = true;
            self.drop_at = 0;
        }
        !self.dropping || self.drop_pieces(grammar, full)
    }

    /// Whether a piece line of a [`Pieces`] message stands at the front, after line ends.
    fn piece_at_front(&self, grammar: &Grammar) -> bool {
        let buf = &self.buf[..self.len];
        grammar.is_piece_line(&buf[line_ends_at_front(buf)..])
    }

    /// Whether a message at `at`, after the first line and too large to deliver where it
    /// stands, fits once that line is judged: the line is complete when the message brings no
    /// CR LF of its own (ESP-AT's `OK\r\n+MQTTSUBRECV…`), and `need` bytes fit from the front.
    fn judge_line_first(&self, at: usize, lead: usize, crlf: bool, need: usize) -> bool {
        at > lead && !crlf && need <= self.buf.len()
    }

    /// [`Ingress::plan_message`] for a message sent in [`Pieces`].
    fn plan_pieces(
        &mut self,
        frame: &MessageFrame,
        pieces: &Pieces,
        at: usize,
        lead: usize,
        full: bool,
        crlf: bool,
    ) -> Plan {
        let start = if crlf { at.saturating_sub(2) } else { at };
        let cap = self.buf.len();
        match scan_pieces(frame, pieces, &mut self.buf[at..self.len], false) {
            // Its head line is not complete: it is no message yet.
            Scan::Need { line: 0, .. } if full => Plan::NotAMessage,
            Scan::Need { line, at_least } if line > 0 && (full || at + at_least > cap) => {
                if self.judge_line_first(at, lead, crlf, at_least) {
                    return Plan::NotAMessage;
                }
                if lead > 0 && at_least <= cap {
                    // It may fit without the line ends before it, in a buffer no longer full.
                    self.drop_front(lead);
                    return self.plan_pieces(frame, pieces, 0, 0, false, crlf);
                }
                // Too large to ever deliver: drop its head line now, and its pieces by their
                // lengths as they come.
                self.cut = (start, at + line);
                self.dropping = true;
                self.drop_at = start;
                Plan::Oversized { bytes: line }
            }
            Scan::Need { at_least, .. } => {
                self.need = at + at_least;
                Plan::Wait
            }
            Scan::Broken { line: 0 } => Plan::NotAMessage,
            Scan::Broken { line } => {
                // Its pieces go by their lengths, as far as they still make sense; with its
                // own leading CR LF, so that a line it split joins up again.
                self.cut = (start, at + line);
                self.dropping = true;
                self.drop_at = start;
                Plan::Broken { bytes: line }
            }
            Scan::Done {
                total,
                topic,
                payload,
            } => {
                scan_pieces(frame, pieces, &mut self.buf[at..self.len], true);
                self.cut = (start, at + total);
                Plan::Deliver {
                    topic: (at, at + topic),
                    quoted: false,
                    payload: (at + topic, at + topic + payload),
                }
            }
        }
    }
}

/// How many CR and LF bytes `buf` starts with.
fn line_ends_at_front(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

/// What to do with an incoming-message URC.
enum Plan {
    Deliver {
        topic: (usize, usize),
        quoted: bool,
        payload: (usize, usize),
    },
    Oversized {
        bytes: usize,
    },
    Broken {
        bytes: usize,
    },
    Wait,
    NotAMessage,
}

/// Where an incoming-message URC starts right after the first line end of the buffer (a URC
/// always brings its leading CRLF), if one does, and its frame.
fn urc_after_first_line(
    grammar: &Grammar,
    buf: &[u8],
    line_end: Option<usize>,
) -> Option<(usize, &'static MessageFrame)> {
    let end = line_end?;
    let at = end + 2;
    if buf.get(end..at) != Some(b"\r\n") {
        return None;
    }
    grammar.message_at(&buf[at..]).map(|frame| (at, frame))
}

/// Whether `line` is the modem echoing a command line (`AT`, `ATE0`, `AT+…`), not an answer
/// that starts with the same letters (ESP-AT's `AT version:…`).
fn is_echo(line: &[u8]) -> bool {
    line.len() >= 2 && line[..2].eq_ignore_ascii_case(b"AT") && line.get(2) != Some(&b' ')
}

/// Classifies one complete line (terminator excluded).
fn classify<'l>(
    grammar: &Grammar,
    pieces: bool,
    line: &'l [u8],
    pending: Option<Expect<'_>>,
) -> Output<'l> {
    match line {
        b"OK" => return Output::Final(Final::Ok),
        b"ERROR" => return Output::Final(Final::Failed(Detail::Error)),
        _ => {}
    }
    if let Some(rest) = after_prefix(line, b"+CME ERROR") {
        let code = number(rest).and_then(|n| u16::try_from(n).ok());
        return Output::Final(Final::Failed(
            code.map_or_else(|| Detail::CmeText(cme_text(rest)), Detail::Cme),
        ));
    }
    if let Some(rest) = after_prefix(line, b"+EXT ERROR") {
        return Output::Final(match number(rest).and_then(|n| u16::try_from(n).ok()) {
            Some(n) => Final::Failed(Detail::Ext(n)),
            None => Final::Failed(Detail::Error),
        });
    }
    if after_prefix(line, b"+CMS ERROR").is_some() {
        return Output::Final(Final::Failed(Detail::Error));
    }
    if pieces && grammar.is_piece_line(line) {
        // A piece of a message whose framing broke: its head line went before.
        return Output::Discarded {
            bytes: line.len(),
            what: Discard::Noise,
        };
    }
    if grammar.is_message_line(line) {
        return Output::Discarded {
            bytes: line.len(),
            what: Discard::BrokenMessage,
        };
    }
    // A restart is a restart, even while a plain-text answer (`AT+CGMM`) is awaited.
    if grammar.banners.contains(&line) {
        return Output::Event(Event::Restarted);
    }
    if let Some(expect) = pending {
        if is_echo(line) {
            return Output::Echo;
        }
        if expect.matches(line) {
            return Output::Info(line);
        }
    }
    if let Some(event) = (grammar.session)(line) {
        return Output::Event(event);
    }
    if line.starts_with(b"+") {
        return Output::Event(Event::Unrecognised(line));
    }
    Output::Discarded {
        bytes: line.len(),
        what: Discard::Noise,
    }
}

#[cfg(test)]
mod tests {
    use super::shift_left;

    /// `shift_left` moves exactly what `copy_within` moves: every gap and length up to 24
    /// bytes, and a sample up to 300 (gaps below, at and above the step).
    #[test]
    fn shift_left_is_copy_within() {
        for len in (0..24).chain([150, 300]) {
            for start in (0..=len).filter(|s| *s < 24 || s % 37 == 0) {
                for to in 0..=start {
                    for end in (start..=len).filter(|e| *e < 24 || e % 41 == 0 || *e == len) {
                        let mut want: [u8; 300] = core::array::from_fn(|i| i as u8);
                        let mut got = want;
                        want.copy_within(start..end, to);
                        shift_left(&mut got, start..end, to);
                        assert_eq!(got, want, "{start}..{end} -> {to}");
                    }
                }
            }
        }
    }
}

/// An incoming message as the modem framed it, borrowed from the ingress buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMessage<'a> {
    /// The topic as sent: escapes still in place when `quoted`.
    pub topic: &'a [u8],
    /// Whether the topic was quoted (and so may hold `\"` and `\\` escapes).
    pub quoted: bool,
    /// Exactly the announced number of payload bytes.
    pub payload: &'a [u8],
}

impl RawMessage<'_> {
    /// Resolves a quoted topic's escapes into `out`; the topic as UTF-8, or `None` if it does
    /// not fit or is not UTF-8.
    pub fn topic_into<'b>(&self, out: &'b mut [u8]) -> Option<&'b str> {
        let field = if self.quoted {
            crate::parse::RawField::Quoted(self.topic)
        } else {
            crate::parse::RawField::Bare(self.topic)
        };
        let n = field.unescape_into(out)?;
        core::str::from_utf8(&out[..n]).ok()
    }
}
