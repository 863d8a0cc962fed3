//! CloudWatch Logs: history with FilterLogEvents, log group ARNs for live tail,
//! and the audit trail.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{FilteredLogEvent, InputLogEvent};
use futures::future::try_join_all;

use super::errors::SdkResultExt;
use super::time;
use crate::backend::{BackendError, Result};
use crate::domain::{AuditRecord, LogEvent, LogQuery, LogSource, Severity, Timestamp};

/// A CloudWatch filter pattern matching `text` as one quoted term. Quoting makes
/// spaces and punctuation part of the term instead of pattern syntax.
pub(crate) fn filter_pattern(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(crate) fn event(source: LogSource, e: &FilteredLogEvent) -> Option<LogEvent> {
    let message = e
        .message()
        .unwrap_or_default()
        .trim_end_matches(['\n', '\r'])
        .to_string();
    Some(LogEvent {
        id: e.event_id()?.to_string(),
        timestamp: time::from_millis(e.timestamp()?)?,
        source,
        stream: e.log_stream_name().unwrap_or_default().to_string(),
        severity: Severity::detect(&message),
        message,
    })
}

/// One FilterLogEvents range read to the end. `start_ms` is inclusive and
/// `end_ms` inclusive too (CloudWatch's convention). A missing group is `None`.
pub(crate) async fn filter(
    client: &Client,
    env: &str,
    source: LogSource,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    pattern: Option<&str>,
) -> Result<Option<Vec<LogEvent>>> {
    let mut out = Vec::new();
    let mut pages = client
        .filter_log_events()
        .log_group_name(source.group_name(env))
        .set_start_time(start_ms)
        .set_end_time(end_ms)
        .set_filter_pattern(pattern.map(str::to_string))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page.aws("logs", "FilterLogEvents") {
            Ok(page) => out.extend(page.events().iter().filter_map(|e| event(source, e))),
            Err(BackendError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(out))
}

/// History of the environment's groups: every wanted group read concurrently and
/// completely, merged oldest first; `limit` keeps the newest. Groups that do not
/// exist (RDS has not exported logs yet) are skipped.
pub(crate) async fn history(client: &Client, env: &str, query: &LogQuery) -> Result<Vec<LogEvent>> {
    let sources: Vec<LogSource> = LogSource::ALL
        .into_iter()
        .filter(|s| query.wants(*s))
        .collect();
    // CloudWatch keeps milliseconds: the window is widened to whole milliseconds
    // (since rounded down, until up) both for the request and the local check.
    let start = query.since.map(|t| t.timestamp_millis());
    let until = query.until.map(ceil_ms);
    let local = LogQuery {
        since: start.and_then(time::from_millis),
        until: until.and_then(time::from_millis),
        ..query.clone()
    };
    // The model's `until` is exclusive, CloudWatch's endTime inclusive.
    let end = until.map(|ms| ms - 1);
    let pattern = query
        .filter
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(filter_pattern);
    let per_group = try_join_all(
        sources
            .iter()
            .map(|s| filter(client, env, *s, start, end, pattern.as_deref())),
    )
    .await?;
    let mut all: Vec<LogEvent> = per_group
        .into_iter()
        .flatten()
        .flatten()
        // The server's term matching is token-based; the model promises a plain
        // substring, so the result is checked here as well.
        .filter(|e| local.matches(e))
        .collect();
    sort_events(&mut all);
    if let Some(limit) = query.limit {
        let drop = all.len().saturating_sub(limit);
        all.drain(..drop);
    }
    Ok(all)
}

fn ceil_ms(t: Timestamp) -> i64 {
    let ms = t.timestamp_millis();
    if t.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        ms
    } else {
        ms + 1
    }
}

/// Oldest first; ties in a stable, source-then-id order so merges are repeatable.
pub(crate) fn sort_events(events: &mut [LogEvent]) {
    events.sort_by(|a, b| (a.timestamp, a.source, &a.id).cmp(&(b.timestamp, b.source, &b.id)));
}

/// ARNs of the groups `sources` name that exist, for StartLiveTail (which takes
/// ARNs, not names), paired with their source.
pub(crate) async fn group_arns(
    client: &Client,
    env: &str,
    sources: &[LogSource],
) -> Result<Vec<(LogSource, String)>> {
    let mut out = Vec::new();
    // Two prefixes cover every group of the contract.
    for prefix in [
        format!("/notejam/{env}/"),
        format!("/aws/rds/instance/notejam-{env}/"),
    ] {
        let mut pages = client
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for g in page.aws("logs", "DescribeLogGroups")?.log_groups() {
                let Some(name) = g.log_group_name() else {
                    continue;
                };
                let Some(source) = LogSource::from_group_name(env, name) else {
                    continue;
                };
                if !sources.contains(&source) || out.iter().any(|(s, _)| *s == source) {
                    continue;
                }
                // `arn` ends in `:*`; StartLiveTail wants the plain group ARN.
                let arn = g
                    .log_group_arn()
                    .map(str::to_string)
                    .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_string()));
                if let Some(arn) = arn {
                    out.push((source, arn));
                }
            }
        }
    }
    Ok(out)
}

/// The audit stream of a day: one stream per day keeps streams few and a day's
/// actions together; the record itself names who acted.
pub(crate) fn audit_stream(time: Timestamp) -> String {
    format!("njtui/{}", time.format("%Y-%m-%d"))
}

pub(crate) async fn put_audit(client: &Client, env: &str, record: &AuditRecord) -> Result<()> {
    let group = LogSource::Audit.group_name(env);
    let stream = audit_stream(record.time);
    let message = serde_json::to_string(record)
        .map_err(|e| BackendError::Other(format!("cannot encode the audit record: {e}")))?;
    let event = InputLogEvent::builder()
        .timestamp(record.time.timestamp_millis())
        .message(message)
        .build()
        .map_err(|e| BackendError::Other(format!("cannot build the audit event: {e}")))?;
    let put = || {
        client
            .put_log_events()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .log_events(event.clone())
            .send()
    };
    match put().await.aws("logs", "PutLogEvents") {
        Err(BackendError::NotFound { .. }) => {}
        other => return other.map(|_| ()),
    }
    // The day's stream does not exist yet (or the group is missing, which
    // CreateLogStream reports precisely).
    match client
        .create_log_stream()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .send()
        .await
        .aws("logs", "CreateLogStream")
    {
        Ok(_) => {}
        Err(BackendError::Api { code, .. }) if code == "ResourceAlreadyExistsException" => {}
        Err(BackendError::NotFound { .. }) => {
            return Err(BackendError::NotFound {
                what: "log group",
                id: group,
                choices: vec![],
            });
        }
        Err(e) => return Err(e),
    }
    put().await.aws("logs", "PutLogEvents").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_text_is_one_quoted_term() {
        assert_eq!(filter_pattern("GET /notes 500"), "\"GET /notes 500\"");
        assert_eq!(filter_pattern(r#"say "hi""#), r#""say \"hi\"""#);
    }

    #[test]
    fn events_without_id_or_time_are_dropped_not_panicked_on() {
        assert!(event(LogSource::App, &FilteredLogEvent::builder().build()).is_none());
        let e = event(
            LogSource::App,
            &FilteredLogEvent::builder()
                .event_id("1")
                .timestamp(1_767_225_600_000)
                .message("ERROR boom\n")
                .build(),
        )
        .unwrap();
        assert_eq!(
            (e.message.as_str(), e.severity, e.stream.as_str()),
            ("ERROR boom", Severity::Error, "")
        );
    }
}
