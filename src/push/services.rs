//! Each push service (by origin) as the sender sees it: how many requests are in flight to
//! it, and whether it is failing. A push service that keeps timing out or answering 5xx is
//! paused (a circuit breaker: after a cool-down one probe request goes through, and its
//! answer closes the breaker or pauses the service again for longer), and no service may
//! hold more than its share of the requests in flight while others have work too. So a
//! dead service holding 5 % of an audience no longer slows the other 95 %.
//!
//! A service also earns its slots (a slow start, as TCP's): it begins with a quarter of
//! its share (at least two, so that one hanging request does not hold back all of its
//! deliveries) and gets one more per answer, so its requests in flight double with each
//! round trip; it begins again after a failure or after it has been idle for a moment. A
//! service that died between two sends therefore holds a quarter of its share until its
//! requests time out, not every slot it held when it last answered, even when its
//! deliveries come first; and the others may use the slots it may not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures in a row (timeouts, lost connections, 5xx) that open the breaker, unless the
/// service is evidently up and those requests failed on their own:
/// - a timeout or lost connection, if the service answered another request (any status)
///   while this one was out. Measured from when the request went out, not by the clock: a
///   service that answered 2 s ago and swallowed everything sent since is down now, and
///   every timeout spent finding that out holds a slot. But if we turned requests to it away
///   while this one was out (it was at its share), nothing else could be heard: then, as
///   for a 5xx, a good answer within [`QUIET`] says it is up;
/// - a 5xx, if the service answered another request well (not 5xx) within [`QUIET`]:
///   some endpoints fail, the service works.
const FAILURES_TO_OPEN: u32 = 5;
const QUIET: Duration = Duration::from_secs(2);
const FIRST_COOL_DOWN: Duration = Duration::from_secs(5);
const MAX_COOL_DOWN: Duration = Duration::from_secs(60);
/// A service that has not answered for this long since a request went out to it is
/// stuck: long beside any push service's answer time, short beside its timeout.
const SILENT: Duration = Duration::from_secs(1);
/// How soon a delivery turned away because its service is at its share comes back.
pub const BUSY_RETRY: Duration = Duration::from_millis(100);
/// Nothing in flight to a service for this long: it is idle (not part of the current send),
/// and earns its slots again when it next has work. Long beside the gaps between two
/// requests of one send, short beside the time between two sends.
const IDLE: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct Services {
    state: Arc<Mutex<HashMap<String, Service>>>,
    /// The most requests in flight at once, to all services.
    all: usize,
    /// The most requests in flight to one service while another has requests in flight.
    share: usize,
    /// What a service may have in flight before it has earned more with answers.
    start: usize,
}

#[derive(Debug)]
struct Service {
    in_flight: usize,
    /// Answers since it last failed or was idle: its slots beyond the first few.
    earned: usize,
    /// Since when nothing has been in flight to it (`None` while something is), to tell
    /// a new send from a gap between two requests of one.
    idle_since: Option<Instant>,
    failures: u32,
    /// Paused until then; once it has passed, one probe may go.
    open_until: Option<Instant>,
    probing: bool,
    cool_down: Duration,
    /// When it last answered at all (a 5xx too).
    last_heard: Option<Instant>,
    /// When the first request since its last answer went out (`None` right after one).
    silent_since: Option<Instant>,
    /// When it last answered well (anything but a 5xx).
    last_up: Option<Instant>,
    /// Requests turned away because it was at its share, ever (kept when the rest is
    /// reset): a ticket compares it with the count when it went out.
    turned_away: u64,
}

impl Service {
    /// It has a request in flight, or had one a moment ago.
    fn active(&self, now: Instant) -> bool {
        self.in_flight > 0 || self.idle_since.is_some_and(|since| now.saturating_duration_since(since) < IDLE)
    }
}

impl Default for Service {
    fn default() -> Self {
        Self {
            in_flight: 0,
            earned: 0,
            idle_since: None,
            failures: 0,
            open_until: None,
            probing: false,
            cool_down: FIRST_COOL_DOWN,
            last_heard: None,
            silent_since: None,
            last_up: None,
            turned_away: 0,
        }
    }
}

