//! Timeouts and backoff.
//!
//! Request retries are the SDK's: the retry mode and attempt count come from the
//! standard chain (`AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS`, the profile's
//! `retry_mode`/`max_attempts`) and default to standard mode with 3 attempts;
//! `adaptive` adds client-side rate limiting. What is set here are the timeouts, so
//! a dead endpoint fails within seconds instead of hanging the console, and the
//! backoff of the log follower's polling loop.

use std::time::Duration;

use aws_smithy_types::timeout::TimeoutConfig;

/// A TCP/TLS connection that is not up after this is a dead endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One attempt of one call; FilterLogEvents scanning a large group is the slowest
/// call we make and AWS cuts its pages at about 5 s on its own.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole call, retries and their backoff included: an endpoint that accepts
/// connections and never answers is reported unreachable after this.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The log follower's polling interval: the base while things go well, doubled on
/// each throttled round up to a ceiling, back to the base after a clean round.
/// FilterLogEvents shares a 5 requests/s account quota with every other reader, so
/// backing off is what keeps the follower from starving the operator's own queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollBackoff {
    base: Duration,
    max: Duration,
    current: Duration,
}

impl PollBackoff {
    pub fn new(base: Duration, max: Duration) -> PollBackoff {
        let max = max.max(base);
        PollBackoff {
            base,
            max,
            current: base,
        }
    }

    pub fn interval(&self) -> Duration {
        self.current
    }

    pub fn is_backing_off(&self) -> bool {
        self.current > self.base
    }

    pub fn throttled(&mut self) {
        self.current = (self.current * 2).min(self.max);
    }

    pub fn succeeded(&mut self) {
        self.current = self.base;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_ceiling_and_resets() {
        let mut b = PollBackoff::new(Duration::from_secs(2), Duration::from_secs(30));
        assert_eq!(b.interval(), Duration::from_secs(2));
        assert!(!b.is_backing_off());
        let seen: Vec<u64> = (0..5)
            .map(|_| {
                b.throttled();
                b.interval().as_secs()
            })
            .collect();
        assert_eq!(seen, [4, 8, 16, 30, 30]);
        assert!(b.is_backing_off());
        b.succeeded();
        assert_eq!(b.interval(), Duration::from_secs(2));
    }
}
