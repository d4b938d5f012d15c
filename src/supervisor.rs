//! Connection supervision, optional and `no_std`: see [`Supervisor`].

use embassy_time::{Duration, Instant, Timer};
use embedded_hal::digital::OutputPin;
use embedded_io_async::Write;
use heapless::{Deque, String, Vec};

use crate::client::MqttModem;
use crate::dialect::Dialect;
use crate::error::{Error, ErrorKind};
use crate::mqtt::Config;
use crate::mqtt::ConnectionState;
use crate::mqtt::Qos;
use crate::mqtt::Tls;
use crate::resources::LinkHint;

/// `now + d`, saturating instead of panicking on an absurd duration.
fn later(d: Duration) -> Instant {
    Instant::now().checked_add(d).unwrap_or(Instant::MAX)
}

/// How the supervisor watches and restores the link. [`Policy::default`] gives the values
/// stated on each field.
///
/// A failed bring-up is retried after `backoff_initial`, doubled after each further failure up
/// to `backoff_max`, each delay then scaled by a random factor in [0.5, 1): with the defaults
/// the retries come about 0.5–1 s, 1–2 s, 2–4 s, … apart, then every 30–60 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy {
    /// How often to poll the link's state (the dialect's state query: UC8088 `AT+MQTTSTATE`,
    /// ESP-AT `AT+MQTTCONN?`, Quectel `AT+QMTCONN?`). Default `None`: half the keepalive, at
    /// least 1 s (30 s for the default 60 s keepalive).
    pub poll_interval: Option<Duration>,
    /// The first reconnect delay, doubled after each failure. Default 1 s.
    pub backoff_initial: Duration,
    /// The longest reconnect delay. Default 60 s.
    pub backoff_max: Duration,
    /// Consecutive timeouts (the modem silent: state polls or bring-ups) after which the modem
    /// is brought up from scratch; a reset pin, if there is one, is pulsed when a bring-up
    /// times out with the count at this limit. Default 3.
    pub silent_limit: u8,
    /// Seed of the backoff jitter; give each device a different one (a hash of its client id,
    /// for example). The same seed gives the same delays (xorshift32). Default `0x9E37_79B9`.
    pub jitter_seed: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            poll_interval: None,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            silent_limit: 3,
            jitter_seed: 0x9E37_79B9,
        }
    }
}

/// Why the link went down.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LossReason {
    /// A poll of the link's state answered disconnected.
    StatePolled,
    /// The module said so unasked, or a call failed with [`ErrorKind::Link`].
    LinkError,
    /// The modem restarted (boot banner) and forgot its settings.
    ModemRestarted,
    /// The modem stopped answering.
    ModemSilent,
    /// The serial port failed: reads or writes keep returning errors (the device was
    /// unplugged, the UART stopped), or the runner is not reading
    /// ([`Error::NoRunner`]).
    SerialPort,
}

impl core::fmt::Display for LossReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::StatePolled => "the state poll answered disconnected",
            Self::LinkError => "the module reported the link lost",
            Self::ModemRestarted => "the modem restarted",
            Self::ModemSilent => "the modem stopped answering",
            Self::SerialPort => "the serial port failed",
        })
    }
}

/// What the supervisor tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LinkEvent {
    /// Connected to the broker.
    Connected,
    /// The link is down.
    Disconnected(LossReason),
    /// A retry is due: `attempt` failed attempts came before it since the link was last up
    /// (so the `AttemptFailed` that may follow carries `attempt + 1`). The first attempt after
    /// a loss is not announced.
    Reconnecting {
        /// Attempt number.
        attempt: u32,
    },
    /// A bring-up attempt failed; the next one comes after `retry_in`. Every failed attempt
    /// is reported, the first one (the supervisor's first bring-up) included.
    AttemptFailed {
        /// Which attempt since the link was last up (1 for the first).
        attempt: u32,
        /// Why it failed.
        error: Error,
        /// The delay before the next attempt (backoff with jitter, [`Policy`]).
        retry_in: Duration,
    },
    /// Every recorded subscription was restored.
    Resubscribed {
        /// How many.
        count: usize,
    },
    /// The reset pin was pulsed.
    ModemReset,
    /// A registered subscription was refused at a connect (by the broker, or the module) and
    /// dropped: [`Supervisor::subscriptions`] no longer lists it.
    SubscriptionRefused {
        /// Why.
        error: Error,
    },
}

