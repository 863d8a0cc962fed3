//! Faults injected for a demo. Each returns a one-line account of what it did;
//! the rest is the model reacting as AWS would.

use super::clock::{Ms, to_ts};
use super::deployments::Fault;
use super::logs::Emit;
use super::traffic::{SPIKE_DURATION, SPIKE_FACTOR};
use super::world::World;
use crate::backend::BackendError;
use crate::domain::{ChaosKind, LogSource, Severity};

const STREAM: &str = "chaos";

pub fn inject(
    w: &mut World,
    now: Ms,
    kind: ChaosKind,
    ev: &mut Emit,
) -> Result<String, BackendError> {
    let message = match kind {
        ChaosKind::LoadSpike => {
            let until = now + SPIKE_DURATION;
            w.traffic.spike_until = Some(until);
            format!(
                "traffic x{SPIKE_FACTOR} until {} ({} virtual minutes): target tracking should scale the web group out, then back in",
                to_ts(until).format("%H:%M UTC"),
                SPIKE_DURATION / 60_000
            )
        }
        ChaosKind::KillInstance => w.fleet.kill(w.seed, now, ev)?,
        ChaosKind::BadRevision => {
            w.delivery.next_fault = Fault::Faulty;
            "the next deployment ships a faulty build: it passes ValidateService, then fails half its requests with HTTP 500 once the canary runs it, until the 5xx-rate alarm fails the canary's bake and the canary is rolled back".to_string()
        }
        ChaosKind::BadAtScale => {
            w.delivery.next_fault = Fault::AtScale;
            "the next deployment ships a build that fails only at scale: the canary bakes clean, then half the requests fail with HTTP 500 once the whole fleet runs it, until the 5xx-rate alarm fails the fleet's bake and the canary and the fleet are rolled back".to_string()
        }
    };
    ev.text(now, LogSource::System, STREAM, Severity::Warn, || {
        format!("chaos {}: {message}", kind.as_str())
    });
    Ok(message)
}
