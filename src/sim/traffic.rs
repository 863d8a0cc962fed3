//! Requests arriving at the load balancer: a daily curve (quiet at night, busiest
//! early afternoon UTC), a weekend dip, a slow random wander, per-tick noise, and
//! the chaos load spike.

use std::f64::consts::TAU;

use serde::{Deserialize, Serialize};

use super::clock::{DAY, HOUR, MINUTE, Ms, TICK};
use super::random::{Purpose, unit};

/// Peak requests per minute on a weekday, before wander; the seed picks a value
/// in this range.
pub const PEAK_RPM: (f64, f64) = (2200.0, 2600.0);
/// The night trough as a share of the peak.
pub const NIGHT_SHARE: f64 = 0.35;
/// Hour (UTC) of the daily peak; the trough is twelve hours away.
pub const PEAK_HOUR: f64 = 14.0;
/// Saturday and Sunday traffic as a share of a weekday's.
pub const WEEKEND_SHARE: f64 = 0.7;
/// The hourly wander stays within ±12 %.
pub const WANDER: f64 = 0.12;
/// Per-tick noise, ±6 %.
pub const NOISE: f64 = 0.06;
/// The chaos load spike multiplies traffic by this much...
pub const SPIKE_FACTOR: f64 = 4.0;
/// ...for this long.
pub const SPIKE_DURATION: Ms = 30 * MINUTE;

/// What shapes traffic beyond the clock: the spike and a test-only scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrafficState {
    /// The load spike lasts until this instant.
    pub spike_until: Option<Ms>,
    /// Traffic multiplier in thousandths (1000 = as modelled); an integer so the
    /// stored world round-trips exactly.
    pub scale_permille: u32,
}

impl Default for TrafficState {
    fn default() -> Self {
        TrafficState {
            spike_until: None,
            scale_permille: 1000,
        }
    }
}

impl TrafficState {
    pub fn spiking(&self, t: Ms) -> bool {
        self.spike_until.is_some_and(|until| t < until)
    }

    /// Requests arriving during the tick starting at `t`.
    pub fn tick_requests(&self, seed: u64, t: Ms) -> u32 {
        let mut rpm = base_rpm(seed, t + TICK / 2) * f64::from(self.scale_permille) / 1000.0;
        if self.spiking(t) {
            rpm *= SPIKE_FACTOR;
        }
        let noise = 1.0 + (unit(seed, Purpose::Traffic, t / TICK, 0) - 0.5) * 2.0 * NOISE;
        (rpm * (TICK as f64 / MINUTE as f64) * noise)
            .round()
            .max(0.0) as u32
    }
}

pub fn peak_rpm(seed: u64) -> f64 {
    PEAK_RPM.0 + (PEAK_RPM.1 - PEAK_RPM.0) * unit(seed, Purpose::Traffic, -1, 0)
}

/// Monday is 0; 1970-01-01 was a Thursday.
pub fn weekday(t: Ms) -> i64 {
    (t.div_euclid(DAY) + 3).rem_euclid(7)
}

/// The modelled requests per minute at `t`, without noise or spike.
pub fn base_rpm(seed: u64, t: Ms) -> f64 {
    let hour = t.rem_euclid(DAY) as f64 / HOUR as f64;
    let phase = (hour - (PEAK_HOUR - 12.0)) / 24.0 * TAU;
    let bump = ((1.0 - phase.cos()) / 2.0).powf(1.5);
    let daily = NIGHT_SHARE + (1.0 - NIGHT_SHARE) * bump;
    let weekly = if weekday(t) >= 5 { WEEKEND_SHARE } else { 1.0 };
    peak_rpm(seed) * daily * weekly * wander(seed, t)
}

/// A smooth factor around 1: one random value per hour, interpolated.
fn wander(seed: u64, t: Ms) -> f64 {
    let h = t.div_euclid(HOUR);
    let frac = t.rem_euclid(HOUR) as f64 / HOUR as f64;
    let at = |h: i64| 1.0 + (unit(seed, Purpose::Wander, h, 0) - 0.5) * 2.0 * WANDER;
    let (a, b) = (at(h), at(h + 1));
    a + (b - a) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY: Ms = 1_763_942_400_000; // 2025-11-24T00:00:00Z

    #[test]
    fn days_are_busier_than_nights_and_weekdays_than_weekends() {
        assert_eq!(weekday(MONDAY), 0);
        let at = |day: i64, hour: i64| base_rpm(7, MONDAY + day * DAY + hour * HOUR);
        for day in 0..7 {
            assert!(at(day, 14) > 2.0 * at(day, 2), "day {day}");
        }
        let weekday_noon: f64 = (0..5).map(|d| at(d, 13)).sum::<f64>() / 5.0;
        let weekend_noon = (at(5, 13) + at(6, 13)) / 2.0;
        assert!(weekend_noon < 0.85 * weekday_noon);
    }

    #[test]
    fn the_spike_multiplies_and_ends() {
        let t = MONDAY + 10 * HOUR;
        let mut s = TrafficState::default();
        let calm = s.tick_requests(7, t);
        s.spike_until = Some(t + SPIKE_DURATION);
        let spiked = s.tick_requests(7, t);
        assert!(
            (i64::from(spiked) - 4 * i64::from(calm)).abs() <= 3,
            "{calm} -> {spiked}"
        );
        assert_eq!(s.tick_requests(7, t + SPIKE_DURATION), {
            let s = TrafficState::default();
            s.tick_requests(7, t + SPIKE_DURATION)
        });
    }
}
