//! Following the log groups: each batch is every event that became final since
//! the last one, in time order. An event is final once the model has stepped
//! past its instant; anything a command adds later is at or after the model's
//! time, so nothing is missed. Events already delivered in the recent past are
//! remembered by id, so a world reloaded from another process's write (which
//! may insert an event slightly behind) is still delivered once and only once.

use std::collections::BTreeSet;

use super::clock::{MINUTE, Ms};
use super::logs::LogRing;
use crate::domain::{LogEvent, LogSource};

/// How far back a batch looks for events another process inserted late.
pub const MARGIN: Ms = 2 * MINUTE;

pub struct Cursor {
    sources: Vec<LogSource>,
    /// Everything before this instant has been delivered.
    horizon: Ms,
    delivered: BTreeSet<(Ms, u64)>,
}

impl Cursor {
    /// Follows from `horizon` (the model's time) on.
    pub fn new(sources: &[LogSource], ring: &LogRing, horizon: Ms) -> Cursor {
        let delivered = ring
            .between(horizon - MARGIN, horizon)
            .map(|r| (r.t, r.seq))
            .collect();
        Cursor {
            sources: sources.to_vec(),
            horizon,
            delivered,
        }
    }

    fn wants(&self, source: LogSource) -> bool {
        self.sources.is_empty() || self.sources.contains(&source)
    }

    /// The events that became final up to `time`, oldest first.
    pub fn collect(&mut self, ring: &LogRing, time: Ms) -> Vec<LogEvent> {
        let mut out = Vec::new();
        for r in ring.between(self.horizon - MARGIN, time) {
            if self.wants(r.source) && self.delivered.insert((r.t, r.seq)) {
                out.push(r.to_event());
            }
        }
        self.horizon = self.horizon.max(time);
        let keep = self.delivered.split_off(&(self.horizon - MARGIN, 0));
        self.delivered = keep;
        out
    }

    #[cfg(test)]
    pub fn remembered(&self) -> usize {
        self.delivered.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Severity;
    use crate::sim::clock::TICK;
    use crate::sim::logs::Emit;

    fn ring_with(times: &[Ms]) -> LogRing {
        let mut ring = LogRing::default();
        for &t in times {
            let mut e = Emit::for_tick(t - t % TICK, Ms::MIN);
            e.text(t, LogSource::System, "s", Severity::Info, || {
                format!("at {t}")
            });
            ring.absorb(e.out, t);
        }
        ring
    }

    #[test]
    fn a_late_insert_inside_the_margin_is_delivered_once() {
        let mut ring = ring_with(&[10 * MINUTE, 10 * MINUTE + TICK]);
        let mut c = Cursor::new(&[], &ring, 10 * MINUTE);
        let first = c.collect(&ring, 11 * MINUTE);
        assert_eq!(first.len(), 2);
        // Another process's event lands a little behind the horizon.
        let mut e = Emit::for_command(10 * MINUTE + 30_000, 0);
        e.info(10 * MINUTE + 30_000, LogSource::Audit, "a", || {
            "late".into()
        });
        ring.absorb(e.out, 11 * MINUTE);
        let second = c.collect(&ring, 11 * MINUTE);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].message, "late");
        assert!(c.collect(&ring, 12 * MINUTE).is_empty());
    }

    #[test]
    fn what_is_remembered_is_bounded_by_the_margin() {
        // 900 events over two and a half hours: all inside the ring's window.
        let times: Vec<Ms> = (0..900).map(|k| MINUTE + k * TICK).collect();
        let ring = ring_with(&times);
        let mut c = Cursor::new(&[], &ring, 0);
        let mut total = 0;
        for step in 1..=20 {
            total += c.collect(&ring, step * 10 * MINUTE).len();
            assert!(
                c.remembered() <= (MARGIN / TICK) as usize + 1,
                "{}",
                c.remembered()
            );
        }
        assert_eq!(total, 900);
    }

    #[test]
    fn events_before_the_start_are_not_delivered() {
        let ring = ring_with(&[MINUTE, 2 * MINUTE, 3 * MINUTE]);
        let mut c = Cursor::new(&[LogSource::System], &ring, 2 * MINUTE + 1);
        let got = c.collect(&ring, 4 * MINUTE);
        assert_eq!(got.len(), 1);
        let mut other = Cursor::new(&[LogSource::App], &ring, 0);
        assert!(other.collect(&ring, 4 * MINUTE).is_empty());
    }
}
