//! The naming and tagging contract (design section 3) as code: every name the
//! backend looks for or creates comes from here.

use crate::domain::Tier;

pub const PROJECT: &str = "notejam";
pub const TAG_PROJECT: &str = "Project";
pub const TAG_ENVIRONMENT: &str = "Environment";
pub const TAG_TIER: &str = "Tier";
pub const TAG_PURPOSE: &str = "Purpose";

/// CodeDeploy application; the deployment group is the environment's name.
pub const CODEDEPLOY_APPLICATION: &str = "notejam";

pub fn database_id(env: &str) -> String {
    format!("notejam-{env}")
}

pub fn restore_prefix(env: &str) -> String {
    format!("notejam-{env}-restore-")
}

/// Whether an RDS instance id is one of the environment's by name: the database
/// itself or a restored copy.
pub fn is_env_database(env: &str, id: &str) -> bool {
    id == database_id(env) || id.starts_with(&restore_prefix(env))
}

pub fn manual_snapshot_prefix(env: &str) -> String {
    format!("notejam-{env}-manual-")
}

pub fn backup_vault(env: &str) -> String {
    format!("notejam-{env}")
}

pub fn backup_plan(env: &str) -> String {
    format!("notejam-{env}-daily")
}

pub fn alarm_prefix(env: &str) -> String {
    format!("notejam-{env}-")
}

/// SSM parameter holding the endpoint address of the database the app uses.
pub fn database_host_parameter(env: &str) -> String {
    format!("/notejam/{env}/database/host")
}

/// SSM parameter holding the capacity `stop` replaced, as JSON.
pub fn stopped_parameter(env: &str, tier: Tier) -> String {
    format!("/notejam/{env}/njtui/stopped/{}", tier.as_str())
}

/// Whether a tag set marks a resource as this environment's.
pub fn is_env_tagged<'a>(env: &str, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
    let (mut project, mut environment) = (false, false);
    for (k, v) in tags {
        project |= k == TAG_PROJECT && v == PROJECT;
        environment |= k == TAG_ENVIRONMENT && v == env;
    }
    project && environment
}

pub fn tag_value<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &str,
) -> Option<&'a str> {
    tags.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The contract tags of a resource the console creates (a snapshot, a restored
/// database).
pub fn tags(env: &str, tier: Tier) -> [(&'static str, String); 3] {
    [
        (TAG_PROJECT, PROJECT.to_string()),
        (TAG_ENVIRONMENT, env.to_string()),
        (TAG_TIER, tier.as_str().to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_do_not_leak_across_environments() {
        assert!(is_env_database("prod", "notejam-prod"));
        assert!(is_env_database(
            "prod",
            "notejam-prod-restore-20260101120000"
        ));
        assert!(!is_env_database("prod", "notejam-production"));
        assert!(!is_env_database("prod", "notejam-staging"));
        assert!(!is_env_database("prod", "notejam-prod2-restore-1"));
    }

    #[test]
    fn tags_need_both_project_and_environment() {
        let t = [("Project", "notejam"), ("Environment", "prod")];
        assert!(is_env_tagged("prod", t));
        assert!(!is_env_tagged("staging", t));
        assert!(!is_env_tagged("prod", [("Environment", "prod")]));
        assert_eq!(tag_value(t, "Environment"), Some("prod"));
    }
}
