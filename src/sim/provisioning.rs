//! A simulated `terraform plan` / `apply` of `provision/envs/demo`. What it finds
//! to change is honest to the model: configuration merged but not yet applied
//! (a fresh world has some), and drift from operators who scaled a group outside
//! Terraform (min and max; desired is ignored by the module, as autoscaling owns
//! it). After an apply the next plan finds nothing.

use serde::{Deserialize, Serialize};

use super::clock::{Ms, SECOND};
use super::fleet::{BASTION_CAPACITY, WEB_CAPACITY};
use super::logs::Emit;
use super::names::{self, ACCOUNT, REGION};
use super::world::World;
use crate::domain::{Capacity, PlanSummary, Tier};

/// Configuration changes merged into the repository; a new world has them all
/// pending.
const CONFIG_CHANGES: [(&str, &str, Action, &[&str]); 3] = [
    (
        "web-ami",
        "module.web.aws_launch_template.this",
        Action::Update,
        &[
            "~ image_id       = \"ami-0a7c3e51d2b4f9601\" -> \"ami-0e19d4b8c6a2f7350\"",
            "~ latest_version = 7 -> (known after apply)",
        ],
    ),
    (
        "dashboard",
        "module.observability.aws_cloudwatch_dashboard.this",
        Action::Update,
        &["~ dashboard_body = jsonencode( # 2 widgets added: backup age, deployment status )"],
    ),
    (
        "alb-logs-lifecycle",
        "module.storage.aws_s3_bucket_lifecycle_configuration.alb_logs",
        Action::Create,
        &[
            "+ bucket = \"notejam-demo-alb-logs-123456789012-eu-west-1\"",
            "+ rule { + id = \"expire-after-90-days\" + status = \"Enabled\" + expiration { + days = 90 } }",
        ],
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Create,
    Update,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provisioning {
    /// Keys of [`CONFIG_CHANGES`] not applied yet.
    pub pending: Vec<String>,
    pub applies: u32,
}

impl Default for Provisioning {
    fn default() -> Self {
        Provisioning {
            pending: CONFIG_CHANGES.iter().map(|c| c.0.to_string()).collect(),
            applies: 0,
        }
    }
}

/// What applying a planned change does to the world.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Config(String),
    Group(Tier, Capacity),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub address: String,
    pub action: Action,
    pub id: Option<String>,
    pub details: Vec<String>,
    pub effect: Effect,
    /// How long the apply of this resource takes, in virtual time.
    pub takes: Ms,
}

pub fn configured(tier: Tier) -> Capacity {
    if tier == Tier::Bastion {
        BASTION_CAPACITY
    } else {
        WEB_CAPACITY
    }
}

/// The changes a plan would show now.
pub fn plan(w: &World) -> Vec<Change> {
    let mut changes = Vec::new();
    for tier in [Tier::Web, Tier::Bastion] {
        let g = w.fleet.group(tier);
        let want = configured(tier);
        if g.capacity.min == want.min && g.capacity.max == want.max {
            continue;
        }
        let mut details = Vec::new();
        if g.capacity.min != want.min {
            details.push(format!("~ min_size = {} -> {}", g.capacity.min, want.min));
        }
        if g.capacity.max != want.max {
            details.push(format!("~ max_size = {} -> {}", g.capacity.max, want.max));
        }
        details.push("# (desired_capacity is ignored: autoscaling owns it)".to_string());
        changes.push(Change {
            address: format!("module.{tier}.aws_autoscaling_group.this"),
            action: Action::Update,
            id: Some(g.name.clone()),
            details,
            effect: Effect::Group(tier, want),
            takes: 3 * SECOND,
        });
    }
    for (key, address, action, details) in CONFIG_CHANGES {
        if w.provisioning.pending.iter().any(|p| p == key) {
            changes.push(Change {
                address: address.to_string(),
                action,
                id: (action == Action::Update).then(|| match key {
                    "web-ami" => "lt-0d4be5a1f8c2e9371".to_string(),
                    _ => "notejam-demo".to_string(),
                }),
                details: details.iter().map(|s| s.to_string()).collect(),
                effect: Effect::Config(key.to_string()),
                takes: if action == Action::Create {
                    SECOND
                } else {
                    2 * SECOND
                },
            });
        }
    }
    changes
}

pub fn summary(changes: &[Change]) -> PlanSummary {
    PlanSummary {
        add: changes
            .iter()
            .filter(|c| c.action == Action::Create)
            .count() as u32,
        change: changes
            .iter()
            .filter(|c| c.action == Action::Update)
            .count() as u32,
        destroy: 0,
    }
}

/// The resources `terraform plan` refreshes, one line each.
pub fn refresh_lines(w: &World) -> Vec<String> {
    let seed = w.seed;
    [
        ("module.network.aws_vpc.this", names::vpc_id(seed)),
        ("module.network.aws_subnet.public[0]", names::subnet_id(seed, 0)),
        ("module.network.aws_subnet.private[0]", names::subnet_id(seed, 3)),
        ("module.storage.module.artifacts.aws_s3_bucket.this", names::bucket_name("artifacts")),
        ("module.storage.module.backups.aws_s3_bucket.this", names::bucket_name("backups")),
        ("module.storage.module.alb_logs.aws_s3_bucket.this", names::bucket_name("alb-logs")),
        (
            "module.alb.aws_lb.this",
            format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/notejam-demo/5f1c2d3e4a5b6c7d"),
        ),
        ("module.database.aws_db_instance.this", names::DB_ID.to_string()),
        ("module.web.aws_launch_template.this", "lt-0d4be5a1f8c2e9371".to_string()),
        ("module.web.aws_autoscaling_group.this", names::asg_name(Tier::Web)),
        ("module.bastion.aws_autoscaling_group.this", names::asg_name(Tier::Bastion)),
        ("module.delivery.aws_codedeploy_deployment_group.this", "notejam:demo".to_string()),
        ("module.observability.aws_cloudwatch_dashboard.this", "notejam-demo".to_string()),
        ("module.backup.aws_backup_plan.this", names::BACKUP_PLAN.to_string()),
    ]
    .into_iter()
    .map(|(address, id)| format!("{address}: Refreshing state... [id={id}]"))
    .collect()
}

/// The plan's body: each change and the summary line.
pub fn plan_lines(changes: &[Change]) -> Vec<String> {
    if changes.is_empty() {
        return vec![
            String::new(),
            "No changes. Your infrastructure matches the configuration.".to_string(),
            String::new(),
            "Terraform has compared your real infrastructure against your configuration and found no differences, so no changes are needed.".to_string(),
        ];
    }
    let mut out = vec![
        String::new(),
        "Terraform used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:".to_string(),
    ];
    if changes.iter().any(|c| c.action == Action::Create) {
        out.push("  + create".to_string());
    }
    if changes.iter().any(|c| c.action == Action::Update) {
        out.push("  ~ update in-place".to_string());
    }
    out.push(String::new());
    out.push("Terraform will perform the following actions:".to_string());
    for c in changes {
        let (kind, name) = c
            .address
            .rsplit_once('.')
            .map_or(("", ""), |(a, n)| (a.rsplit('.').next().unwrap_or(""), n));
        out.push(String::new());
        match c.action {
            Action::Create => {
                out.push(format!("  # {} will be created", c.address));
                out.push(format!("  + resource \"{kind}\" \"{name}\" {{"));
            }
            Action::Update => {
                out.push(format!("  # {} will be updated in-place", c.address));
                out.push(format!("  ~ resource \"{kind}\" \"{name}\" {{"));
                if let Some(id) = &c.id {
                    out.push(format!("        id = \"{id}\""));
                }
            }
        }
        for d in &c.details {
            out.push(format!("      {d}"));
        }
        out.push("    }".to_string());
    }
    let s = summary(changes);
    out.push(String::new());
    out.push(format!(
        "Plan: {} to add, {} to change, {} to destroy.",
        s.add, s.change, s.destroy
    ));
    out
}

/// The apply's lines for one change: started, and completed after `takes`.
pub fn apply_lines(c: &Change) -> (String, String) {
    let secs = c.takes / SECOND;
    match c.action {
        Action::Create => (
            format!("{}: Creating...", c.address),
            format!(
                "{}: Creation complete after {secs}s [id={}]",
                c.address,
                names::bucket_name("alb-logs")
            ),
        ),
        Action::Update => {
            let id = c.id.clone().unwrap_or_default();
            (
                format!("{}: Modifying... [id={id}]", c.address),
                format!(
                    "{}: Modifications complete after {secs}s [id={id}]",
                    c.address
                ),
            )
        }
    }
}

/// Applies the planned changes to the world at `now`.
pub fn apply(w: &mut World, changes: &[Change], now: Ms, ev: &mut Emit) {
    for c in changes {
        match &c.effect {
            Effect::Config(key) => w.provisioning.pending.retain(|p| p != key),
            Effect::Group(tier, want) => {
                let g = w.fleet.group(*tier).capacity;
                let cap = Capacity {
                    min: want.min,
                    max: want.max,
                    desired: g.desired.clamp(want.min, want.max),
                };
                let revision = w.delivery.current.clone();
                // Terraform's values are valid by construction.
                let _ = w
                    .fleet
                    .set_capacity(w.seed, *tier, cap, now, revision.as_deref(), ev);
            }
        }
    }
    w.provisioning.applies += 1;
}