impl core::fmt::Display for LinkEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Connected => f.write_str("connected"),
            Self::Disconnected(reason) => write!(f, "disconnected: {reason}"),
            Self::Reconnecting { attempt } => write!(f, "reconnecting (retry {attempt})"),
            Self::AttemptFailed {
                attempt,
                error,
                retry_in,
            } => write!(
                f,
                "attempt {attempt} failed: {error}; next in {} ms",
                retry_in.as_millis()
            ),
            Self::Resubscribed { count } => write!(f, "{count} subscription(s) restored"),
            Self::ModemReset => f.write_str("modem reset pulsed"),
            Self::SubscriptionRefused { error } => {
                write!(
                    f,
                    "a registered subscription was refused and dropped: {error}"
                )
            }
        }
    }
}

/// Hardware recovery: something that can restart a silent modem.
#[allow(async_fn_in_trait)]
pub trait ModemReset {
    /// Restarts the modem and waits until it can answer.
    async fn reset(&mut self);
    /// Whether a reset is really available.
    fn available(&self) -> bool {
        true
    }
}

/// No reset pin.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReset;

impl ModemReset for NoReset {
    async fn reset(&mut self) {}
    fn available(&self) -> bool {
        false
    }
}

/// A reset (or power) pin, driven low for `pulse`, then high, then `boot` to wait.
///
/// The times are [`Duration`]s, built once (`Duration::from_millis(100)` is a `const fn`), and
/// waited with [`Timer::after`]: a delay taken in milliseconds at run time would link a 64-bit
/// division into the firmware (about 0.9 KiB on a Cortex-M4).
#[derive(Debug)]
pub struct ResetPin<P> {
    /// The pin; active low.
    pub pin: P,
    /// How long to hold the pin low.
    pub pulse: Duration,
    /// How long the modem takes to boot once the pin is released.
    pub boot: Duration,
}

impl<P: OutputPin> ModemReset for ResetPin<P> {
    async fn reset(&mut self) {
        // A pin error leaves nothing better to do than to carry on and let AT sync decide.
        let _ = self.pin.set_low();
        Timer::after(self.pulse).await;
        let _ = self.pin.set_high();
        Timer::after(self.boot).await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Up,
    Down,
}

/// Keeps the link up: brings the modem up, connects, makes the registered subscriptions, and
/// restores all of it whenever the link is lost. A supervised application calls no
/// `init`/`configure`/`connect` of its own.
///
/// Not every module reports a lost connection (the UC8088 has no URC for it): the supervisor
/// polls the link's state ([`Policy::poll_interval`]), and also treats as lost what the module
/// says unasked ([`Event::Disconnected`](crate::Event::Disconnected), a state change to
/// disconnected), a boot banner, a serial port that keeps failing, and any call that fails
/// with [`ErrorKind::Link`] or [`ErrorKind::Io`]. It reconnects with exponential backoff and
/// jitter; only a failure that is neither the link's nor the broker's (by [`Error::kind`])
/// brings the modem up from scratch, re-applying TLS and the configuration. It can pulse a
/// reset pin ([`Supervisor::with_reset`]) when the modem stays silent.
///
/// It owns no task: the application calls [`Supervisor::poll`] whenever
/// [`Supervisor::next_deadline`] passes and after taking events, and reports or acts on each
/// [`LinkEvent`] it returns. `P` is the reset pin ([`NoReset`] by default); `N` subscriptions
/// of at most `T` bytes are remembered.
///
/// It owns the link: a `disconnect` or `configure` made on the modem directly is undone or
/// refused at its next poll. To stop supervising, stop calling `poll`.
///
/// ```no_run
/// use embassy_futures::select::{Either, select};
/// use embassy_time::Timer;
/// use mqtt_modem::{Config, Dialect, Event, Events, LinkEvent, MqttModem, Policy, Qos, Supervisor};
///
/// async fn supervise<W: embedded_io_async::Write, D: Dialect>(
///     modem: &mut MqttModem<'_, W, D>,
///     events: &mut Events<'_>,
/// ) {
///     let config = Config::new("broker.example", 1883, "dev-1").keepalive(60);
///     let mut sup: Supervisor<'_> = Supervisor::new(config, Policy::default());
///     // Registered now, made on every connect.
///     sup.subscribe(modem, "devices/dev-1/cmd", Qos::AtLeastOnce).await.unwrap();
///     let mut buf = [0u8; 512];
///     loop {
///         let wake = Timer::at(sup.next_deadline());
///         if let Either::First(event) = select(events.next(&mut buf), wake).await {
///             if let Event::Message(m) = event {
///                 let _ = (m.topic, m.payload); // act on the command
///             }
///         }
///         while let Some(link) = sup.poll(modem).await {
///             if link == LinkEvent::Connected {
///                 let _ = sup.publish(modem, "devices/dev-1/up", b"1", Qos::AtMostOnce, false).await;
///             }
///         }
///     }
/// }
/// ```
pub struct Supervisor<'a, P = NoReset, const N: usize = 8, const T: usize = 64> {
    config: Config<'a>,
    tls: Option<Tls<'a>>,
    subscriptions: Vec<(String<T>, Qos), N>,
    policy: Policy,
    reset: P,
    link: Link,
    needs_bring_up: bool,
    attempt: u32,
    silent: u8,
    next_action: Instant,
    rng: u32,
    events: Deque<LinkEvent, 4>,
}

