//! The logs view's memory: a bounded ring of events, kept in time order, with the
//! positions of the events that pass the current filters maintained as events
//! arrive, so drawing a screen never scans the whole ring.

use std::collections::{HashSet, VecDeque};

use crate::domain::{LogEvent, LogSource, Severity};

use super::filter::Filter;

/// How many events the view keeps; older ones are dropped (and counted).
pub const DEFAULT_CAPACITY: usize = 20_000;

/// What the view shows: text filter, one source or all, a minimum severity.
#[derive(Clone, Debug, Default)]
pub struct LogFilters {
    pub text: Filter,
    pub source: Option<LogSource>,
    pub min_severity: Option<Severity>,
}

impl LogFilters {
    pub fn matches(&self, e: &LogEvent) -> bool {
        self.source.is_none_or(|s| s == e.source)
            && self.min_severity.is_none_or(|m| e.severity >= m)
            && (!self.text.is_active()
                || self.text.matches(&e.message)
                || self.text.matches(&e.stream))
    }
}

pub struct LogBuffer {
    events: VecDeque<LogEvent>,
    /// Sequence number of `events[0]`; every event gets the next number.
    first_seq: u64,
    /// Sequence numbers of the events passing `filters`, ascending.
    visible: VecDeque<u64>,
    filters: LogFilters,
    /// Ids of recent events, to drop the duplicates a follow can deliver.
    recent_ids: HashSet<String>,
    recent_order: VecDeque<String>,
    capacity: usize,
    pub dropped: u64,
    pub received: u64,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::with_capacity(DEFAULT_CAPACITY)
    }
}

impl LogBuffer {
    pub fn with_capacity(capacity: usize) -> LogBuffer {
        LogBuffer {
            events: VecDeque::with_capacity(capacity.min(4096)),
            first_seq: 0,
            visible: VecDeque::new(),
            filters: LogFilters::default(),
            recent_ids: HashSet::new(),
            recent_order: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            received: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn filters(&self) -> &LogFilters {
        &self.filters
    }

    pub fn newest(&self) -> Option<&LogEvent> {
        self.events.back()
    }

    /// Adds events (any order), skipping ids already held. Returns how many of
    /// the added events pass the filters. Events older than the newest held are
    /// inserted in place (merging sources that arrive late), which is rare and
    /// bounded by the ring's size.
    pub fn extend(&mut self, mut batch: Vec<LogEvent>) -> usize {
        batch.sort_by_key(|e| e.timestamp);
        let mut shown = 0;
        for e in batch {
            if !self.remember(&e.id) {
                continue;
            }
            self.received += 1;
            if self
                .events
                .back()
                .is_some_and(|last| last.timestamp > e.timestamp)
            {
                let passes = self.filters.matches(&e);
                self.insert_in_order(e);
                shown += usize::from(passes);
                continue;
            }
            let seq = self.first_seq + self.events.len() as u64;
            if self.filters.matches(&e) {
                self.visible.push_back(seq);
                shown += 1;
            }
            self.events.push_back(e);
            self.evict();
        }
        shown
    }

    fn insert_in_order(&mut self, e: LogEvent) {
        let at = self.events.partition_point(|x| x.timestamp <= e.timestamp);
        self.events.insert(at, e);
        self.evict();
        self.rebuild();
    }

    fn evict(&mut self) {
        while self.events.len() > self.capacity {
            self.events.pop_front();
            self.first_seq += 1;
            self.dropped += 1;
        }
        while self.visible.front().is_some_and(|s| *s < self.first_seq) {
            self.visible.pop_front();
        }
    }

    fn remember(&mut self, id: &str) -> bool {
        if self.recent_ids.contains(id) {
            return false;
        }
        self.recent_ids.insert(id.to_string());
        self.recent_order.push_back(id.to_string());
        while self.recent_order.len() > self.capacity {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent_ids.remove(&old);
            }
        }
        true
    }

    pub fn set_filters(&mut self, filters: LogFilters) {
        self.filters = filters;
        self.rebuild();
    }

    fn rebuild(&mut self) {
        self.visible = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| self.filters.matches(e))
            .map(|(i, _)| self.first_seq + i as u64)
            .collect();
    }