/// Why a request may not go now, and until when to leave the service alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The breaker is open (or its probe is out).
    Down(Instant),
    /// The service has its share of the requests in flight.
    Busy(Instant),
}

/// How a request went, as far as the breaker cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Any answer but a 5xx: the service is up.
    Up,
    /// A 5xx: a failure, but the service is there.
    ServerError,
    /// A timeout or a lost connection: nothing heard.
    Failed,
    /// Not sent after all: says nothing about the service.
    NotSent,
}

/// Leave to send one request to `origin`. Dropped without [`Services::settle`] (the send
/// was cancelled), it only gives its place back.
pub struct Ticket {
    services: Services,
    origin: String,
    probe: bool,
    admitted: Instant,
    turned_away: u64,
    /// When its answer was counted: the service is idle from then if this was its last.
    settled: Option<Instant>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.services.lock();
        if let Some(service) = state.get_mut(&self.origin) {
            service.in_flight = service.in_flight.saturating_sub(1);
            if service.in_flight == 0 {
                service.idle_since = Some(self.settled.unwrap_or_else(Instant::now));
            }
            if self.probe {
                service.probing = false;
            }
        }
    }
}

impl Services {
    /// For up to `all` requests in flight, of which one service may hold three quarters
    /// while others have work.
    pub fn new(all: usize) -> Self {
        let all = all.max(1);
        let share = (all * 3 / 4).max(1);
        Self { state: Arc::default(), all, share, start: (share / 4).max(2) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Service>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `origin` is stuck: its last request failed, or it has not answered anything
    /// (a 5xx counts) for [`SILENT`] since a request went out to it. A slow service that
    /// answers is not.
    pub fn stuck(&self, origin: &str, now: Instant) -> bool {
        let state = self.lock();
        state.get(origin).is_some_and(|s| {
            s.failures > 0 || s.silent_since.is_some_and(|since| now.saturating_duration_since(since) >= SILENT)
        })
    }

    /// Services whose breaker is open (paused, or waiting for its probe's answer).
    pub fn open_count(&self, now: Instant) -> usize {
        self.lock().values().filter(|s| s.open_until.is_some_and(|until| until > now) || s.probing).count()
    }

    /// A ticket to send to `origin` now, or why not and until when (a paused service, or
    /// one at its share).
    pub fn admit(&self, origin: &str, now: Instant) -> Result<Ticket, Refusal> {
        let mut state = self.lock();
        // What the services with requests in flight may take (see below), which this one
        // leaves them; but at least its share.
        let reserved: usize = state
            .iter()
            .filter(|(o, s)| *o != origin && s.in_flight > 0)
            .map(|(_, s)| (self.start + s.earned).min(self.share))
            .sum();
        let limit = self.share.max(self.all.saturating_sub(reserved));
        let service = state.entry(origin.to_owned()).or_default();
        if !service.active(now) {
            service.earned = 0;
        }
        let mut probe = false;
        if let Some(until) = service.open_until {
            if now < until {
                return Err(Refusal::Down(until));
            }
            if service.probing {
                return Err(Refusal::Down(now + BUSY_RETRY));
            }
            service.probing = true;
            probe = true;
        }
        // A quarter of the share and one more slot per answer: a service whose last request
        // failed, or that has not answered in this send yet, holds few slots while the
        // breaker waits to be sure.
        if service.in_flight >= (self.start + service.earned).min(limit) {
            service.turned_away += 1;
            return Err(Refusal::Busy(now + BUSY_RETRY));
        }
        service.in_flight += 1;
        service.idle_since = None;
        service.silent_since.get_or_insert(now);
        let turned_away = service.turned_away;
        drop(state);
        Ok(Ticket {
            services: self.clone(),
            origin: origin.to_owned(),
            probe,
            admitted: now,
            turned_away,
            settled: None,
        })
    }

    /// Counts the answer: transient failures in a row open the breaker (a failed probe at
    /// once, for twice as long); any other answer closes it.
    pub fn settle(&self, mut ticket: Ticket, answer: Answer, now: Instant) {
        ticket.settled = Some(now);
        let transient = match answer {
            Answer::Failed | Answer::ServerError => true,
            Answer::Up => false,
            Answer::NotSent => return,
        };
        let mut state = self.lock();
        let Some(service) = state.get_mut(&ticket.origin) else { return };
        if !transient {
            *service = Service {
                in_flight: service.in_flight,
                earned: (service.earned + 1).min(self.all),
                idle_since: service.idle_since,
                last_heard: Some(now),
                last_up: Some(now),
                // Tickets out compare against it: a count only ever grows.
                turned_away: service.turned_away,
                ..Service::default()
            };
            return;
        }
        service.failures += 1;
        service.earned = 0;
        let up_lately = service.last_up.is_some_and(|at| now.saturating_duration_since(at) < QUIET);
        let answering = match answer {
            Answer::ServerError => up_lately,
            _ => {
                let held_back = service.turned_away > ticket.turned_away;
                service.last_heard.is_some_and(|at| at >= ticket.admitted) || (held_back && up_lately)
            }
        };
        if answer == Answer::ServerError {
            service.last_heard = Some(now);
            service.silent_since = None;
        }
        if ticket.probe || (service.failures >= FAILURES_TO_OPEN && service.open_until.is_none() && !answering) {
            let cool_down = if ticket.probe { (service.cool_down * 2).min(MAX_COOL_DOWN) } else { service.cool_down };
            service.cool_down = cool_down;
            service.open_until = Some(now + cool_down);
            metrics::counter!("tidings_push_breaker_trips_total", "service" => super::endpoint::service_of(&ticket.origin).to_owned())
                .increment(1);
            tracing::warn!(
                origin = ticket.origin,
                failures = service.failures,
                pause_secs = cool_down.as_secs(),
                "push service keeps failing: paused"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEAD: &str = "https://dead.example";
    const FINE: &str = "https://fine.example";

    fn timeout() -> Answer {
        Answer::Failed
    }

    fn created() -> Answer {
        Answer::Up
    }

    /// `n` answers in a row, so that the service has earned its slots.
    fn answered(services: &Services, origin: &str, n: usize, now: Instant) {
        for _ in 0..n {
            services.settle(services.admit(origin, now).unwrap(), created(), now);
        }
    }

    #[test]
    fn a_service_earns_its_slots_with_answers_and_starts_again_after_a_pause() {
        // 8 in all: it starts with two.
        let services = Services::new(8);
        let start = Instant::now();
        let first = services.admit(DEAD, start).unwrap();
        let _second = services.admit(DEAD, start).unwrap();
        assert!(services.admit(DEAD, start).is_err(), "two until it has answered");
        services.settle(first, created(), start);
        let two: Vec<_> = (0..2).map(|_| services.admit(DEAD, start).unwrap()).collect();
        assert!(services.admit(DEAD, start).is_err(), "one more per answer");
        drop(_second);
        for ticket in two {
            services.settle(ticket, created(), start);
        }
        answered(&services, DEAD, 8, start);
        let all: Vec<_> = (0..8).map(|_| services.admit(DEAD, start).unwrap()).collect();
        assert!(services.admit(DEAD, start).is_err(), "alone, never more than all");
        for ticket in all {
            services.settle(ticket, created(), start);
        }
        let after_a_pause = start + IDLE;
        let _again: Vec<_> = (0..2).map(|_| services.admit(DEAD, after_a_pause).unwrap()).collect();
        assert!(services.admit(DEAD, after_a_pause).is_err(), "idle for a moment: it starts again");
    }

    #[test]
    fn a_service_is_stuck_when_it_fails_or_stays_silent_not_when_it_is_slow() {
        let services = Services::new(8);
        let start = Instant::now();
        let slow = services.admit(FINE, start).unwrap();
        assert!(!services.stuck(FINE, start + SILENT / 2));
        services.settle(slow, created(), start + SILENT / 2);
        let _next = services.admit(FINE, start + SILENT / 2).unwrap();
        assert!(!services.stuck(FINE, start + SILENT), "answering, slowly");
        assert!(services.stuck(FINE, start + SILENT * 3 / 2), "silent since its last request went out");

        services.settle(services.admit(DEAD, start).unwrap(), timeout(), start);
        assert!(services.stuck(DEAD, start), "its last request failed");
    }

    #[test]
    fn a_failing_service_gets_a_quarter_of_its_share_while_others_have_work() {
        let services = Services::new(8);
        let now = Instant::now();
        answered(&services, DEAD, 5, now);
        let _fine = services.admit(FINE, now).unwrap();
        let held: Vec<_> = (0..5).map(|_| services.admit(DEAD, now).unwrap()).collect();
        services.settle(services.admit(DEAD, now).unwrap(), timeout(), now);
        assert!(services.admit(DEAD, now).is_err(), "a failing service is held to 2 of 8 while another is busy");
        drop(held);
        assert!(services.admit(DEAD, now).is_ok());
    }

    #[test]
    fn failures_in_a_row_pause_a_service_and_a_probe_decides_when_it_is_back() {
        let services = Services::new(8);
        let start = Instant::now();
        for _ in 0..FAILURES_TO_OPEN {
            let ticket = services.admit(DEAD, start).unwrap();
            services.settle(ticket, timeout(), start);
        }
        assert_eq!(services.admit(DEAD, start).err(), Some(Refusal::Down(start + FIRST_COOL_DOWN)));
        assert!(services.admit(FINE, start).is_ok(), "other services go on");

        // After the cool-down, one probe; the others wait for its answer.
        let later = start + FIRST_COOL_DOWN;
        let probe = services.admit(DEAD, later).unwrap();
        assert!(services.admit(DEAD, later).is_err());
        services.settle(probe, timeout(), later);
        let twice = Some(Refusal::Down(later + FIRST_COOL_DOWN * 2));
        assert_eq!(services.admit(DEAD, later).err(), twice, "twice as long");

        let again = later + FIRST_COOL_DOWN * 2;
        let probe = services.admit(DEAD, again).unwrap();
        services.settle(probe, created(), again);
        let two: Vec<_> = (0..2).map(|_| services.admit(DEAD, again).unwrap()).collect();
        assert_eq!(two.len(), 2, "closed again, with a slot earned by the probe's answer");
    }

    /// Enough requests to open the breaker go out at once and time out after 300 ms;
    /// 10 ms after they went out, another request got `other`. Returns when they timed out.
    /// (`services` must start six at once: 32 in all.)
    fn timeouts_beside_another_answer(services: &Services, other: Answer) -> Instant {
        let sent = Instant::now();
        let stuck: Vec<_> = (0..FAILURES_TO_OPEN).map(|_| services.admit(FINE, sent).unwrap()).collect();
        let answered = sent + Duration::from_millis(10);
        services.settle(services.admit(FINE, sent).unwrap(), other, answered);
        let timed_out = sent + Duration::from_millis(300);
        for ticket in stuck {
            services.settle(ticket, timeout(), timed_out);
        }
        timed_out
    }

    #[test]
    fn a_service_that_answers_others_is_not_paused_for_a_few_failures() {
        let services = Services::new(32);
        let timed_out = timeouts_beside_another_answer(&services, created());
        assert!(services.admit(FINE, timed_out).is_ok(), "it answered while those were out");

        // Nothing answered since this one went out: the service is down now.
        let next = services.admit(FINE, timed_out).unwrap();
        let later = timed_out + Duration::from_millis(300);
        services.settle(next, timeout(), later);
        assert!(services.admit(FINE, later).is_err(), "silent since: paused");
    }

    /// The CI failure this guards against: a service with a few failing endpoints is held
    /// to a quarter of its share (two slots); slow endpoints' requests hold those slots
    /// until it times out, the healthy requests are turned away meanwhile, and so nothing
    /// else is heard. That silence is ours, not the service's.
    #[test]
    fn a_timeout_while_we_turned_the_others_away_does_not_pause_a_service_that_answered_lately() {
        for turn_others_away in [true, false] {
            let services = Services::new(4);
            let start = Instant::now();
            services.settle(services.admit(FINE, start).unwrap(), created(), start);
            let _busy_elsewhere = services.admit(DEAD, start).unwrap();
            for _ in 1..FAILURES_TO_OPEN {
                services.settle(services.admit(FINE, start).unwrap(), Answer::ServerError, start);
            }
            let sent = start + Duration::from_millis(10);
            let slow = services.admit(FINE, sent).unwrap();
            let _also_slow = turn_others_away.then(|| services.admit(FINE, sent).unwrap());
            if turn_others_away {
                assert_eq!(services.admit(FINE, sent).err(), Some(Refusal::Busy(sent + BUSY_RETRY)), "two slots");
            }
            let timed_out = start + Duration::from_millis(300);
            services.settle(slow, timeout(), timed_out);
            let paused = matches!(services.admit(FINE, timed_out), Err(Refusal::Down(_)));
            assert_eq!(paused, !turn_others_away, "turned others away: {turn_others_away}");
        }
    }

    #[test]
    fn a_service_answering_5xx_to_some_is_up_for_the_timeouts_of_others() {
        let services = Services::new(32);
        let timed_out = timeouts_beside_another_answer(&services, Answer::ServerError);
        assert!(services.admit(FINE, timed_out).is_ok(), "a 500 is an answer: the service is there");
    }

    #[test]
    fn nothing_but_5xx_one_after_another_pauses_a_service() {
        let services = Services::new(8);
        let mut now = Instant::now();
        for _ in 0..FAILURES_TO_OPEN {
            let ticket = services.admit(DEAD, now).unwrap();
            now += Duration::from_millis(5);
            services.settle(ticket, Answer::ServerError, now);
            now += Duration::from_millis(5);
        }
        assert!(matches!(services.admit(DEAD, now), Err(Refusal::Down(_))));
    }

    #[test]
    fn an_answer_from_before_the_failed_requests_went_out_does_not_keep_a_service_open() {
        let services = Services::new(32);
        let start = Instant::now();
        services.settle(services.admit(DEAD, start).unwrap(), created(), start);
        let sent = start + Duration::from_millis(50);
        let lost: Vec<_> = (0..FAILURES_TO_OPEN).map(|_| services.admit(DEAD, sent).unwrap()).collect();
        let timed_out = sent + Duration::from_millis(300);
        for ticket in lost {
            services.settle(ticket, timeout(), timed_out);
        }
        assert_eq!(services.admit(DEAD, timed_out).err(), Some(Refusal::Down(timed_out + FIRST_COOL_DOWN)));
    }

    #[test]
    fn a_service_holds_at_most_its_share_while_others_have_work() {
        let services = Services::new(8);
        let now = Instant::now();
        answered(&services, DEAD, 8, now);
        answered(&services, FINE, 8, now);
        let mut alone: Vec<_> = (0..8).map(|_| services.admit(DEAD, now).unwrap()).collect();
        assert_eq!(alone.len(), 8, "alone, a service may use every slot");
        let fine = services.admit(FINE, now).unwrap();
        alone.truncate(6);
        assert!(services.admit(DEAD, now).is_err(), "over its share (6) while another is busy");
        drop(fine);
        assert!(services.admit(DEAD, now).is_ok());
    }

    #[test]
    fn a_service_may_take_the_slots_another_may_not_use() {
        let services = Services::new(16);
        let now = Instant::now();
        answered(&services, FINE, 16, now);
        // Not answered yet: it may hold three (a quarter of its share, 12), so the other
        // may hold thirteen, more than its share.
        let _unproven = services.admit(DEAD, now).unwrap();
        let thirteen: Vec<_> = (0..13).map(|_| services.admit(FINE, now).unwrap()).collect();
        assert_eq!(thirteen.len(), 13);
        assert!(services.admit(FINE, now).is_err());
    }
}
