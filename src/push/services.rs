//! Each push service (by origin) as the sender sees it: how many requests are in flight to
//! it, and whether it is failing. A push service that keeps timing out or answering 5xx is
//! paused (a circuit breaker: after a cool-down one probe request goes through, and its
//! answer closes the breaker or pauses the service again for longer), and no service may
//! hold more than its share of the requests in flight while others have work too. So a
//! dead service holding 5 % of an audience no longer slows the other 95 %.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::PushResult;

/// Failures in a row (timeouts, lost connections, 5xx) that open the breaker.
const FAILURES_TO_OPEN: u32 = 5;
const FIRST_COOL_DOWN: Duration = Duration::from_secs(5);
const MAX_COOL_DOWN: Duration = Duration::from_secs(60);
/// How soon a delivery turned away because its service is at its share comes back.
const BUSY_RETRY: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct Services {
    state: Arc<Mutex<HashMap<String, Service>>>,
    /// The most requests in flight to one service while another has requests in flight.
    share: usize,
}

#[derive(Debug)]
struct Service {
    in_flight: usize,
    failures: u32,
    /// Paused until then; once it has passed, one probe may go.
    open_until: Option<Instant>,
    probing: bool,
    cool_down: Duration,
}

impl Default for Service {
    fn default() -> Self {
        Self { in_flight: 0, failures: 0, open_until: None, probing: false, cool_down: FIRST_COOL_DOWN }
    }
}

/// Leave to send one request to `origin`. Dropped without [`Services::settle`] (the send
/// was cancelled), it only gives its place back.
pub struct Ticket {
    services: Services,
    origin: String,
    /// How many requests were in flight to the service before this one.
    pub position: usize,
    probe: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.services.lock();
        if let Some(service) = state.get_mut(&self.origin) {
            service.in_flight = service.in_flight.saturating_sub(1);
            if self.probe {
                service.probing = false;
            }
        }
    }
}

impl Services {
    pub fn new(share: usize) -> Self {
        Self { state: Arc::default(), share: share.max(1) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Service>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A ticket to send to `origin` now, or until when to leave it alone.
    pub fn admit(&self, origin: &str, now: Instant) -> Result<Ticket, Instant> {
        let mut state = self.lock();
        let others_busy = state.iter().any(|(o, s)| o != origin && s.in_flight > 0);
        let service = state.entry(origin.to_owned()).or_default();
        let mut probe = false;
        if let Some(until) = service.open_until {
            if now < until {
                return Err(until);
            }
            if service.probing {
                return Err(now + BUSY_RETRY);
            }
            service.probing = true;
            probe = true;
        }
        if others_busy && service.in_flight >= self.share {
            return Err(now + BUSY_RETRY);
        }
        let position = service.in_flight;
        service.in_flight += 1;
        drop(state);
        Ok(Ticket { services: self.clone(), origin: origin.to_owned(), position, probe })
    }

    /// Counts the answer: transient failures in a row open the breaker (a failed probe at
    /// once, for twice as long); any other answer closes it.
    pub fn settle(&self, ticket: Ticket, result: &PushResult, now: Instant) {
        let transient = match result {
            PushResult::NoAnswer(_) => true,
            PushResult::Answered { status, .. } => (500..600).contains(status),
            PushResult::NotSent(_) | PushResult::OriginPaused(_) => return,
        };
        let mut state = self.lock();
        let Some(service) = state.get_mut(&ticket.origin) else { return };
        if !transient {
            *service = Service { in_flight: service.in_flight, ..Service::default() };
            return;
        }
        service.failures += 1;
        if ticket.probe || (service.failures >= FAILURES_TO_OPEN && service.open_until.is_none()) {
            let cool_down = if ticket.probe { (service.cool_down * 2).min(MAX_COOL_DOWN) } else { service.cool_down };
            service.cool_down = cool_down;
            service.open_until = Some(now + cool_down);
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

    fn timeout() -> PushResult {
        PushResult::NoAnswer("timed out".into())
    }

    fn created() -> PushResult {
        PushResult::Answered { status: 201, retry_after: None, body: String::new() }
    }

    #[test]
    fn failures_in_a_row_pause_a_service_and_a_probe_decides_when_it_is_back() {
        let services = Services::new(8);
        let start = Instant::now();
        for _ in 0..FAILURES_TO_OPEN {
            let ticket = services.admit(DEAD, start).unwrap();
            services.settle(ticket, &timeout(), start);
        }
        assert_eq!(services.admit(DEAD, start).err(), Some(start + FIRST_COOL_DOWN));
        assert!(services.admit(FINE, start).is_ok(), "other services go on");

        // After the cool-down, one probe; the others wait for its answer.
        let later = start + FIRST_COOL_DOWN;
        let probe = services.admit(DEAD, later).unwrap();
        assert!(services.admit(DEAD, later).is_err());
        services.settle(probe, &timeout(), later);
        assert_eq!(services.admit(DEAD, later).err(), Some(later + FIRST_COOL_DOWN * 2), "twice as long");

        let again = later + FIRST_COOL_DOWN * 2;
        let probe = services.admit(DEAD, again).unwrap();
        services.settle(probe, &created(), again);
        let many: Vec<_> = (0..5).map(|_| services.admit(DEAD, again).unwrap()).collect();
        assert_eq!(many.len(), 5, "closed again");
    }

    #[test]
    fn a_service_holds_at_most_its_share_while_others_have_work() {
        let services = Services::new(2);
        let now = Instant::now();
        let alone: Vec<_> = (0..4).map(|_| services.admit(DEAD, now).unwrap()).collect();
        assert_eq!(alone.len(), 4, "alone, a service may use every slot");
        let fine = services.admit(FINE, now).unwrap();
        assert!(services.admit(DEAD, now).is_err(), "over its share while another is busy");
        drop(fine);
        drop(alone);
        assert!(services.admit(DEAD, now).is_ok());
    }
}
