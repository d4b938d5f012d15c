//! [`MqttModem`]: the application's handle. Each call checks its inputs and runs the dialect's
//! commands for it through the [`Exchange`]; a failure that says the link is down is noted
//! for the [`Supervisor`](crate::Supervisor). The pull reads (modules that keep messages until
//! asked) are here too.

use embedded_io_async::{Read, Write};

use crate::dialect::Dialect;
use crate::dialect::uc8088::Uc8088;
use crate::dialect::uc8088::{
    self,
    responses::{StoredConfig, Subscriptions},
};
use crate::error::{Detail, Error, ErrorKind};
use crate::events::Events;
use crate::exchange::{Exchange, Options};
use crate::identity::Identity;
use crate::mqtt::{Config, ConnectionState, Qos, Tls};
use crate::resources::{Inner, LinkHint, Resources, Shared, Stats};
use crate::runner::Runner;

/// The application's handle on the modem. Create it with [`MqttModem::new`], spawn the
/// returned [`Runner`], and read incoming messages from the returned [`Events`].
pub struct MqttModem<
    'a,
    W,
    D: Dialect = Uc8088,
    const RESPONSE: usize = 256,
    const EVENTS: usize = 2048,
> {
    exchange: Exchange<'a, W, RESPONSE, EVENTS, D>,
    /// What the dialect keeps between calls.
    state: D::State,
}

impl<'a, W: Write, const RESPONSE: usize, const EVENTS: usize>
    MqttModem<'a, W, Uc8088, RESPONSE, EVENTS>
{
    /// Splits the UART into the client (`writer`), the runner (`reader`) and the event
    /// receiver, all backed by `resources`, for a UC8088 (see [`MqttModem::with_dialect`] for
    /// other modules).
    pub fn new<R: Read, const INGRESS: usize>(
        resources: &'a mut Resources<INGRESS, RESPONSE, EVENTS>,
        reader: R,
        writer: W,
        options: Options,
    ) -> (
        Self,
        Runner<'a, R, Uc8088, RESPONSE, EVENTS>,
        Events<'a, EVENTS>,
    ) {
        Self::with_dialect(Uc8088, resources, reader, writer, options)
    }

    /// `AT+MQTTCONFIG?`: the settings the modem holds.
    pub async fn config(&mut self) -> Result<StoredConfig, Error> {
        uc8088::config(&mut self.exchange).await
    }

    /// `AT+MQTTTLS?`: whether TLS is on.
    pub async fn tls(&mut self) -> Result<bool, Error> {
        uc8088::tls(&mut self.exchange).await
    }

    /// `AT+MQTTSUB?`: at most `N` subscriptions with filters of at most `T` bytes.
    pub async fn subscriptions<const N: usize, const T: usize>(
        &mut self,
    ) -> Result<Subscriptions<N, T>, Error> {
        uc8088::subscriptions(&mut self.exchange).await
    }
}