impl<'a, const N: usize, const T: usize> Supervisor<'a, NoReset, N, T> {
    /// A supervisor for this configuration; the link starts down, and the first
    /// [`Supervisor::poll`] brings it up (init, TLS, configure, connect).
    pub fn new(config: Config<'a>, policy: Policy) -> Self {
        Self {
            config,
            tls: None,
            subscriptions: Vec::new(),
            policy,
            reset: NoReset,
            link: Link::Down,
            needs_bring_up: true,
            attempt: 0,
            silent: 0,
            next_action: Instant::from_ticks(0),
            rng: policy.jitter_seed | 1,
            events: Deque::new(),
        }
    }
}

impl<'a, P: ModemReset, const N: usize, const T: usize> Supervisor<'a, P, N, T> {
    /// The TLS setting applied at every bring-up after a restart (certificates the module
    /// already stores are not written again, see [`Tls`]).
    #[must_use]
    pub fn with_tls(mut self, tls: Tls<'a>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Uses `reset` to restart a modem that stays silent for [`Policy::silent_limit`] polls.
    pub fn with_reset<P2: ModemReset>(self, reset: P2) -> Supervisor<'a, P2, N, T> {
        Supervisor {
            config: self.config,
            tls: self.tls,
            subscriptions: self.subscriptions,
            policy: self.policy,
            reset,
            link: self.link,
            needs_bring_up: self.needs_bring_up,
            attempt: self.attempt,
            silent: self.silent,
            next_action: self.next_action,
            rng: self.rng,
            events: self.events,
        }
    }

    /// Whether the link is believed up.
    pub fn is_connected(&self) -> bool {
        self.link == Link::Up
    }

    /// When [`Supervisor::poll`] next has work to do.
    pub fn next_deadline(&self) -> Instant {
        self.next_action
    }

