//! DNS SRV records (RFC 2782) and the order their targets are tried in.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// One SRV record of a service (`_service._tcp.name`), as a
/// [`Resolve`](crate::Resolve) found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Lower is tried first.
    pub priority: u16,
    /// Within a priority, the share of picks this target gets (0 = only when
    /// nothing else is left).
    pub weight: u16,
    /// The port the service listens on at `target`.
    pub port: u16,
    /// The host offering the service (a name, without the trailing dot);
    /// `"."` alone means the service is decidedly not available.
    pub target: String,
}

impl ServiceRecord {
    /// Whether this is RFC 2782's "service not available" record (target `.`).
    pub fn is_unavailable(&self) -> bool {
        self.target == "." || self.target.is_empty()
    }
}

/// Orders `records` as RFC 2782 says clients try them: by priority, lowest
/// first; within a priority, by a weighted random draw (a record with twice
/// the weight is twice as likely to come first), weight-0 records last in
/// the order given.
pub(crate) fn order(records: Vec<ServiceRecord>) -> Vec<ServiceRecord> {
    let state = RandomState::new();
    let mut counter = 0u64;
    order_with(records, move |below| {
        counter += 1;
        state.hash_one(counter) % below
    })
}

/// [`order`] with `random(n)` giving a number in `0..n` (`n > 0`).
fn order_with(
    mut records: Vec<ServiceRecord>,
    mut random: impl FnMut(u64) -> u64,
) -> Vec<ServiceRecord> {
    records.sort_by_key(|r| r.priority);
    let mut out = Vec::with_capacity(records.len());
    let mut rest = records.as_slice();
    while let Some(first) = rest.first() {
        let same = rest
            .iter()
            .take_while(|r| r.priority == first.priority)
            .count();
        let (group, tail) = rest.split_at(same);
        // RFC 2782's weighted draw, without its bias towards the first
        // record: a draw in 0..total picks the record whose running sum first
        // exceeds it, so weight-0 records are left for when nothing else is.
        let mut group: Vec<&ServiceRecord> = group.iter().collect();
        while !group.is_empty() {
            let total: u64 = group.iter().map(|r| u64::from(r.weight)).sum();
            let pick = if total == 0 {
                0
            } else {
                let draw = random(total);
                let mut sum = 0u64;
                group
                    .iter()
                    .position(|r| {
                        sum += u64::from(r.weight);
                        sum > draw
                    })
                    .unwrap_or(group.len() - 1)
            };
            out.push(group.remove(pick).clone());
        }
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(priority: u16, weight: u16, target: &str) -> ServiceRecord {
        ServiceRecord {
            priority,
            weight,
            port: 1,
            target: target.into(),
        }
    }

    fn targets(records: &[ServiceRecord]) -> Vec<&str> {
        records.iter().map(|r| r.target.as_str()).collect()
    }

    #[test]
    fn lower_priorities_come_first_whatever_the_weights() {
        let records = vec![
            rec(20, 100, "c"),
            rec(10, 0, "a"),
            rec(30, 5, "d"),
            rec(10, 0, "b"),
        ];
        for _ in 0..50 {
            let ordered = order(records.clone());
            assert_eq!(&targets(&ordered)[2..], ["c", "d"]);
            assert!(matches!(targets(&ordered)[..2], ["a", "b"] | ["b", "a"]));
        }
    }

    #[test]
    fn weights_share_the_first_place_in_proportion() {
        // Weight 3 against weight 1: about three quarters of the draws.
        let records = vec![rec(0, 1, "light"), rec(0, 3, "heavy")];
        let mut heavy_first = 0;
        for _ in 0..4000 {
            if order(records.clone())[0].target == "heavy" {
                heavy_first += 1;
            }
        }
        assert!((2700..3300).contains(&heavy_first), "{heavy_first} of 4000");
    }

    #[test]
    fn zero_weights_come_after_weighted_records() {
        let records = vec![rec(0, 0, "zero"), rec(0, 10, "ten"), rec(0, 0, "nil")];
        for draw in [0, 9] {
            let ordered = order_with(records.clone(), |n| draw.min(n - 1));
            assert_eq!(targets(&ordered), ["ten", "zero", "nil"]);
        }
    }

    #[test]
    fn unavailable_is_a_lone_dot() {
        assert!(rec(0, 0, ".").is_unavailable());
        assert!(!rec(0, 0, "a.example").is_unavailable());
    }
}
