//! The embedded simulated environment behind `--env demo`: a deterministic model
//! of the whole architecture of design section 2, behind the same
//! [`crate::backend::Backend`] seam as AWS.
//!
//! # Clock and determinism
//!
//! Virtual time runs at `speed` virtual seconds per wall second from an anchor
//! stored with the world (`now = anchor_virtual + (wall - anchor_wall) × speed`,
//! speed 0 to 10 000, 0 freezing it). Every call first steps the model to now in
//! ticks of 10 virtual seconds; instants inside a tick (a boot, a hook's end)
//! are kept exactly. A new world starts with one week of history simulated. The
//! world at virtual time T is a pure function of the seed, the start and the
//! commands with their virtual times: randomness is counter-based (each draw
//! keyed by seed, purpose and tick or object number), and state that feeds a
//! decision is stored as integers, so two processes stepping the same stored
//! world in different batches agree byte for byte. A world left alone more than
//! 8 virtual days sleeps through the excess an hour at a time (backups, retention
//! and replacements go on; no metrics or logs are made for it).
//!
//! # Parameters
//!
//! | part | model |
//! | --- | --- |
//! | traffic | weekday peak 2 200–2 600 requests/min (by seed) at 14:00 UTC, trough 35 % of it at 02:00; weekends × 0.7; hourly wander ±12 %, tick noise ±6 %; chaos load spike × 4 for 30 minutes |
//! | web tier | ASG `notejam-demo-web`, t3.small, min 2 / desired 2 / max 10 (at most 20), over eu-west-1a/b/c; boot 60–100 s (Pending), app ready 25–45 s later (health unknown until then, within the 300 s grace period); capacity 1 600 requests/min per instance at 100 % CPU |
//! | CPU, latency | CPU = 3 % + 95 % × utilisation ± 2; p50 = 20 ms × (1 + 0.15 ρ⁴/(1−ρ)), p99 = 110 ms × (1 + 0.25 ρ⁶/(1−ρ)): flat to 75 %, 256 ms at 90 %, 1.3 s at 98 %, the 60 s ALB timeout beyond |
//! | 5xx | 0.02 % background; the excess over capacity when overloaded; every request a dead target gets until the ALB marks it unhealthy (3 checks × 15 s); half the requests of a faulty revision |
//! | scaling | target tracking on average web CPU, target 50 %: out after 3 minutes above (to ⌈n × cpu / 50⌉, 3 min warm-up), in after 15 minutes below 45 % (one instance per 5 minutes); replacement of failed instances (15–45 s to notice, 30 s deregistration, 15–40 s shutdown); a random hardware failure about once a fortnight per instance |
//! | bastion | ASG of one t3.micro; CPU 0.3–0.9 %, a few % during an SSH session (about one hour in five) |
//! | database | `notejam-demo`, PostgreSQL 17.5, db.t4g.medium, Multi-AZ, 20 GiB; connections = 6 per web instance + 0.25 per request/s; CPU = 4 % + 0.35 % per request/s (+6 % during a snapshot); grows 54 bytes per served request |
//! | deployments | CodeDeploy `notejam`, groups `demo-canary` (the one web instance tagged `Canary=true`, `CodeDeployDefault.AllAtOnce`) and `demo` (the others, `CodeDeployDefault.OneAtATime`), in place, 13 lifecycle hooks (BlockTraffic 60–120 s, AllowTraffic 75–150 s, ValidateService 20–45 s, the others seconds): 3–6 minutes per instance; a release is canary → bake → fleet → bake, each bake 5 virtual minutes (prod's 10, staging's 2) watching the `p99-latency` and `5xx-rate` alarms; an alarm during a deployment stops it (CodeDeploy's auto-rollback of its group), one during a bake rolls back the canary and, if reached, the fleet; every rollback is created with the alarm monitoring off; chaos `bad-revision` fails half the requests of the instances it is deployed to (the canary's bake catches it), `bad-at-scale` once the whole fleet runs it (the fleet's bake does) |
//! | alarms | as `provision/modules/observability`: p99 latency > 1 s (3 of 3 min), 5xx rate > 5 % (3 of 3 min, at least 20 requests), unhealthy hosts > 0 (3 of 3 min), web CPU > 80 % (2 of 2 × 5 min), DB CPU > 80 % (3 × 5 min), DB free storage < 10 % (5 min), DB connections > 80 (2 × 5 min), backup job failed (1 h), no completed backup job for 26 h |
//! | backups | RDS automated snapshots daily in 02:00–03:00 UTC (4–9 min, kept 7 days); AWS Backup plan `notejam-demo-daily` at 05:00 + up to 45 min (8–20 min, kept 35 days) and monthly on the 1st (kept a year); manual snapshots 3–6 min; on-demand jobs 6–15 min; PITR 5 minutes behind; restores 10–16 min creating then 3–6 min backing-up |
//! | logs | ring of the last 3 hours, at most 12 000 events; one access line per 50 requests and one per 10 failed ones (with the app's error line); system, CodeDeploy agent, PostgreSQL and audit lines |
//! | metrics | 1-minute resolution for 7 days + 2 hours, then hourly roll-ups for 35 days; sums for requests and 5xx, averages for CPU, connections and healthy hosts, request-weighted p50, worst-minute p99, minimum free storage |
//!
//! # Persistence
//!
//! The world is stored as JSON (`{"format":"njtui-sim-world","version":2,...}`)
//! under the XDG state directory, written atomically under an advisory lock; a
//! corrupt or incompatible file is refused with a message suggesting `--reset`.

mod alarms;
mod backend;
mod backups;
#[cfg(test)]
mod benchmark;
mod chaos;
mod clock;
mod deployments;
mod fleet;
mod follow;
mod history;
mod logs;
mod metrics;
mod names;
mod persistence;
mod provisioning;
mod random;
mod service;
mod traffic;
mod traffic_logs;
mod world;

#[cfg(test)]
pub(crate) mod tests;

pub use backend::{SimBackend, SimOptions, default_state_file};
