//! Names and ids of the demo environment, following the naming contract
//! (design section 3) and the shapes AWS gives its ids.

use chrono::SecondsFormat;

use super::clock::{Ms, to_ts};
use super::random::{Purpose, chars, hex};
use crate::domain::{DEMO_ENV, Tier};

pub const REGION: &str = "eu-west-1";
/// AWS's documentation account, used in the ARNs of the demo's resources.
pub const ACCOUNT: &str = "123456789012";
pub const PRINCIPAL: &str = "demo-operator";
pub const DB_ID: &str = "notejam-demo";
pub const RESTORE_PREFIX: &str = "notejam-demo-restore-";
pub const APPLICATION: &str = "notejam";
pub const VAULT: &str = "notejam-demo";
pub const BACKUP_PLAN: &str = "notejam-demo-daily";

pub fn asg_name(tier: Tier) -> String {
    format!("notejam-{DEMO_ENV}-{tier}")
}

pub fn alarm_name(suffix: &str) -> String {
    format!("notejam-{DEMO_ENV}-{suffix}")
}

pub fn instance_id(seed: u64, launch: u64) -> String {
    format!("i-0{}", hex(seed, Purpose::Names, launch as i64, 1, 16))
}

/// A UUID-shaped id (scaling activities, backup jobs).
pub fn uuid(seed: u64, kind: u64, n: i64) -> String {
    let h = hex(seed, Purpose::Names, n, kind, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

pub fn deployment_id(seed: u64, n: u64) -> String {
    format!(
        "d-{}",
        chars(
            seed,
            Purpose::Names,
            n as i64,
            3,
            9,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        )
    )
}

pub fn revision_name(seed: u64, n: u64) -> String {
    format!("notejam-{}.zip", hex(seed, Purpose::Names, n as i64, 4, 7))
}

pub fn vpc_id(seed: u64) -> String {
    format!("vpc-0{}", hex(seed, Purpose::Names, 0, 5, 16))
}

pub fn subnet_id(seed: u64, n: i64) -> String {
    format!("subnet-0{}", hex(seed, Purpose::Names, n, 6, 16))
}

pub fn alb_dns(seed: u64) -> String {
    let digits: String = chars(seed, Purpose::Names, 0, 7, 10, b"0123456789");
    format!("notejam-{DEMO_ENV}-{digits}.{REGION}.elb.amazonaws.com")
}

/// RDS endpoints share one per-account, per-region suffix.
pub fn db_endpoint(seed: u64, id: &str) -> String {
    let suffix = chars(
        seed,
        Purpose::Names,
        0,
        8,
        12,
        b"abcdefghijklmnopqrstuvwxyz0123456789",
    );
    format!("{id}.{suffix}.{REGION}.rds.amazonaws.com")
}

pub fn bucket_name(purpose: &str) -> String {
    format!("notejam-{DEMO_ENV}-{purpose}-{ACCOUNT}-{REGION}")
}

/// AWS Backup's recovery point for an RDS instance is a snapshot ARN.
pub fn recovery_point_arn(seed: u64, job: u64) -> String {
    format!(
        "arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:job-{}",
        uuid(seed, 9, job as i64)
    )
}

/// A web instance's private address in its AZ's app subnet (10.30.1x.0/24).
pub fn private_ip(az: u8, launch: u64) -> String {
    format!("10.30.{}.{}", 10 + u32::from(az), 4 + launch % 250)
}

/// `2026-11-20T10:31:02Z`, as AWS writes instants in causes and reasons.
pub fn iso(t: Ms) -> String {
    to_ts(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_aws_ones_and_are_stable() {
        let i = instance_id(42, 3);
        assert!(i.starts_with("i-0") && i.len() == 19, "{i}");
        assert_eq!(i, instance_id(42, 3));
        assert_ne!(i, instance_id(42, 4));
        let d = deployment_id(42, 1);
        assert!(d.starts_with("d-") && d.len() == 11, "{d}");
        let r = revision_name(42, 1);
        assert!(
            r.starts_with("notejam-") && r.ends_with(".zip") && r.len() == 19,
            "{r}"
        );
        assert_eq!(uuid(1, 1, 1).len(), 36);
        assert!(
            recovery_point_arn(1, 1)
                .starts_with("arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-")
        );
        assert_eq!(asg_name(Tier::Web), "notejam-demo-web");
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
    }
}