    /// How many events pass the filters.
    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    /// The `index`-th visible event, oldest first.
    pub fn visible(&self, index: usize) -> Option<&LogEvent> {
        let seq = *self.visible.get(index)?;
        self.events.get((seq - self.first_seq) as usize)
    }

    /// The sequence number of the `index`-th visible event: a stable anchor for a
    /// paused view while events arrive and old ones are dropped.
    pub fn visible_seq(&self, index: usize) -> Option<u64> {
        self.visible.get(index).copied()
    }

    /// The index of the last visible event at or before `seq`.
    pub fn visible_index_of(&self, seq: u64) -> Option<usize> {
        self.visible.partition_point(|s| *s <= seq).checked_sub(1)
    }

    pub fn clear(&mut self) {
        self.events.clear();
        self.visible.clear();
        self.first_seq = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ev(id: u32, secs: i64, source: LogSource, severity: Severity, msg: &str) -> LogEvent {
        LogEvent {
            id: id.to_string(),
            timestamp: chrono::Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
            source,
            stream: "i-1".into(),
            message: msg.into(),
            severity,
        }
    }

    #[test]
    fn bounded_deduplicated_and_filtered_incrementally() {
        let mut b = LogBuffer::with_capacity(3);
        b.extend(vec![
            ev(1, 1, LogSource::App, Severity::Info, "GET /"),
            ev(2, 2, LogSource::System, Severity::Error, "disk"),
        ]);
        b.extend(vec![ev(2, 2, LogSource::System, Severity::Error, "disk")]);
        assert_eq!(b.len(), 2);
        b.set_filters(LogFilters {
            min_severity: Some(Severity::Warn),
            ..Default::default()
        });
        assert_eq!(b.visible_len(), 1);
        b.extend(vec![
            ev(3, 3, LogSource::App, Severity::Error, "boom"),
            ev(4, 4, LogSource::App, Severity::Info, "ok"),
        ]);
        // Capacity 3: event 1 dropped; visible = errors among 2, 3, 4.
        assert_eq!((b.len(), b.dropped), (3, 1));
        assert_eq!(b.visible_len(), 2);
        assert_eq!(b.visible(0).unwrap().id, "2");
        assert_eq!(b.visible(1).unwrap().id, "3");
        b.extend(vec![ev(5, 5, LogSource::App, Severity::Info, "x")]);
        assert_eq!(b.visible_len(), 1);
        assert_eq!(b.visible(0).unwrap().id, "3");
        b.extend(vec![ev(6, 6, LogSource::App, Severity::Info, "y")]);
        assert_eq!((b.visible_len(), b.dropped), (0, 3));
    }

    #[test]
    fn late_events_are_merged_in_time_order() {
        let mut b = LogBuffer::with_capacity(10);
        b.extend(vec![ev(1, 10, LogSource::App, Severity::Info, "a")]);
        b.extend(vec![ev(2, 5, LogSource::System, Severity::Info, "b")]);
        assert_eq!(b.visible(0).unwrap().id, "2");
        assert_eq!(b.visible(1).unwrap().id, "1");
    }

    #[test]
    fn text_filter_matches_message_or_stream() {
        let mut b = LogBuffer::with_capacity(10);
        b.extend(vec![
            ev(1, 1, LogSource::App, Severity::Info, "GET /notes"),
            ev(2, 2, LogSource::App, Severity::Info, "POST /pads"),
        ]);
        b.set_filters(LogFilters {
            text: Filter::new("notes"),
            ..Default::default()
        });
        assert_eq!(b.visible_len(), 1);
        b.set_filters(LogFilters {
            text: Filter::new("i-1"),
            ..Default::default()
        });
        assert_eq!(b.visible_len(), 2);
    }
}
