//! The virtual clock. The model advances in fixed ticks of virtual time; the
//! virtual "now" follows the wall clock at `speed` from an anchor stored with the
//! world, so every process that opens the world agrees on what time it is.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;

/// Virtual time in milliseconds since the Unix epoch.
pub type Ms = i64;

pub const SECOND: Ms = 1_000;
pub const MINUTE: Ms = 60 * SECOND;
pub const HOUR: Ms = 60 * MINUTE;
pub const DAY: Ms = 24 * HOUR;
/// One model step. Ten seconds resolves the ALB health checks (15 s interval) and
/// deployment hooks well; anything with a precise instant (a hook's end, a boot)
/// is scheduled at that instant inside the tick.
pub const TICK: Ms = 10 * SECOND;

/// The fastest clock accepted: ten thousand virtual seconds per wall second.
pub const MAX_SPEED: f64 = 10_000.0;

pub fn to_ts(ms: Ms) -> Timestamp {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn from_ts(t: Timestamp) -> Ms {
    t.timestamp_millis()
}

pub fn floor(ms: Ms, unit: Ms) -> Ms {
    ms.div_euclid(unit) * unit
}

pub fn wall_ms() -> Ms {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Ms)
        .unwrap_or(0)
}

/// Checks a `--speed` value: finite, not negative, at most [`MAX_SPEED`].
pub fn validate_speed(speed: f64) -> Result<f64, String> {
    if speed.is_finite() && (0.0..=MAX_SPEED).contains(&speed) {
        Ok(speed)
    } else {
        Err(format!(
            "invalid speed {speed}: use virtual seconds per wall second from 0 (frozen) to {MAX_SPEED}"
        ))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    /// Virtual time at `anchor_wall`.
    pub anchor_virtual: Ms,
    /// Wall time (Unix ms) the anchor was taken at.
    pub anchor_wall: Ms,
    /// Virtual seconds per wall second; 0 freezes the clock.
    pub speed: f64,
}

impl Clock {
    pub fn new(start: Ms, wall: Ms, speed: f64) -> Clock {
        Clock {
            anchor_virtual: start,
            anchor_wall: wall,
            speed,
        }
    }

    /// The virtual time at wall time `wall`; a wall clock that went backwards
    /// holds the virtual clock still rather than running it back.
    pub fn now_at(&self, wall: Ms) -> Ms {
        let elapsed = (wall - self.anchor_wall).max(0) as f64;
        self.anchor_virtual + (elapsed * self.speed) as Ms
    }

    /// Re-anchors at `wall` so the change of speed does not move "now".
    pub fn set_speed(&mut self, speed: f64, wall: Ms) {
        self.anchor_virtual = self.now_at(wall);
        self.anchor_wall = wall;
        self.speed = speed;
    }

    pub fn advance(&mut self, by: Ms) {
        self.anchor_virtual += by.max(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_scales_wall_time_and_rebasing_keeps_now() {
        let mut c = Clock::new(1_000_000, 5_000, 2.0);
        assert_eq!(c.now_at(5_000), 1_000_000);
        assert_eq!(c.now_at(6_000), 1_002_000);
        assert_eq!(c.now_at(4_000), 1_000_000, "wall clock going back");
        c.set_speed(0.0, 6_000);
        assert_eq!(c.now_at(60_000), 1_002_000, "frozen");
        c.advance(MINUTE);
        assert_eq!(c.now_at(60_000), 1_062_000);
        c.advance(-MINUTE);
        assert_eq!(c.now_at(60_000), 1_062_000, "never backwards");
    }

    #[test]
    fn speeds_outside_the_range_are_refused_with_the_range() {
        assert_eq!(validate_speed(0.0), Ok(0.0));
        assert_eq!(validate_speed(60.0), Ok(60.0));
        for bad in [-1.0, f64::NAN, f64::INFINITY, 10_001.0] {
            let e = validate_speed(bad).unwrap_err();
            assert!(e.contains("from 0 (frozen) to 10000"), "{e}");
        }
    }
}
