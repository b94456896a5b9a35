//! Claimed deliveries waiting for their push service: one queue per service, taken in
//! turns. A service at its share of the requests in flight holds back only its own queue,
//! in memory: the others go on, and its deliveries go as soon as a slot of its frees up
//! instead of being turned back to the database to be claimed again.

use std::collections::VecDeque;

use crate::push::client::{Admission, Admitted, PushClient, PushResult};
use crate::push::endpoint::service_of;
use crate::store::ClaimedDelivery;

#[derive(Default)]
pub struct Lanes {
    /// By service, in the order they first had work; `next` is whose turn it is.
    lanes: Vec<(String, VecDeque<ClaimedDelivery>)>,
    next: usize,
    len: usize,
}

impl Lanes {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, delivery: ClaimedDelivery) {
        let service = service_of(&delivery.recipient.endpoint);
        match self.lanes.iter_mut().find(|(s, _)| s == service) {
            Some((_, lane)) => lane.push_back(delivery),
            None => self.lanes.push((service.to_owned(), VecDeque::from([delivery]))),
        }
        self.len += 1;
    }

    /// The next delivery whose service takes a request now, one service after another.
    /// Deliveries that cannot go now or ever (a paused service, a refused endpoint) are
    /// handed to `not_sent` with the reason; a service at its share keeps its queue.
    pub fn next_admitted(
        &mut self,
        client: &PushClient,
        mut not_sent: impl FnMut(ClaimedDelivery, PushResult),
    ) -> Option<(ClaimedDelivery, Admitted)> {
        for _ in 0..self.lanes.len() {
            let turn = self.next % self.lanes.len();
            self.next = turn + 1;
            let lane = &mut self.lanes[turn].1;
            while let Some(delivery) = lane.front() {
                match client.admit(&delivery.recipient.endpoint) {
                    Admission::Go(admitted) => {
                        let delivery = lane.pop_front().expect("looked at it");
                        self.len -= 1;
                        return Some((delivery, admitted));
                    }
                    Admission::Wait(_) => break,
                    Admission::Not(result) => {
                        not_sent(lane.pop_front().expect("looked at it"), result);
                        self.len -= 1;
                    }
                }
            }
        }
        self.lanes.retain(|(_, lane)| !lane.is_empty());
        None
    }

    /// The longest queue of a stuck service (failing, or silent for a while), emptied: when
    /// too many deliveries wait, those of a service that is stuck go back to the database
    /// rather than block the claims of the others. A service that answers, however slowly,
    /// frees its slots: its deliveries wait.
    pub fn take_stuck(&mut self, client: &PushClient) -> Vec<ClaimedDelivery> {
        let stuck = self
            .lanes
            .iter_mut()
            .filter(|(_, lane)| lane.front().is_some_and(|d| client.is_stuck(&d.recipient.endpoint)));
        let Some((_, lane)) = stuck.max_by_key(|(_, lane)| lane.len()) else {
            return Vec::new();
        };
        let taken: Vec<_> = lane.drain(..).collect();
        self.len -= taken.len();
        taken
    }

    /// Every waiting delivery, the queues emptied.
    pub fn take_all(&mut self) -> Vec<ClaimedDelivery> {
        self.len = 0;
        self.lanes.drain(..).flat_map(|(_, lane)| lane).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::endpoint::EndpointPolicy;
    use std::time::Duration;

    fn delivery(id: i64, host: &str) -> ClaimedDelivery {
        ClaimedDelivery {
            recipient: crate::store::SubscriptionRow {
                id,
                endpoint: format!("https://{host}/push/{id}"),
                p256dh: String::new(),
                auth: String::new(),
                key_id: 1,
            },
            attempts: 0,
            first_failed_at: None,
            term: 0,
            variant: 0,
        }
    }

    fn client(concurrency: usize) -> PushClient {
        PushClient::new(EndpointPolicy::default(), Duration::from_secs(5), concurrency, None).unwrap()
    }

    #[test]
    fn services_take_turns_and_a_busy_one_waits_without_holding_up_the_others() {
        // Room for 8 in flight: a service may hold 2 until it has answered in this send.
        let client = client(8);
        let mut lanes = Lanes::default();
        let (a, b, c) = ("fcm.googleapis.com", "a.push.services.mozilla.com", "b.push.apple.com");
        for (id, host) in [(1, a), (2, a), (3, a), (4, b), (5, c), (6, c), (7, c), (8, a)] {
            lanes.push(delivery(id, host));
        }
        let mut started = Vec::new();
        while let Some((delivery, admitted)) = lanes.next_admitted(&client, |_, why| panic!("{why:?}")) {
            started.push((delivery.recipient.id, admitted));
        }
        let order: Vec<i64> = started.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [1, 4, 5, 2, 6], "one of each service in turn, two each until they answer");
        assert_eq!(lanes.len(), 3);
        assert!(lanes.take_stuck(&client).is_empty(), "just sent to, not silent for long: nothing is stuck");
        assert_eq!(lanes.len(), 3);

        // A request to the first service fails: its backlog is the one handed back.
        let (_, to_a) = started.into_iter().find(|(id, _)| *id == 1).unwrap();
        client.fail_admitted(to_a);
        let stuck: Vec<i64> = lanes.take_stuck(&client).iter().map(|d| d.recipient.id).collect();
        assert_eq!(stuck, [3, 8], "the stuck service's queue, not the healthy one's");
        assert_eq!(lanes.len(), 1);
    }

    #[test]
    fn a_refused_endpoint_is_handed_back_with_the_reason() {
        let client = client(4);
        let mut lanes = Lanes::default();
        lanes.push(delivery(1, "push.attacker.example"));
        lanes.push(delivery(2, "fcm.googleapis.com"));
        let mut not_sent = Vec::new();
        let next = lanes.next_admitted(&client, |d, why| not_sent.push((d.recipient.id, why)));
        assert_eq!(next.map(|(d, _)| d.recipient.id), Some(2));
        assert!(matches!(not_sent.as_slice(), [(1, PushResult::NotSent(_))]), "{not_sent:?}");
    }
}
