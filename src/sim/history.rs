//! A new world: the environment as it stood a week before `start`, then that
//! week simulated, with the deployments an ordinary week brings (one of them a
//! faulty build the alarms rolled back).

use rand::RngExt;

use super::clock::{DAY, HOUR, MINUTE, Ms, TICK, floor};
use super::deployments::{Delivery, Revision};
use super::logs::WINDOW;
use super::names;
use super::random::{Purpose, rng};
use super::world::World;

pub const HISTORY: Ms = 7 * DAY;
/// Who deploys during the history.
const PIPELINE: &str = "github-actions (notejam-demo-deployer)";

struct Scripted {
    at: Ms,
    revision: usize,
    faulty: bool,
}

/// Builds the world of `seed` whose "now" is `start`.
pub fn build(seed: u64, start: Ms) -> World {
    let start = floor(start, TICK);
    let t0 = start - HISTORY;
    let day = floor(start, DAY);
    let mut r = rng(seed, Purpose::History, 1, 0);
    let mut at = |days_back: i64, hour: i64| {
        day - days_back * DAY + hour * HOUR + r.random_range(0..50) * MINUTE
    };
    // Newest first: r5 uploaded yesterday evening and never deployed; r4 live.
    let created = [
        day - 20 * DAY + 11 * HOUR,
        at(6, 9),
        at(4, 14),
        at(3, 10),
        at(1, 9),
        at(1, 20),
    ];
    let revisions: Vec<Revision> = created
        .iter()
        .enumerate()
        .rev()
        .map(|(k, &c)| Revision {
            name: names::revision_name(seed, k as u64),
            created: c,
            size: 4_200_000 + rng(seed, Purpose::History, k as i64, 2).random_range(0..900_000),
        })
        .collect();
    let name = |k: usize| names::revision_name(seed, k as u64);
    let script = [
        Scripted {
            at: at(6, 10),
            revision: 1,
            faulty: false,
        },
        Scripted {
            at: at(4, 15),
            revision: 2,
            faulty: true,
        },
        Scripted {
            at: at(3, 11),
            revision: 3,
            faulty: false,
        },
        Scripted {
            at: at(1, 10),
            revision: 4,
            faulty: false,
        },
    ];
    let mut world = World::new(seed, start, t0, Delivery::new(revisions, &name(0)));
    let log_from = start - WINDOW;
    for s in script {
        world.step_with_logs_from(s.at, log_from);
        world.delivery.next_fault = if s.faulty {
            super::deployments::Fault::Faulty
        } else {
            super::deployments::Fault::None
        };
        let revision = name(s.revision);
        let description = format!("Deploy {revision} from main");
        // A scripted deployment finds the group idle: the previous one ended days ago.
        let _ = world.create_deployment_as(s.at, &revision, &description, PIPELINE);
    }
    world.step_with_logs_from(start, log_from);
    world
}
