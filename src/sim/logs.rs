//! The environment's log groups: a bounded ring of recent events, kept in time
//! order, stored compactly (an access line is a handful of fields, rendered to the
//! app's JSON only when read).
//!
//! Event ids are a pure function of the event (the tick it belongs to and its
//! place in that tick), so a world stepped by two processes, or reloaded from its
//! file, gives every event the same id.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::clock::{HOUR, Ms, TICK, to_ts};
use crate::domain::{LogEvent, LogQuery, LogSource, Severity};

/// Events older than this are dropped...
pub const WINDOW: Ms = 3 * HOUR;
/// ...and never more than this many are kept.
pub const CAP: usize = 12_000;

/// Sequence numbers are `tick * SEQ_SPAN + n`; events of commands (audit records,
/// an operator's scaling) take `n` from `COMMAND_BASE` up, those the tick
/// generates from zero.
const SEQ_SPAN: u64 = 100_000;
const COMMAND_BASE: u32 = 50_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rec {
    #[serde(rename = "q")]
    pub seq: u64,
    #[serde(rename = "t")]
    pub t: Ms,
    #[serde(rename = "s")]
    pub source: LogSource,
    #[serde(rename = "i")]
    pub stream: String,
    #[serde(rename = "b")]
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// The app's access line (`notejam::access`).
    #[serde(rename = "a")]
    Access(Access),
    /// The app's error line for a failed request.
    #[serde(rename = "e")]
    AppError { r: u64, k: AppErrorKind },
    #[serde(rename = "x")]
    Text { v: Severity, m: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppErrorKind {
    /// The faulty revision chaos injects.
    #[serde(rename = "f")]
    Faulty,
    /// Overload: requests wait for a database connection and give up.
    #[serde(rename = "p")]
    PoolTimeout,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Access {
    pub m: Method,
    pub p: String,
    pub s: u16,
    /// Latency in tenths of a millisecond.
    pub l: u32,
    /// Request id.
    pub r: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    #[serde(rename = "G")]
    Get,
    #[serde(rename = "P")]
    Post,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

fn request_id(r: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // Knuth's MMIX LCG spreads one stored number over the app's 24-character token.
    let mut x = r;
    (0..24)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[((x >> 33) % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A float as serde_json writes it: always with a fractional part.
fn json_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

fn micros(t: Ms) -> String {
    to_ts(t).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Rec {
    pub fn severity(&self) -> Severity {
        match &self.body {
            Body::Access(_) => Severity::Info,
            Body::AppError { .. } => Severity::Error,
            Body::Text { v, .. } => *v,
        }
    }

    /// The line as the log group holds it: the app's lines in its JSON format
    /// (tracing's JSON layer, flattened), written directly rather than through a
    /// JSON value because a query may render thousands of them.
    pub fn message(&self) -> String {
        match &self.body {
            Body::Access(a) => format!(
                r#"{{"timestamp":"{}","level":"INFO","message":"request","method":"{}","path":{},"status":{},"latency_ms":{},"target":"notejam::access","span":{{"request_id":"{}","name":"request"}}}}"#,
                micros(self.t),
                a.m.as_str(),
                json_string(&a.p),
                a.s,
                json_number(f64::from(a.l) / 10.0),
                request_id(a.r)
            ),
            Body::AppError { r, k } => {
                let (target, message) = match k {
                    AppErrorKind::Faulty => (
                        "notejam::web",
                        "rendering the page failed: template 'notes/list.html' references unknown field 'pad_title'",
                    ),
                    AppErrorKind::PoolTimeout => (
                        "notejam::db",
                        "database query failed: pool timed out while waiting for an open connection",
                    ),
                };
                format!(
                    r#"{{"timestamp":"{}","level":"ERROR","message":{},"target":"{target}","span":{{"request_id":"{}","name":"request"}}}}"#,
                    micros(self.t),
                    json_string(message),
                    request_id(*r)
                )
            }
            Body::Text { m, .. } => m.clone(),
        }
    }

    pub fn to_event(&self) -> LogEvent {
        LogEvent {
            id: format!("{:020}", self.seq),
            timestamp: to_ts(self.t),
            source: self.source,
            stream: self.stream.clone(),
            message: self.message(),
            severity: self.severity(),
        }
    }

    fn key(&self) -> (Ms, u64) {
        (self.t, self.seq)
    }
}

/// Collects the events of one tick or one command, numbering them.
pub struct Emit {
    /// Events before this instant are not made at all: they would be dropped
    /// from the ring anyway (see `World::step_to`).
    from: Ms,
    tick: u64,
    next: u32,
    pub out: Vec<Rec>,
}

impl Emit {
    pub fn for_tick(t0: Ms, from: Ms) -> Emit {
        Emit {
            from,
            tick: (t0 / TICK) as u64,
            next: 0,
            out: Vec::new(),
        }
    }

    /// For a command at `t`; `used` is how many command events that tick already
    /// holds (see [`CommandSeq`]).
    pub fn for_command(t: Ms, used: u32) -> Emit {
        Emit {
            from: Ms::MIN,
            tick: (t / TICK) as u64,
            next: COMMAND_BASE + used,
            out: Vec::new(),
        }
    }

    pub fn wants(&self, t: Ms) -> bool {
        t >= self.from
    }

    pub fn push(&mut self, t: Ms, source: LogSource, stream: &str, body: Body) {
        if !self.wants(t) {
            return;
        }
        let limit = if self.next >= COMMAND_BASE {
            SEQ_SPAN as u32
        } else {
            COMMAND_BASE
        };
        if self.next >= limit {
            return;
        }
        self.out.push(Rec {
            seq: self.tick * SEQ_SPAN + u64::from(self.next),
            t,
            source,
            stream: stream.to_string(),
            body,
        });
        self.next += 1;
    }

    pub fn text(
        &mut self,
        t: Ms,
        source: LogSource,
        stream: &str,
        severity: Severity,
        message: impl FnOnce() -> String,
    ) {
        if self.wants(t) {
            self.push(
                t,
                source,
                stream,
                Body::Text {
                    v: severity,
                    m: message(),
                },
            );
        }
    }

    pub fn info(
        &mut self,
        t: Ms,
        source: LogSource,
        stream: &str,
        message: impl FnOnce() -> String,
    ) {
        self.text(t, source, stream, Severity::Info, message);
    }
}

/// How many command events the latest command tick holds, so that the numbers
/// of two commands in one tick never collide.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandSeq {
    pub tick: u64,
    pub used: u32,
}

impl CommandSeq {
    pub fn emit(&self, t: Ms) -> Emit {
        let tick = (t / TICK) as u64;
        Emit::for_command(t, if tick == self.tick { self.used } else { 0 })
    }

    pub fn record(&mut self, emit: &Emit) {
        self.tick = emit.tick;
        self.used = emit.next.saturating_sub(COMMAND_BASE);
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogRing {
    pub events: VecDeque<Rec>,
}

impl LogRing {
    /// Adds events in time order and drops what fell out of the window or the cap.
    pub fn absorb(&mut self, mut new: Vec<Rec>, now: Ms) {
        new.sort_by_key(Rec::key);
        for r in new {
            let key = r.key();
            if self.events.back().is_none_or(|b| b.key() < key) {
                self.events.push_back(r);
            } else {
                let pos = self.events.partition_point(|e| e.key() < key);
                if self.events.get(pos).is_some_and(|e| e.key() == key) {
                    continue;
                }
                self.events.insert(pos, r);
            }
        }
        self.trim(now);
    }

    pub fn trim(&mut self, now: Ms) {
        while self.events.front().is_some_and(|e| e.t < now - WINDOW) {
            self.events.pop_front();
        }
        while self.events.len() > CAP {
            self.events.pop_front();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Events with `from <= t < to`, oldest first.
    pub fn between(&self, from: Ms, to: Ms) -> impl Iterator<Item = &Rec> {
        let start = self.events.partition_point(|e| e.t < from);
        self.events.range(start..).take_while(move |e| e.t < to)
    }

    /// Answers a history query: every field narrows it; `limit` keeps the newest.
    pub fn query(&self, q: &LogQuery) -> Vec<LogEvent> {
        let from = q.since.map_or(Ms::MIN, super::clock::from_ts);
        let to = q.until.map_or(Ms::MAX, super::clock::from_ts);
        let mut out: Vec<LogEvent> = Vec::new();
        let limit = q.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return out;
        }
        // Newest first, so a limit stops early; reversed at the end.
        let start = self.events.partition_point(|e| e.t < from);
        for r in self.events.range(start..).rev() {
            if r.t >= to || !q.wants(r.source) {
                continue;
            }
            let e = r.to_event();
            if q.filter.as_deref().is_some_and(|f| !e.message.contains(f)) {
                continue;
            }
            out.push(e);
            if out.len() >= limit {
                break;
            }
        }
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(seq_n: u32, t: Ms, source: LogSource, m: &str) -> Rec {
        let mut e = Emit::for_tick(t - t % TICK, Ms::MIN);
        e.next = seq_n;
        e.text(t, source, "s", Severity::Info, || m.to_string());
        e.out.pop().unwrap()
    }

    #[test]
    fn the_ring_keeps_time_order_and_drops_duplicates() {
        let mut ring = LogRing::default();
        ring.absorb(vec![text(0, 20_000, LogSource::App, "b")], 20_000);
        ring.absorb(
            vec![
                text(1, 30_000, LogSource::App, "c"),
                text(0, 10_000, LogSource::System, "a"),
            ],
            30_000,
        );
        ring.absorb(vec![text(0, 20_000, LogSource::App, "b")], 30_000);
        let times: Vec<Ms> = ring.events.iter().map(|e| e.t).collect();
        assert_eq!(times, [10_000, 20_000, 30_000]);
        assert_eq!(ring.between(10_001, 30_000).count(), 1);
    }

    #[test]
    fn the_ring_is_bounded_by_age_and_count() {
        let mut ring = LogRing::default();
        let mut batch = Vec::new();
        for i in 0..(CAP as Ms + 50) {
            batch.push(text(0, WINDOW + i * TICK, LogSource::App, "x"));
        }
        let now = WINDOW + (CAP as Ms + 50) * TICK;
        ring.absorb(batch, now);
        assert!(ring.len() <= CAP);
        assert!(ring.events.iter().all(|e| e.t >= now - WINDOW));
    }

    #[test]
    fn queries_honour_every_field() {
        let mut ring = LogRing::default();
        ring.absorb(
            (0..10)
                .map(|i| {
                    let source = if i % 2 == 0 {
                        LogSource::App
                    } else {
                        LogSource::System
                    };
                    text(0, (i + 1) * TICK, source, &format!("line {i}"))
                })
                .collect(),
            11 * TICK,
        );
        let all = ring.query(&LogQuery::default());
        assert_eq!(all.len(), 10);
        assert!(all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        let q = LogQuery {
            since: Some(to_ts(3 * TICK)),
            until: Some(to_ts(9 * TICK)),
            sources: vec![LogSource::App],
            filter: None,
            limit: Some(2),
        };
        let got: Vec<String> = ring.query(&q).into_iter().map(|e| e.message).collect();
        assert_eq!(got, ["line 4", "line 6"]);
        let q = LogQuery {
            filter: Some("line 3".into()),
            ..LogQuery::default()
        };
        assert_eq!(ring.query(&q).len(), 1);
        assert!(
            ring.query(&LogQuery {
                limit: Some(0),
                ..LogQuery::default()
            })
            .is_empty()
        );
    }

    #[test]
    fn access_lines_render_as_the_apps_json() {
        let rec = Rec {
            seq: 1,
            t: 1_763_942_400_123,
            source: LogSource::App,
            stream: "i-0abc".into(),
            body: Body::Access(Access {
                m: Method::Post,
                p: "/notes/create/".into(),
                s: 303,
                l: 234,
                r: 99,
            }),
        };
        let e = rec.to_event();
        let v: serde_json::Value = serde_json::from_str(&e.message).unwrap();
        assert_eq!(v["method"], "POST");
        assert_eq!(v["status"], 303);
        assert_eq!(v["latency_ms"], 23.4);
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["span"]["request_id"].as_str().unwrap().len(), 24);
        assert_eq!(v["timestamp"], "2025-11-24T00:00:00.123000Z");
        assert_eq!(Severity::detect(&e.message), Severity::Info);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 9, "{keys:?}");
        assert_eq!(json_number(30000.0), "30000.0");
        assert_eq!(json_number(23.4), "23.4");
        let err = Rec {
            body: Body::AppError {
                r: 99,
                k: AppErrorKind::Faulty,
            },
            ..rec
        };
        assert_eq!(Severity::detect(&err.message()), Severity::Error);
        let v: serde_json::Value = serde_json::from_str(&err.message()).unwrap();
        assert_eq!(v["span"]["request_id"], serde_json::json!(request_id(99)));
        assert_eq!(err.severity(), Severity::Error);
    }

    #[test]
    fn command_numbers_never_collide_within_a_tick() {
        let mut seq = CommandSeq::default();
        let mut a = seq.emit(15_000);
        a.info(15_000, LogSource::Audit, "x", || "1".into());
        seq.record(&a);
        let mut b = seq.emit(16_000);
        b.info(16_000, LogSource::Audit, "x", || "2".into());
        seq.record(&b);
        assert_ne!(a.out[0].seq, b.out[0].seq);
        let tick = Emit::for_tick(10_000, Ms::MIN);
        assert_eq!(tick.tick, a.tick);
    }
}
