use std::path::Path;

use super::*;
use crate::domain::{BackupKind, Capacity, Tier};

fn on_file(path: &Path, seed: Option<u64>) -> anyhow::Result<SimBackend> {
    SimBackend::open(SimOptions {
        state_file: Some(path.to_path_buf()),
        seed,
        speed: Some(0.0),
        reset: false,
        start: Some(at(AFTERNOON)),
    })
}

#[tokio::test]
async fn a_world_survives_being_closed_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("world.json");
    let before = {
        let s = on_file(&path, Some(9)).unwrap();
        s.set_capacity(
            Tier::Web,
            Capacity {
                min: 5,
                desired: 5,
                max: 10,
            },
        )
        .await
        .unwrap();
        s.advance(minutes(30));
        fingerprint(&s).await
    };
    assert!(
        std::fs::metadata(&path).unwrap().len() < 4_000_000,
        "a few MB at most"
    );
    let s = SimBackend::open(SimOptions {
        state_file: Some(path.clone()),
        ..SimOptions::default()
    })
    .unwrap();
    assert_eq!(s.speed(), 0.0, "the stored speed is kept");
    assert_eq!(fingerprint(&s).await, before);
    let then = s.now();
    s.advance(minutes(10));
    assert_eq!(s.now() - then, minutes(10));
    assert_eq!(web(&s).await.capacity.desired, 5);
}

#[tokio::test]
async fn two_backends_on_one_file_share_one_world() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    let a = on_file(&path, Some(9)).unwrap();
    let b = on_file(&path, None).unwrap();
    a.set_capacity(
        Tier::Web,
        Capacity {
            min: 2,
            desired: 6,
            max: 10,
        },
    )
    .await
    .unwrap();
    assert_eq!(web(&b).await.capacity.desired, 6);
    let id = b.create_backup(BackupKind::Manual).await.unwrap();
    assert!(
        a.backups()
            .await
            .unwrap()
            .backups
            .iter()
            .any(|x| x.id == id)
    );
    a.advance(minutes(20));
    let topo = b.topology().await.unwrap();
    assert_eq!(topo.observed_at, a.now());
    assert_eq!(fingerprint(&a).await, fingerprint(&b).await);
}

#[test]
fn a_damaged_or_foreign_file_is_refused_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    for (content, expect) in [
        ("{not json", "not a valid world file"),
        (r#"{"format":"njtui-sim-world","version":99}"#, "version 99"),
        (
            r#"{"format":"something-else","version":1}"#,
            "format something-else",
        ),
        ("", "not a valid world file"),
    ] {
        std::fs::write(&path, content).unwrap();
        let e = on_file(&path, None).err().expect("refused").to_string();
        assert!(e.contains(expect), "{e}");
        assert!(
            e.contains("--reset") && e.contains(&path.display().to_string()),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            content,
            "the file is left alone"
        );
    }
    let s = SimBackend::open(SimOptions {
        state_file: Some(path.clone()),
        reset: true,
        speed: Some(0.0),
        start: Some(at(AFTERNOON)),
        ..SimOptions::default()
    })
    .unwrap();
    drop(s);
    on_file(&path, None).expect("a fresh world after --reset");
}

#[test]
fn another_seed_or_start_needs_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    drop(on_file(&path, Some(9)).unwrap());
    let e = on_file(&path, Some(10)).err().unwrap().to_string();
    assert!(
        e.contains("seed 9") && e.contains("--reset") && e.contains("seed 10"),
        "{e}"
    );
    let e = SimBackend::open(SimOptions {
        state_file: Some(path.clone()),
        start: Some(at(NIGHT)),
        ..SimOptions::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("started at 2026-03-10T14:00:00Z") && e.contains("--reset"),
        "{e}"
    );
}

#[test]
fn a_new_speed_is_kept_for_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    drop(on_file(&path, Some(9)).unwrap());
    let fast = SimBackend::open(SimOptions {
        state_file: Some(path.clone()),
        speed: Some(60.0),
        ..SimOptions::default()
    })
    .unwrap();
    assert_eq!(fast.speed(), 60.0);
    drop(fast);
    let again = SimBackend::open(SimOptions {
        state_file: Some(path),
        ..SimOptions::default()
    })
    .unwrap();
    assert_eq!(again.speed(), 60.0);
    let e = SimBackend::open(SimOptions {
        speed: Some(-1.0),
        ..SimOptions::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("invalid speed -1"), "{e}");
}
