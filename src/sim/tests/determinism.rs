use super::*;
use crate::domain::{Capacity, ChaosKind, Tier};
use crate::sim::clock::{HOUR, from_ts};
use crate::sim::history;
use crate::sim::world::World;

#[tokio::test]
async fn the_same_seed_gives_the_same_world_and_another_seed_another() {
    let (a, b, c) = (sim(7, AFTERNOON), sim(7, AFTERNOON), sim(8, AFTERNOON));
    for s in [&a, &b, &c] {
        s.chaos(ChaosKind::LoadSpike).await.unwrap();
        s.advance(minutes(180));
    }
    let (fa, fb, fc) = (
        fingerprint(&a).await,
        fingerprint(&b).await,
        fingerprint(&c).await,
    );
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
    // Not just ids: the traffic differs too.
    let reqs = |s: &SimBackend| {
        s.with_world(|w, _| {
            w.metrics.minutes[0]
                .iter()
                .map(|v| i64::from(*v))
                .sum::<i64>()
        })
    };
    assert_ne!(reqs(&a), reqs(&c));
}

#[tokio::test]
async fn stepping_in_one_batch_or_many_gives_the_same_world() {
    let (a, b) = (sim(3, AFTERNOON), sim(3, AFTERNOON));
    a.advance(minutes(15));
    a.set_capacity(
        Tier::Web,
        Capacity {
            min: 2,
            desired: 5,
            max: 10,
        },
    )
    .await
    .unwrap();
    a.advance(minutes(185));
    for k in 0..40 {
        if k == 3 {
            b.set_capacity(
                Tier::Web,
                Capacity {
                    min: 2,
                    desired: 5,
                    max: 10,
                },
            )
            .await
            .unwrap();
        }
        b.advance(minutes(5));
        // Reads in between step the model too.
        let _ = b.topology().await.unwrap();
    }
    assert_eq!(a.now(), b.now());
    assert_eq!(fingerprint(&a).await, fingerprint(&b).await);
    let world = |s: &SimBackend| s.with_world(|w, _| serde_json::to_string(w).unwrap());
    assert_eq!(world(&a), world(&b));
}

#[test]
fn a_stored_world_continues_exactly_as_the_one_in_memory() {
    let start = from_ts(at(AFTERNOON));
    let mut kept = history::build(5, start);
    let stored: World = serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
    let mut reloaded = stored;
    kept.step_to(start + 2 * HOUR);
    reloaded.step_to(start + 2 * HOUR);
    assert_eq!(
        serde_json::to_string(&kept).unwrap(),
        serde_json::to_string(&reloaded).unwrap()
    );
}