impl<'a, W: Write, const RESPONSE: usize, const EVENTS: usize, D: Dialect>
    MqttModem<'a, W, D, RESPONSE, EVENTS>
{
    /// Splits the UART as [`MqttModem::new`] does, for the module whose command set is `D`
    /// (`MqttModem::with_dialect(EspAt, …)`).
    pub fn with_dialect<R: Read, const INGRESS: usize>(
        _dialect: D,
        resources: &'a mut Resources<INGRESS, RESPONSE, EVENTS>,
        reader: R,
        writer: W,
        options: Options,
    ) -> (Self, Runner<'a, R, D, RESPONSE, EVENTS>, Events<'a, EVENTS>) {
        let Resources { ingress, shared } = resources;
        let shared: &'a Shared<RESPONSE, EVENTS> = shared;
        let client = Self {
            exchange: Exchange::new(writer, shared, options),
            state: D::State::default(),
        };
        (
            client,
            Runner::new(reader, ingress, shared),
            Events::new(&shared.events),
        )
    }

    /// Brings the modem up: `AT` until it answers (up to [`Options::sync_attempts`]), then
    /// echo off and the dialect's settings (UC8088: `ATE0`, `AT+CMEE=1`, `AT+CFUN=1`, as in
    /// the manual's worked example), then the dialect's state query, which tells whether a
    /// session is still open.
    ///
    /// A module that answers `AT` but refuses the state query does not speak this dialect:
    /// [`Error::WrongDialect`]. A silent one gives [`Error::Timeout`]; without a runner,
    /// [`Error::NoRunner`].
    pub async fn init(&mut self) -> Result<(), Error> {
        let brought_up = D::init(&mut self.exchange, &mut self.state).await;
        if let Err(e) = &brought_up {
            // Only a refusal (the module answers, but not as this dialect) is worth a probe.
            if refusal(e).is_none() {
                return brought_up;
            }
        }
        match self.state().await {
            Ok(_) => brought_up,
            Err(e) => Err(refusal(&e).map_or(e, Error::WrongDialect)),
        }
    }

    /// Manufacturer, model and revision, as far as the dialect reports them.
    pub async fn identify(&mut self) -> Result<Identity, Error> {
        D::identify(&mut self.exchange, &mut self.state).await
    }

    /// Stores the broker address, identity and credentials (UC8088: `AT+MQTTCONFIG=…`).
    ///
    /// Refused with [`Error::StillConnected`] while a session is open (after a
    /// [`connect`](Self::connect), or when [`init`](Self::init) found one), in every dialect:
    /// none of the modules would move an open session to the new settings, so a `connect`
    /// after it would report success while still attached to the old broker. Call
    /// [`disconnect`](Self::disconnect) first. Where the driver is not sure the session is
    /// still open, it asks the module first.
    pub async fn configure(&mut self, config: &Config<'_>) -> Result<(), Error> {
        if self.session_open() && self.state().await? == ConnectionState::Connected {
            return Err(Error::StillConnected);
        }
        D::configure(&mut self.exchange, &mut self.state, config).await
    }

    /// Sets TLS up as `tls` says ([`Tls`]): writes the certificates and key the module does not
    /// hold yet, and chooses what it verifies and announces. Call it before
    /// [`configure`](Self::configure): ESP-AT takes the choice with the connection settings
    /// (until they are sent again, [`connect`](Self::connect) is refused with
    /// [`Error::NotConfigured`]). A part the module cannot do is refused by name
    /// ([`Error::Unsupported`]) before a byte is written.
    pub async fn set_tls(&mut self, tls: Tls<'_>) -> Result<(), Error> {
        D::set_tls(&mut self.exchange, &mut self.state, &tls).await
    }

    /// Connects to the configured broker; a refusal is a typed error (UC8088: a non-zero
    /// `+MQTTCONNECT:<code>` is an [`Error::Module`] whose kind says who refused).
    pub async fn connect(&mut self) -> Result<(), Error> {
        // Open from the moment the request may reach the module (a late CONNACK, a dropped
        // future): only a refusal or a link failure proves it is not.
        self.set_session(true);
        let result = D::connect(&mut self.exchange, &mut self.state).await;
        if let Err(e) = &result {
            if matches!(
                e.kind(),
                ErrorKind::Input | ErrorKind::Broker | ErrorKind::Link
            ) {
                self.set_session(false);
            }
        }
        result
    }

    /// Whether the modem is connected to the broker.
    pub async fn state(&mut self) -> Result<ConnectionState, Error> {
        let state = D::state(&mut self.exchange, &mut self.state).await?;
        self.set_session(state == ConnectionState::Connected);
        Ok(state)
    }

    /// Disconnects from the broker.
    pub async fn disconnect(&mut self) -> Result<(), Error> {
        let result = D::disconnect(&mut self.exchange, &mut self.state).await;
        // Gone, or it was not open (the link's failure): either way no session is left.
        if result
            .as_ref()
            .map_or_else(|e| e.kind() == ErrorKind::Link, |()| true)
        {
            self.set_session(false);
        }
        result
    }

    /// Whether a session with the broker is believed open (see [`Self::configure`]).
    pub(crate) fn session_open(&self) -> bool {
        self.exchange.shared().with(|s| s.watch.session)
    }

    fn set_session(&self, open: bool) {
        self.exchange.shared().with(|s| s.watch.session = open);
    }

    /// Publishes `payload` on `topic`. `Ok` only after the modem confirmed it (for QoS 1, once
    /// the broker acknowledged it where the modem reports that).
    pub async fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), Error> {
        D::publish(
            &mut self.exchange,
            &mut self.state,
            topic,
            payload,
            qos,
            retain,
        )
        .await
    }

    /// Subscribes to `filter`.
    pub async fn subscribe(&mut self, filter: &str, qos: Qos) -> Result<(), Error> {
        D::subscribe(&mut self.exchange, &mut self.state, filter, qos).await
    }

    /// Unsubscribes from `filter`.
    pub async fn unsubscribe(&mut self, filter: &str) -> Result<(), Error> {
        D::unsubscribe(&mut self.exchange, &mut self.state, filter).await
    }

    /// Sends any command and returns its parsed answer (see [`Exchange::send`]).
    #[cfg(feature = "_internal")]
    #[doc(hidden)]
    pub async fn send<C: crate::command::ModemCommand>(
        &mut self,
        cmd: &C,
    ) -> Result<C::Response, Error> {
        self.exchange.send(cmd).await
    }

    /// Counters of everything dropped or discarded so far.
    pub fn stats(&self) -> Stats {
        self.exchange.shared().with(|s| s.watch.stats)
    }

    /// Takes the evidence about the link gathered since the last call: the module said it
    /// unasked (UC8088 `+MQTTSTATE:0`, `+MQTTDISCONNECTED`, Quectel `+QMTSTAT`, …), a boot
    /// banner, or a command failed with [`ErrorKind::Link`](crate::ErrorKind::Link).
    /// The [`Supervisor`](crate::Supervisor) uses it; an application without one may too.
    pub fn take_link_hint(&self) -> Option<LinkHint> {
        self.exchange.shared().with(|s| s.watch.hint.take())
    }

    /// Reads the incoming messages that a module which keeps them until asked (u-blox's) has
    /// announced ([`Event::MessagesWaiting`](crate::Event::MessagesWaiting)), one command each:
    /// they arrive through [`Events`](crate::Events) like any other message. Returns how many
    /// were read; with modules that push every message (UC8088, ESP-AT, Quectel: every dialect
    /// offered today), 0 at once.
    /// The [`Supervisor`](crate::Supervisor) calls it from `poll`.
    ///
    /// A message is read only while the event queue is empty: the modem keeps what the
    /// application is not ready for, instead of the queue dropping it. So a call reads one
    /// message, or more while another task takes them from [`Events`](crate::Events); call
    /// again once the queue has been read.
    ///
    /// A read answered `OK` with no message, or refused (`ERROR`, `+CME ERROR`), means the
    /// modem holds nothing more: the count is cleared, and a refusal is returned if nothing
    /// was read. Any other failure (a timeout, the serial port, an answer that noise broke)
    /// is returned, and the messages still announced are read by the next call.
    pub async fn receive_waiting(&mut self) -> Result<u16, Error> {
        if !D::PULL {
            return Ok(0);
        }
        let mut read = 0u16;
        loop {
            // The count is the modem's own, and a notice during a read replaces it.
            let left = self.exchange.shared().with(|s| {
                let s = &mut s.watch;
                let left = s.waiting;
                if left > 0 && self.exchange.shared().events.is_empty() {
                    s.waiting = left - 1;
                    s.fetched = false;
                    s.noticed = false;
                    return left;
                }
                0
            });
            if left == 0 {
                return Ok(read);
            }
            match D::fetch(&mut self.exchange, &mut self.state).await {
                Ok(()) if self.exchange.shared().with(|s| s.watch.fetched) => {
                    read = read.saturating_add(1);
                }
                Ok(()) => {
                    self.exchange.shared().with(held_nothing);
                    return Ok(read);
                }
                // A refusal (`ERROR`, `+CME ERROR`): the modem holds nothing more.
                Err(e) if refusal(&e).is_some() => {
                    self.exchange.shared().with(held_nothing);
                    return if read == 0 { Err(e) } else { Ok(read) };
                }
                Err(e) => {
                    // A timeout or a broken answer: the read is owed again unless a message
                    // (even a broken one) came; a notice since may have counted higher.
                    self.exchange.shared().with(|s| {
                        let s = &mut s.watch;
                        s.waiting = s.waiting.max(left - u16::from(s.fetched));
                    });
                    return Err(e);
                }
            }
        }
    }
}

/// The module's own words when `e` is its refusal of a command (`ERROR`, `+CME ERROR`,
/// `+EXT ERROR`), as opposed to a failure code, a timeout or a broken answer.
fn refusal(e: &Error) -> Option<Detail> {
    match e {
        Error::Module {
            detail: d @ (Detail::Error | Detail::Cme(_) | Detail::CmeText(_) | Detail::Ext(_)),
            ..
        } => Some(d.clone()),
        _ => None,
    }
}

/// A pull read found nothing held: the count is cleared, unless a notice came since the read
/// began (a new message, announced right after the answer).
fn held_nothing<const N: usize>(s: &mut Inner<N>) {
    if !s.watch.noticed {
        s.watch.waiting = 0;
    }
}