    /// The subscriptions that will be restored after a reconnect.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&str, Qos)> {
        self.subscriptions.iter().map(|(f, q)| (f.as_str(), *q))
    }

    /// Publishes, or fails at once with [`Error::NotConnected`] while the link is down.
    /// `Ok` only after the modem's `OK`; a link-lost code marks the link down.
    pub async fn publish<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, D, RS, EV>,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error> {
        if self.link != Link::Up {
            return Err(Error::NotConnected);
        }
        let result = modem.publish(topic, payload, qos, retain).await;
        self.observe(&result, modem);
        result
    }

    /// Registers `filter`, to be subscribed on every connect (its QoS replaced if it is
    /// known), and subscribes now if the link is up. While the link is down it is only
    /// registered (`Ok`), and made when the link comes up. A filter the dialect refuses
    /// ([`ErrorKind::Input`]) or one more than `N` is refused at once; one whose subscription
    /// fails now, other than with the link, is not kept. A filter the broker refuses at a
    /// later connect is dropped and reported ([`LinkEvent::SubscriptionRefused`]).
    pub async fn subscribe<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, D, RS, EV>,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error> {
        let owned: String<T> = String::try_from(filter).map_err(|_| {
            Error::invalid(
                crate::Field::TopicFilter,
                crate::Invalid::TooLong { max: T },
            )
        })?;
        D::check_filter(filter)?;
        let known = self.subscriptions.iter().position(|(f, _)| f == &owned);
        if known.is_none() && self.subscriptions.is_full() {
            return Err(Error::invalid(
                crate::Field::TopicFilter,
                crate::Invalid::OutOfRange,
            ));
        }
        let mut result = Ok(());
        if self.link == Link::Up {
            result = modem.subscribe(filter, qos).await;
            self.observe(&result, modem);
            // Failed with the link (now down): made at the reconnect. Otherwise (refused, no
            // answer): not kept; the caller decides.
            if let Err(e) = &result {
                if !matches!(e.kind(), ErrorKind::Link | ErrorKind::Io) {
                    return result;
                }
            }
        }
        match known {
            Some(i) => self.subscriptions[i].1 = qos,
            // Room was checked above.
            None => {
                let _ = self.subscriptions.push((owned, qos));
            }
        }
        result
    }

    /// Forgets `filter`, and unsubscribes now if the link is up (while it is down, `Ok`: the
    /// filter is not made at the next connect).
    pub async fn unsubscribe<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, D, RS, EV>,
        filter: &str,
    ) -> Result<(), Error> {
        self.subscriptions.retain(|(f, _)| f != filter);
        if self.link != Link::Up {
            return Ok(());
        }
        let result = modem.unsubscribe(filter).await;
        self.observe(&result, modem);
        result
    }

    /// One supervision step: notices lost links, reads a message that a module which keeps them
    /// has announced ([`MqttModem::receive_waiting`]: one while the application has taken every
    /// event, so call `poll` after taking events), polls the state when due, and reconnects
    /// when due. Returns the next thing to tell the application, if any; call again
    /// until `None`.
    pub async fn poll<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, D, RS, EV>,
    ) -> Option<LinkEvent> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        match modem.take_link_hint() {
            Some(LinkHint::Restarted) => {
                self.needs_bring_up = true;
                self.down(LossReason::ModemRestarted);
            }
            Some(LinkHint::SerialFailed) => {
                self.needs_bring_up = true;
                self.down(LossReason::SerialPort);
            }
            Some(LinkHint::Lost) => self.down(LossReason::LinkError),
            None => {}
        }
        // A module that keeps incoming messages until they are read may have announced some
        // (at once `Ok(0)` when none are announced, or for a module that sends them unasked).
        if self.link == Link::Up {
            let result = modem.receive_waiting().await;
            self.observe(&result, modem);
        }
        if Instant::now() >= self.next_action {
            match self.link {
                Link::Up => self.check(modem).await,
                Link::Down => self.reconnect(modem).await,
            }
        }
        self.events.pop_front()
    }

    fn poll_interval(&self) -> Duration {
        self.policy.poll_interval.unwrap_or(Duration::from_secs(
            u64::from(self.config.keepalive_secs().max(2)) / 2,
        ))
    }

    fn emit(&mut self, event: LinkEvent) {
        if self.events.is_full() {
            self.events.pop_front();
        }
        let _ = self.events.push_back(event);
    }

    fn down(&mut self, reason: LossReason) {
        if self.link == Link::Up {
            self.link = Link::Down;
            self.attempt = 0;
            self.next_action = Instant::now();
            self.emit(LinkEvent::Disconnected(reason));
        }
    }

    fn observe<X, W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        result: &Result<X, Error>,
        modem: &MqttModem<'_, W, D, RS, EV>,
    ) {
        if let Err(e) = result {
            if matches!(e.kind(), ErrorKind::Link | ErrorKind::Io) {
                // (The exchange notes every `Io` failure as `SerialFailed`.)
                let reason = match modem.take_link_hint() {
                    Some(LinkHint::Restarted) => LossReason::ModemRestarted,
                    Some(LinkHint::SerialFailed) => LossReason::SerialPort,
                    _ => LossReason::LinkError,
                };
                if reason != LossReason::LinkError {
                    self.needs_bring_up = true;
                }
                self.down(reason);
            }
        }
    }

    async fn check<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, D, RS, EV>,
    ) {
        self.next_action = later(self.poll_interval());
        match modem.state().await {
            Ok(ConnectionState::Connected) => self.silent = 0,
            Ok(ConnectionState::Disconnected) => {
                self.silent = 0;
                self.down(LossReason::StatePolled);
            }
            Err(Error::Timeout) => {
                self.silent = self.silent.saturating_add(1);
                if self.silent >= self.policy.silent_limit {
                    self.needs_bring_up = true;
                    self.down(LossReason::ModemSilent);
                }
            }
            Err(_) => {}
        }
    }

    async fn reconnect<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, D, RS, EV>,
    ) {
        if self.attempt > 0 {
            self.emit(LinkEvent::Reconnecting {
                attempt: self.attempt,
            });
        }
        self.attempt = self.attempt.saturating_add(1);
        match self.bring_up(modem).await {
            Ok(count) => {
                self.link = Link::Up;
                self.attempt = 0;
                self.silent = 0;
                self.next_action = later(self.poll_interval());
                let _ = modem.take_link_hint();
                self.emit(LinkEvent::Connected);
                if count > 0 {
                    self.emit(LinkEvent::Resubscribed { count });
                }
            }
            Err(e) => {
                // Unless the broker side failed (unreachable, refused, no CONNACK), the modem may
                // have restarted without a banner we saw: bring it up from scratch next time.
                if !matches!(e.kind(), ErrorKind::Link | ErrorKind::Broker) {
                    self.needs_bring_up = true;
                }
                if matches!(e, Error::Timeout) {
                    self.silent = self.silent.saturating_add(1);
                    if self.silent >= self.policy.silent_limit && self.reset.available() {
                        self.reset.reset().await;
                        self.silent = 0;
                        self.emit(LinkEvent::ModemReset);
                    }
                }
                let retry_in = self.backoff();
                self.next_action = later(retry_in);
                self.emit(LinkEvent::AttemptFailed {
                    attempt: self.attempt,
                    error: e,
                    retry_in,
                });
            }
        }
    }

    /// Init and TLS (after a restart), configure (then, or before every reconnect where the
    /// dialect needs it; an open session is closed first), connect, re-subscribe. Returns how many subscriptions were restored.
    async fn bring_up<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, D, RS, EV>,
    ) -> Result<usize, Error> {
        if self.needs_bring_up {
            modem.init().await?;
            if let Some(tls) = self.tls {
                modem.set_tls(tls).await?;
            }
        }
        if self.needs_bring_up || D::RECONNECT_CONFIGURES {
            // A session left open (by the application, or found by `init`) would keep the
            // module on its old settings.
            // (Its failure is no reason to stop: `configure` asks the module when unsure.)
            if modem.session_open() {
                let _ = modem.disconnect().await;
            }
            modem.configure(&self.config).await?;
            self.needs_bring_up = false;
        }
        modem.connect().await?;
        let mut i = 0;
        while let Some((filter, qos)) = self.subscriptions.get(i) {
            match modem.subscribe(filter, *qos).await {
                Ok(()) => i += 1,
                // Refused for what it is (by the broker): repeating it would keep the link
                // down for ever. Dropped and reported; the others are still made.
                Err(error) if matches!(error.kind(), ErrorKind::Input | ErrorKind::Broker) => {
                    self.subscriptions.remove(i);
                    self.emit(LinkEvent::SubscriptionRefused { error });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.subscriptions.len())
    }

    /// The next reconnect delay: doubling from the initial one up to the cap, then scaled by a
    /// random factor in [0.5, 1) so that a fleet does not reconnect in step.
    fn backoff(&mut self) -> Duration {
        let exp = self.attempt.saturating_sub(1).min(16);
        let base = self
            .policy
            .backoff_initial
            .as_ticks()
            .saturating_mul(1 << exp)
            .min(self.policy.backoff_max.as_ticks());
        // xorshift32
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        let fraction = u64::from(self.rng >> 16); // 0..65536
        // half · fraction / 65536, in two parts so that neither overflows nor rounds a short
        // delay's jitter away.
        let half = base / 2;
        let jitter = half / 65536 * fraction + (half % 65536) * fraction / 65536;
        Duration::from_ticks(half + jitter)
    }
}
