//! Connection supervision, optional and `no_std`.
//!
//! Not every module reports a lost connection (the UC8088 has no URC for it): the
//! [`Supervisor`] polls the link's state, and also treats what the module says unasked
//! (`Event::Disconnected`, a state change to disconnected), a boot banner, and any call that
//! fails with [`ErrorKind::Link`] as a lost link. It reconnects with exponential backoff and
//! jitter; only a failure that is neither the link's nor the broker's (by [`Error::kind`])
//! brings the modem up from scratch, re-applying TLS and the configuration. It re-subscribes
//! every topic at its QoS, and can pulse a reset pin when the modem stays silent.
//!
//! It owns no task: the application calls [`Supervisor::poll`] whenever
//! [`Supervisor::next_deadline`] passes (and after handling events), for example
//!
//! ```ignore
//! loop {
//!     match select(events.next(&mut buf), Timer::at(sup.next_deadline())).await {
//!         Either::First(event) => handle(event),
//!         Either::Second(()) => {}
//!     }
//!     while let Some(link) = sup.poll(&mut modem).await {
//!         info!("link: {:?}", link);
//!     }
//! }
//! ```

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

/// How the supervisor watches and restores the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy {
    /// How often to poll the link's state (UC8088 `AT+MQTTSTATE`); `None` means half the
    /// keepalive.
    pub poll_interval: Option<Duration>,
    /// The first reconnect delay; it doubles after each failure.
    pub backoff_initial: Duration,
    /// The longest reconnect delay.
    pub backoff_max: Duration,
    /// Consecutive timeouts (the modem silent) before the reset pin is pulsed, if there is one.
    pub silent_limit: u8,
    /// Seed of the backoff jitter; give each device a different one.
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
    /// Connecting failed with this error.
    ConnectFailed(Error),
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
    /// A reconnect attempt is due (1 for the first retry).
    Reconnecting {
        /// Attempt number.
        attempt: u32,
    },
    /// Every recorded subscription was restored.
    Resubscribed {
        /// How many.
        count: usize,
    },
    /// The reset pin was pulsed.
    ModemReset,
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

/// Keeps the link up. `N` subscriptions of at most `T` bytes are remembered for restoring.
pub struct Supervisor<'a, R = NoReset, const N: usize = 8, const T: usize = 64> {
    config: Config<'a>,
    credentials: Vec<Tls<'a>, 3>,
    subscriptions: Vec<(String<T>, Qos), N>,
    policy: Policy,
    reset: R,
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
            credentials: Vec::new(),
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

impl<'a, R: ModemReset, const N: usize, const T: usize> Supervisor<'a, R, N, T> {
    /// Adds a TLS credential to upload at every bring-up (at most three: CA, cert, key).
    pub fn with_tls(mut self, tls: Tls<'a>) -> Result<Self, Error> {
        self.credentials
            .push(tls)
            .map_err(|_| Error::invalid(crate::Field::Certificate, crate::Invalid::OutOfRange))?;
        Ok(self)
    }

    /// Uses `reset` to restart a modem that stays silent for [`Policy::silent_limit`] polls.
    pub fn with_reset<R2: ModemReset>(self, reset: R2) -> Supervisor<'a, R2, N, T> {
        Supervisor {
            config: self.config,
            credentials: self.credentials,
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
        modem: &mut MqttModem<'_, W, RS, EV, D>,
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

    /// Subscribes and remembers the filter for restoring (replacing its QoS if known).
    /// Fails with [`Error::NotConnected`] while the link is down.
    pub async fn subscribe<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, RS, EV, D>,
        filter: &str,
        qos: Qos,
    ) -> Result<(), Error> {
        let owned: String<T> = String::try_from(filter).map_err(|_| {
            Error::invalid(
                crate::Field::TopicFilter,
                crate::Invalid::TooLong { max: T },
            )
        })?;
        let known = self.subscriptions.iter().position(|(f, _)| f == &owned);
        if known.is_none() && self.subscriptions.is_full() {
            return Err(Error::invalid(
                crate::Field::TopicFilter,
                crate::Invalid::TooLong { max: N },
            ));
        }
        if self.link != Link::Up {
            return Err(Error::NotConnected);
        }
        let result = modem.subscribe(filter, qos).await;
        self.observe(&result, modem);
        result?;
        match known {
            Some(i) => self.subscriptions[i].1 = qos,
            // Room was checked above.
            None => {
                let _ = self.subscriptions.push((owned, qos));
            }
        }
        Ok(())
    }

    /// Unsubscribes and forgets the filter.
    pub async fn unsubscribe<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, RS, EV, D>,
        filter: &str,
    ) -> Result<(), Error> {
        self.subscriptions.retain(|(f, _)| f != filter);
        if self.link != Link::Up {
            return Err(Error::NotConnected);
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
        modem: &mut MqttModem<'_, W, RS, EV, D>,
    ) -> Option<LinkEvent> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        match modem.take_link_hint() {
            Some(LinkHint::Restarted) => {
                self.needs_bring_up = true;
                self.down(LossReason::ModemRestarted);
            }
            Some(LinkHint::Lost) => self.down(LossReason::LinkError),
            None => {}
        }
        // A module that keeps incoming messages until they are read has announced some.
        if self.link == Link::Up && modem.messages_waiting() {
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
        modem: &MqttModem<'_, W, RS, EV, D>,
    ) {
        if let Err(e) = result {
            if e.kind() == ErrorKind::Link {
                if modem.take_link_hint() == Some(LinkHint::Restarted) {
                    self.needs_bring_up = true;
                    self.down(LossReason::ModemRestarted);
                } else {
                    self.down(LossReason::LinkError);
                }
            }
        }
    }

    async fn check<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, RS, EV, D>,
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
        modem: &mut MqttModem<'_, W, RS, EV, D>,
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
                if self.attempt == 1 {
                    self.emit(LinkEvent::Disconnected(LossReason::ConnectFailed(e)));
                }
                self.next_action = later(self.backoff());
            }
        }
    }

    /// Init and TLS (after a restart), configure (then, or before every reconnect where the
    /// dialect needs it), connect, re-subscribe. Returns how many subscriptions were restored.
    async fn bring_up<W: Write, const RS: usize, const EV: usize, D: Dialect>(
        &mut self,
        modem: &mut MqttModem<'_, W, RS, EV, D>,
    ) -> Result<usize, Error> {
        if self.needs_bring_up {
            modem.init().await?;
            for tls in &self.credentials {
                modem.set_tls(*tls).await?;
            }
        }
        if self.needs_bring_up || D::RECONNECT_CONFIGURES {
            modem.configure(&self.config).await?;
            self.needs_bring_up = false;
        }
        modem.connect().await?;
        for (filter, qos) in &self.subscriptions {
            modem.subscribe(filter, *qos).await?;
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
        Duration::from_ticks(base / 2 + base / 2 / 65536 * fraction)
    }
}
