//! Following logs live: CloudWatch Logs StartLiveTail where the endpoint has it,
//! else FilterLogEvents polling.
//!
//! Polling resumes each group from the newest timestamp it has seen (inclusive,
//! since more events may share that millisecond) and drops the event ids already
//! shown at that timestamp, the way `aws logs tail --follow` does. Groups are
//! polled one after another rather than at once: FilterLogEvents has a 5
//! requests/s account quota shared with every other reader, and a burst of five
//! would take all of it. Throttling doubles the interval up to a ceiling and shows
//! in the follow mode; a clean round brings the interval back.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::start_live_tail::StartLiveTailOutput;
use aws_sdk_cloudwatchlogs::types::{LiveTailSessionLogEvent, StartLiveTailResponseStream};
use tokio::time::Instant;

use super::errors::{SdkResultExt, from_stream};
use super::logs;
use super::retry::PollBackoff;
use super::time;
use crate::backend::{BackendError, LogFollower, Result};
use crate::domain::{FollowMode, LogEvent, LogSource, Severity, Timestamp};

/// StartLiveTail accepts at most 10 log groups; the contract has 5.
const LIVE_TAIL_MAX_GROUPS: usize = 10;

/// Ids remembered at one group's boundary timestamp. Only events sharing one
/// millisecond are kept, so this bound is never reached in practice; it exists so
/// a pathological burst cannot grow memory without limit.
const BOUNDARY_IDS: usize = 10_000;

/// How often polling asks and how far throttling may stretch that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowTiming {
    pub poll_interval: Duration,
    pub max_backoff: Duration,
}

