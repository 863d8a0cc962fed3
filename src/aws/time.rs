//! Conversions between the SDK's timestamps and the model's.

use aws_smithy_types::DateTime as SdkTime;
use chrono::{DateTime, Utc};

use crate::domain::Timestamp;

pub(crate) fn from_sdk(t: &SdkTime) -> Option<Timestamp> {
    DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos())
}

pub(crate) fn opt(t: Option<&SdkTime>) -> Option<Timestamp> {
    t.and_then(from_sdk)
}

pub(crate) fn to_sdk(t: Timestamp) -> SdkTime {
    SdkTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos())
}

pub(crate) fn from_millis(ms: i64) -> Option<Timestamp> {
    DateTime::<Utc>::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_subseconds() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T10:20:30.123Z")
            .unwrap()
            .to_utc();
        assert_eq!(from_sdk(&to_sdk(t)), Some(t));
        assert_eq!(from_millis(t.timestamp_millis()), Some(t));
    }
}