impl Default for FollowTiming {
    fn default() -> Self {
        FollowTiming {
            poll_interval: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Starts following `sources` from `now`: live tail when `try_live`, falling back
/// to polling when the endpoint refuses it (or has it not at all).
pub(crate) async fn start(
    client: Client,
    env: String,
    sources: Vec<LogSource>,
    now: Timestamp,
    try_live: bool,
    timing: FollowTiming,
) -> Result<Box<dyn LogFollower>> {
    let poller = Poller::new(client.clone(), env.clone(), &sources, now, timing);
    if try_live && let Some(live) = LiveTail::start(&client, &env, &sources).await? {
        return Ok(Box::new(Follower {
            feed: Feed::Live(Box::new(live)),
            poller,
            client,
            env,
            sources,
        }));
    }
    Ok(Box::new(Follower {
        feed: Feed::Polling,
        poller,
        client,
        env,
        sources,
    }))
}

enum Feed {
    Live(Box<LiveTail>),
    Polling,
}

struct Follower {
    feed: Feed,
    /// Kept ready even while live: it takes over from the newest live event.
    poller: Poller,
    client: Client,
    env: String,
    sources: Vec<LogSource>,
}

#[async_trait]
impl LogFollower for Follower {
    async fn next_batch(&mut self) -> Result<Vec<LogEvent>> {
        if let Feed::Live(live) = &mut self.feed {
            match live.next().await {
                LiveNext::Events(events) => {
                    for e in &events {
                        self.poller.advance_to(e.source, e.timestamp);
                    }
                    return Ok(events);
                }
                LiveNext::Ended => {
                    // Sessions end after 3 hours by design: open a new one.
                    match LiveTail::start(&self.client, &self.env, &self.sources).await {
                        Ok(Some(next)) => {
                            **live = next;
                            return Ok(vec![]);
                        }
                        _ => self.feed = Feed::Polling,
                    }
                }
                LiveNext::Failed(e) => {
                    self.feed = Feed::Polling;
                    // An outage is worth showing; anything else the stream
                    // reports is handled by polling instead.
                    if e.is_offline() {
                        return Err(e);
                    }
                }
            }
        }
        self.poller.next().await
    }

    fn mode(&self) -> FollowMode {
        match self.feed {
            Feed::Live(_) => FollowMode::LiveTail,
            Feed::Polling => self.poller.mode(),
        }
    }
}

struct LiveTail {
    output: StartLiveTailOutput,
    sources_by_group: HashMap<String, LogSource>,
}

enum LiveNext {
    Events(Vec<LogEvent>),
    Ended,
    Failed(BackendError),
}

impl LiveTail {
    /// `Ok(None)` when live tail is not to be had here: no group exists yet, the
    /// endpoint lacks the operation, or the policy does not allow it. Only an
    /// outage is an error (polling would fail the same way).
    async fn start(client: &Client, env: &str, sources: &[LogSource]) -> Result<Option<LiveTail>> {
        let arns = match logs::group_arns(client, env, sources).await {
            Ok(a) => a,
            Err(e) if e.is_offline() => return Err(e),
            Err(_) => return Ok(None),
        };
        if arns.is_empty() {
            return Ok(None);
        }
        let mut sources_by_group = HashMap::new();
        let mut req = client.start_live_tail();
        for (source, arn) in arns.into_iter().take(LIVE_TAIL_MAX_GROUPS) {
            req = req.log_group_identifiers(&arn);
            sources_by_group.insert(arn, source);
            sources_by_group.insert(source.group_name(env), source);
        }
        match req.send().await.aws("logs", "StartLiveTail") {
            Ok(output) => Ok(Some(LiveTail {
                output,
                sources_by_group,
            })),
            Err(e) if e.is_offline() => Err(e),
            Err(_) => Ok(None),
        }
    }

    async fn next(&mut self) -> LiveNext {
        match self.output.response_stream.recv().await {
            Ok(Some(StartLiveTailResponseStream::SessionUpdate(u))) => LiveNext::Events(
                u.session_results()
                    .iter()
                    .filter_map(|e| self.event(e))
                    .collect(),
            ),
            // SessionStart and future event kinds carry no log lines.
            Ok(Some(_)) => LiveNext::Events(vec![]),
            Ok(None) => LiveNext::Ended,
            Err(e) => match from_stream("logs", "StartLiveTail", e) {
                BackendError::Api { code, .. } if code == "SessionTimeoutException" => {
                    LiveNext::Ended
                }
                other => LiveNext::Failed(other),
            },
        }
    }

    fn event(&self, e: &LiveTailSessionLogEvent) -> Option<LogEvent> {
        let group = e.log_group_identifier()?;
        let source = *self.sources_by_group.get(group).or_else(|| {
            // Identifiers may come back as ARNs with a suffix or account prefix.
            self.sources_by_group
                .iter()
                .find(|(k, _)| group.ends_with(k.as_str()) || k.ends_with(group))
                .map(|(_, s)| s)
        })?;
        let ts = e.timestamp()?;
        let message = e
            .message()
            .unwrap_or_default()
            .trim_end_matches(['\n', '\r'])
            .to_string();
        let stream = e.log_stream_name().unwrap_or_default().to_string();
        // Live tail events carry no id; one derived from their content is stable,
        // which is what de-duplication against a later poll needs.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&stream, ts, e.ingestion_time(), &message).hash(&mut h);
        Some(LogEvent {
            id: format!("lt-{ts}-{:016x}", h.finish()),
            timestamp: time::from_millis(ts)?,
            source,
            stream,
            severity: Severity::detect(&message),
            message,
        })
    }
}

/// One group's resume point.
struct Cursor {
    source: LogSource,
    since_ms: i64,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
}

impl Cursor {
    fn remember(&mut self, id: String) {
        if self.seen.insert(id.clone()) {
            self.seen_order.push_back(id);
            if self.seen_order.len() > BOUNDARY_IDS
                && let Some(old) = self.seen_order.pop_front()
            {
                self.seen.remove(&old);
            }
        }
    }

    /// The events of a poll not shown before, and the cursor moved past them.
    fn take_new(&mut self, mut events: Vec<LogEvent>) -> Vec<LogEvent> {
        events.sort_by_key(|e| e.timestamp);
        let mut fresh = Vec::new();
        for e in events {
            let ms = e.timestamp.timestamp_millis();
            if ms < self.since_ms || (ms == self.since_ms && self.seen.contains(&e.id)) {
                continue;
            }
            if ms > self.since_ms {
                self.since_ms = ms;
                self.seen.clear();
                self.seen_order.clear();
            }
            self.remember(e.id.clone());
            fresh.push(e);
        }
        fresh
    }
}

struct Poller {
    client: Client,
    env: String,
    cursors: Vec<Cursor>,
    backoff: PollBackoff,
    throttled: bool,
    next_at: Option<Instant>,
}

impl Poller {
    fn new(
        client: Client,
        env: String,
        sources: &[LogSource],
        now: Timestamp,
        timing: FollowTiming,
    ) -> Poller {
        Poller {
            client,
            env,
            cursors: sources
                .iter()
                .map(|s| Cursor {
                    source: *s,
                    since_ms: now.timestamp_millis(),
                    seen: HashSet::new(),
                    seen_order: VecDeque::new(),
                })
                .collect(),
            backoff: PollBackoff::new(timing.poll_interval, timing.max_backoff),
            throttled: false,
            next_at: None,
        }
    }

    /// Live events already shown move the resume point, so a fallback to polling
    /// neither repeats nor skips them.
    fn advance_to(&mut self, source: LogSource, t: Timestamp) {
        if let Some(c) = self.cursors.iter_mut().find(|c| c.source == source) {
            // Live events have no CloudWatch id, so resume just after them.
            c.since_ms = c.since_ms.max(t.timestamp_millis() + 1);
        }
    }

    fn mode(&self) -> FollowMode {
        FollowMode::Polling {
            interval_secs: self.backoff.interval().as_secs().max(1) as u32,
            throttled: self.throttled,
        }
    }

    async fn next(&mut self) -> Result<Vec<LogEvent>> {
        if let Some(at) = self.next_at {
            tokio::time::sleep_until(at).await;
        }
        let result = self.round().await;
        match &result {
            Ok((_, true)) => {
                self.throttled = true;
                self.backoff.throttled();
            }
            Ok((_, false)) => {
                self.throttled = false;
                self.backoff.succeeded();
            }
            Err(_) => {}
        }
        self.next_at = Some(Instant::now() + self.backoff.interval());
        // Throttling is reported through the mode, with whatever the groups read
        // before it; an outage is reported as an error and the cursors stay put.
        result.map(|(events, _)| events)
    }

    /// One poll of every group: the new events, and whether the round was cut
    /// short by throttling (asking the remaining groups would only be throttled
    /// too; they are read first next round).
    async fn round(&mut self) -> Result<(Vec<LogEvent>, bool)> {
        let mut out = Vec::new();
        let mut throttled_at = None;
        for (i, c) in self.cursors.iter_mut().enumerate() {
            match logs::filter(
                &self.client,
                &self.env,
                c.source,
                Some(c.since_ms),
                None,
                None,
            )
            .await
            {
                Ok(Some(events)) => out.extend(c.take_new(events)),
                Ok(None) => {}
                Err(BackendError::Throttled { .. }) => {
                    throttled_at = Some(i);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(i) = throttled_at {
            // The throttled group goes first next round, so no group starves.
            self.cursors.rotate_left(i);
        }
        logs::sort_events(&mut out);
        Ok((out, throttled_at.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, ms: i64) -> LogEvent {
        LogEvent {
            id: id.into(),
            timestamp: time::from_millis(ms).unwrap(),
            source: LogSource::App,
            stream: "i-1".into(),
            message: id.into(),
            severity: Severity::Info,
        }
    }

    fn cursor(since_ms: i64) -> Cursor {
        Cursor {
            source: LogSource::App,
            since_ms,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
        }
    }

    #[test]
    fn polling_resumes_at_the_boundary_without_repeats() {
        let mut c = cursor(1000);
        let first = c.take_new(vec![ev("a", 1000), ev("b", 1500), ev("c", 1500)]);
        assert_eq!(
            first.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(c.since_ms, 1500);
        // The next poll starts at 1500 inclusive: b and c come back, d is new.
        let second = c.take_new(vec![
            ev("b", 1500),
            ev("c", 1500),
            ev("d", 1500),
            ev("e", 1600),
        ]);
        assert_eq!(
            second.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["d", "e"]
        );
        assert_eq!(c.since_ms, 1600);
        assert!(c.take_new(vec![ev("e", 1600)]).is_empty());
        // Something older than the resume point (a late ingestion) is not replayed.
        assert!(c.take_new(vec![ev("old", 900)]).is_empty());
    }

    #[test]
    fn the_boundary_set_is_bounded() {
        let mut c = cursor(0);
        let burst: Vec<LogEvent> = (0..BOUNDARY_IDS + 5)
            .map(|i| ev(&i.to_string(), 0))
            .collect();
        assert_eq!(c.take_new(burst).len(), BOUNDARY_IDS + 5);
        assert_eq!(c.seen.len(), BOUNDARY_IDS);
        assert_eq!(c.seen_order.len(), BOUNDARY_IDS);
    }
}
