//! The Auto Scaling groups: web (registered with the ALB's target group, target
//! tracking on average CPU) and the bastion (a group of one).
//!
//! An instance's lifecycle is a set of instants fixed when it happens (launch,
//! in service, app ready, failure, termination); its state, health and target
//! health at any time are read from them, so they are exact to the millisecond
//! whatever the step size.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::clock::{DAY, MINUTE, Ms, SECOND};
use super::logs::Emit;
use super::names::{self, iso};
use super::random::{Purpose, rng, unit};
use crate::backend::BackendError;
use crate::domain::{
    ActivityStatus, Capacity, Health, Instance, InstanceState, LogSource, ScalingActivity,
    ScalingGroup, Severity, Target, TargetHealth, Tier,
};

pub const AZS: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
pub const WEB_CAPACITY: Capacity = Capacity {
    min: 2,
    desired: 2,
    max: 10,
};
pub const BASTION_CAPACITY: Capacity = Capacity {
    min: 1,
    desired: 1,
    max: 1,
};
pub const WEB_INSTANCE_TYPE: &str = "t3.small";
pub const BASTION_INSTANCE_TYPE: &str = "t3.micro";
/// The demo account's limit on one group's size (AWS's own is a vCPU quota).
pub const MAX_GROUP_SIZE: u32 = 20;
/// Pending: from launch to InService.
pub const BOOT_SECS: (i64, i64) = (60, 100);
/// From InService until the app answers and the target passes 2 checks 15 s apart.
pub const APP_READY_SECS: (i64, i64) = (25, 45);
pub const BASTION_READY_SECS: (i64, i64) = (10, 20);
/// The ALB marks a target unhealthy after 3 failed checks 15 s apart.
pub const ALB_UNHEALTHY_AFTER: Ms = 45 * SECOND;
/// A re-registered target passes 2 checks 15 s apart.
pub const ALB_HEALTHY_AFTER: Ms = 30 * SECOND;
/// The group's health check notices a failed instance this long after it fails.
pub const NOTICE_SECS: (i64, i64) = (15, 45);
pub const DEREGISTRATION_DELAY: Ms = 30 * SECOND;
pub const SHUTDOWN_SECS: (i64, i64) = (15, 40);
/// Terminated instances stay listed this long, as the console shows them.
pub const KEEP_TERMINATED: Ms = 5 * MINUTE;
/// Target tracking: average web CPU.
pub const CPU_TARGET: f64 = 50.0;
/// Scale out after this many consecutive minutes above the target...
pub const SCALE_OUT_POINTS: usize = 3;
/// ...scale in after this many below 90 % of it (AWS's low alarm)...
pub const SCALE_IN_POINTS: usize = 15;
pub const SCALE_IN_BELOW: f64 = CPU_TARGET * 0.9;
/// ...no second scale-out while new instances warm up...
pub const WARMUP: Ms = 3 * MINUTE;
/// ...and one instance at a time on the way in, this far apart.
pub const SCALE_IN_COOLDOWN: Ms = 5 * MINUTE;
/// Chance per tick that one in-service instance fails its status checks: about
/// once a fortnight per instance.
pub const FAILURE_PER_TICK: f64 = 1.0 / (14.0 * 8640.0);

const RETIRED_ACTIVITIES: usize = 50;

fn secs(r: &mut impl rand::Rng, (lo, hi): (i64, i64)) -> Ms {
    r.random_range(lo * SECOND..=hi * SECOND)
}

/// A deployment holding the instance out of the target group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hold {
    Draining { since: Ms },
    Out,
    Registering { since: Ms },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inst {
    pub id: String,
    /// Launch number: keys this instance's random draws.
    pub n: u64,
    pub az: u8,
    pub launched: Ms,
    pub in_service_at: Ms,
    /// The app answers and the target has passed its health checks.
    pub ready_at: Ms,
    pub revision: Option<String>,
    /// Running a revision chaos made faulty: half its requests fail.
    pub faulty: bool,
    /// Tagged `Canary=true`: the canary deployment group's one instance.
    #[serde(default)]
    pub canary: bool,
    pub failed_at: Option<Ms>,
    pub noticed_at: Option<Ms>,
    pub terminating_at: Option<Ms>,
    pub terminated_at: Option<Ms>,
    pub hold: Option<Hold>,
}

impl Inst {
    pub fn state(&self, t: Ms) -> InstanceState {
        if self.terminated_at.is_some_and(|x| x <= t) {
            InstanceState::Terminated
        } else if self.terminating_at.is_some_and(|x| x <= t) {
            InstanceState::Terminating
        } else if t >= self.in_service_at {
            InstanceState::InService
        } else {
            InstanceState::Pending
        }
    }

    /// Counts toward the group's capacity: launched and not being terminated.
    pub fn live(&self, t: Ms) -> bool {
        self.terminating_at.is_none_or(|x| x > t)
    }

    pub fn alive(&self, t: Ms) -> bool {
        self.failed_at.is_none_or(|f| t < f)
    }

    pub fn in_service(&self, t: Ms) -> bool {
        self.state(t) == InstanceState::InService
    }

    /// What a deployment targets: in service, not being terminated, not failed.
    pub fn deployable(&self, t: Ms) -> bool {
        self.in_service(t) && self.live(t) && self.alive(t)
    }

    /// The group's view: unknown until the app's checks pass (inside the health
    /// check grace period), unhealthy once its health check saw a failure.
    pub fn health(&self, t: Ms) -> Health {
        if self.noticed_at.is_some_and(|n| n <= t) {
            return Health::Unhealthy;
        }
        match self.state(t) {
            InstanceState::Pending => Health::Unknown,
            InstanceState::InService if t < self.ready_at => Health::Unknown,
            _ => Health::Healthy,
        }
    }

    /// The ALB target group's view, with its reason code.
    pub fn target(&self, t: Ms) -> Option<(TargetHealth, Option<&'static str>)> {
        match self.state(t) {
            InstanceState::Pending | InstanceState::Standby | InstanceState::Terminated => None,
            InstanceState::Terminating => {
                let since = self.terminating_at?;
                let was_registered = self.in_service_at < since && self.hold != Some(Hold::Out);
                (was_registered && t < since + DEREGISTRATION_DELAY).then_some((
                    TargetHealth::Draining,
                    Some("Target.DeregistrationInProgress"),
                ))
            }
            InstanceState::InService => {
                if self.failed_at.is_some_and(|f| t >= f + ALB_UNHEALTHY_AFTER) {
                    return Some((TargetHealth::Unhealthy, Some("Target.Timeout")));
                }
                match self.hold {
                    Some(Hold::Draining { .. }) => {
                        return Some((
                            TargetHealth::Draining,
                            Some("Target.DeregistrationInProgress"),
                        ));
                    }
                    Some(Hold::Out) => {
                        return Some((TargetHealth::Unused, Some("Target.NotRegistered")));
                    }
                    Some(Hold::Registering { since }) if t < since + ALB_HEALTHY_AFTER => {
                        return Some((TargetHealth::Initial, Some("Elb.RegistrationInProgress")));
                    }
                    _ => {}
                }
                if t < self.ready_at {
                    Some((TargetHealth::Initial, Some("Elb.InitialHealthChecking")))
                } else {
                    Some((TargetHealth::Healthy, None))
                }
            }
        }
    }

    /// The ALB routes requests to it (it may be dead and not yet found out).
    pub fn routed(&self, t: Ms) -> bool {
        matches!(self.target(t), Some((TargetHealth::Healthy, _)))
    }

    fn to_domain(&self, t: Ms, instance_type: &str) -> Instance {
        Instance {
            id: self.id.clone(),
            state: self.state(t),
            health: self.health(t),
            az: AZS[usize::from(self.az)].to_string(),
            instance_type: instance_type.to_string(),
            launched: Some(super::clock::to_ts(self.launched)),
            revision: self.revision.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: String,
    pub description: String,
    pub cause: String,
    pub started: Ms,
    pub ends: Ms,
}

impl Activity {
    pub fn in_progress(&self, t: Ms) -> bool {
        t < self.ends
    }

    fn to_domain(&self, t: Ms) -> ScalingActivity {
        let done = !self.in_progress(t);
        let span = (self.ends - self.started).max(1);
        let progress = if done {
            100
        } else {
            (((t - self.started).max(0) * 100) / span).min(99) as u8
        };
        ScalingActivity {
            id: self.id.clone(),
            description: self.description.clone(),
            status: if done {
                ActivityStatus::Successful
            } else {
                ActivityStatus::InProgress
            },
            progress,
            started: super::clock::to_ts(self.started),
            ended: done.then(|| super::clock::to_ts(self.ends)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub tier: Tier,
    pub name: String,
    pub instance_type: String,
    pub capacity: Capacity,
    pub instances: Vec<Inst>,
    /// Oldest first; finished ones are kept a day for the logs' sake.
    pub activities: Vec<Activity>,
    pub stopped: Option<Capacity>,
    pub last_scale_out: Option<Ms>,
    pub last_scale: Option<Ms>,
}

impl Group {
    fn new(tier: Tier, instance_type: &str, capacity: Capacity) -> Group {
        Group {
            tier,
            name: names::asg_name(tier),
            instance_type: instance_type.to_string(),
            capacity,
            instances: Vec::new(),
            activities: Vec::new(),
            stopped: None,
            last_scale_out: None,
            last_scale: None,
        }
    }

    pub fn live_count(&self, t: Ms) -> usize {
        self.instances.iter().filter(|i| i.live(t)).count()
    }

    pub fn in_service_count(&self, t: Ms) -> usize {
        self.instances
            .iter()
            .filter(|i| i.in_service(t) && i.live(t))
            .count()
    }

    pub fn to_domain(&self, t: Ms) -> ScalingGroup {
        ScalingGroup {
            tier: self.tier,
            name: self.name.clone(),
            capacity: self.capacity,
            instances: self
                .instances
                .iter()
                .filter(|i| i.launched <= t)
                .map(|i| i.to_domain(t, &self.instance_type))
                .collect(),
            activities: self
                .activities
                .iter()
                .rev()
                .filter(|a| a.in_progress(t) && a.started <= t)
                .map(|a| a.to_domain(t))
                .collect(),
            stopped: self.stopped,
        }
    }

    pub fn targets(&self, t: Ms) -> Vec<Target> {
        self.instances
            .iter()
            .filter_map(|i| {
                let (health, reason) = i.target(t)?;
                Some(Target {
                    instance_id: i.id.clone(),
                    port: 8000,
                    health,
                    reason: reason.map(str::to_string),
                })
            })
            .collect()
    }
}

/// Both groups and the counters that name what they launch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    pub web: Group,
    pub bastion: Group,
    pub launches: u64,
    pub activities: u64,
}

impl Fleet {
    /// The groups as they stand before the history starts: the web group at its
    /// desired size and the bastion, launched long before `t0`.
    pub fn new(seed: u64, t0: Ms, revision: &str) -> Fleet {
        let mut fleet = Fleet {
            web: Group::new(Tier::Web, WEB_INSTANCE_TYPE, WEB_CAPACITY),
            bastion: Group::new(Tier::Bastion, BASTION_INSTANCE_TYPE, BASTION_CAPACITY),
            launches: 0,
            activities: 0,
        };
        for tier in [Tier::Web, Tier::Bastion] {
            let count = fleet.group(tier).capacity.desired;
            for k in 0..count {
                let mut r = rng(seed, Purpose::History, i64::from(k), tier as u64);
                let launched = t0 - r.random_range(2 * DAY..20 * DAY);
                let n = fleet.next_launch();
                let boot = secs(&mut r, BOOT_SECS);
                let inst = Inst {
                    id: names::instance_id(seed, n),
                    n,
                    az: (k % 3) as u8,
                    launched,
                    in_service_at: launched + boot,
                    ready_at: launched + boot + secs(&mut r, APP_READY_SECS),
                    revision: (tier == Tier::Web).then(|| revision.to_string()),
                    faulty: false,
                    canary: false,
                    failed_at: None,
                    noticed_at: None,
                    terminating_at: None,
                    terminated_at: None,
                    hold: None,
                };
                fleet.group_mut(tier).instances.push(inst);
            }
        }
        fleet
    }

    fn next_launch(&mut self) -> u64 {
        self.launches += 1;
        self.launches
    }

    pub fn group(&self, tier: Tier) -> &Group {
        if tier == Tier::Bastion {
            &self.bastion
        } else {
            &self.web
        }
    }

    pub fn group_mut(&mut self, tier: Tier) -> &mut Group {
        if tier == Tier::Bastion {
            &mut self.bastion
        } else {
            &mut self.web
        }
    }

    pub fn web_instance_mut(&mut self, id: &str) -> Option<&mut Inst> {
        self.web.instances.iter_mut().find(|i| i.id == id)
    }

    fn activity(&mut self, tier: Tier, a: Activity, ev: &mut Emit) {
        let stream = self.group(tier).name.clone();
        ev.info(a.started, LogSource::System, &stream, || {
            format!("{}. Cause: {}", a.description, a.cause)
        });
        self.group_mut(tier).activities.push(a);
    }

    fn activity_id(&mut self, seed: u64) -> String {
        self.activities += 1;
        names::uuid(seed, 2, self.activities as i64)
    }

    /// Launches one instance in the AZ with the fewest live ones.
    fn launch(
        &mut self,
        seed: u64,
        tier: Tier,
        t: Ms,
        cause: &str,
        revision: Option<&str>,
        ev: &mut Emit,
    ) {
        let n = self.next_launch();
        let mut r = rng(seed, Purpose::Fleet, n as i64, 1);
        let boot = secs(&mut r, BOOT_SECS);
        let ready = secs(
            &mut r,
            if tier == Tier::Web {
                APP_READY_SECS
            } else {
                BASTION_READY_SECS
            },
        );
        let group = self.group(tier);
        let az = (0..AZS.len() as u8)
            .min_by_key(|az| {
                group
                    .instances
                    .iter()
                    .filter(|i| i.az == *az && i.live(t))
                    .count()
            })
            .unwrap_or(0);
        let inst = Inst {
            id: names::instance_id(seed, n),
            n,
            az,
            launched: t,
            in_service_at: t + boot,
            ready_at: t + boot + ready,
            revision: (tier == Tier::Web)
                .then(|| revision.map(str::to_string))
                .flatten(),
            faulty: false,
            canary: false,
            failed_at: None,
            noticed_at: None,
            terminating_at: None,
            terminated_at: None,
            hold: None,
        };
        let activity = Activity {
            id: self.activity_id(seed),
            description: format!("Launching a new EC2 instance: {}", inst.id),
            cause: cause.to_string(),
            started: t,
            ends: inst.in_service_at,
        };
        self.group_mut(tier).instances.push(inst);
        self.activity(tier, activity, ev);
    }

    fn terminate(
        &mut self,
        seed: u64,
        tier: Tier,
        index: usize,
        t: Ms,
        cause: &str,
        ev: &mut Emit,
    ) {
        let inst = &mut self.group_mut(tier).instances[index];
        let mut r = rng(seed, Purpose::Fleet, inst.n as i64, 2);
        let drain = if tier == Tier::Web && inst.routed(t) {
            DEREGISTRATION_DELAY
        } else {
            0
        };
        inst.terminating_at = Some(t);
        inst.terminated_at = Some(t + drain + secs(&mut r, SHUTDOWN_SECS));
        let (id, ends) = (inst.id.clone(), inst.terminated_at.unwrap_or(t));
        // A launch still in progress ends here.
        for a in &mut self.group_mut(tier).activities {
            if a.description.ends_with(&id) && a.ends > t {
                a.ends = t;
            }
        }
        let activity = Activity {
            id: self.activity_id(seed),
            description: format!("Terminating EC2 instance: {id}"),
            cause: cause.to_string(),
            started: t,
            ends,
        };
        self.activity(tier, activity, ev);
    }

    /// Launches or terminates until the live count matches desired.
    pub fn reconcile(
        &mut self,
        seed: u64,
        tier: Tier,
        t: Ms,
        why: &str,
        revision: Option<&str>,
        ev: &mut Emit,
    ) {
        let live = self.group(tier).live_count(t) as u32;
        let desired = self.group(tier).capacity.desired;
        let prefix = if why.is_empty() {
            String::new()
        } else {
            format!("{why} ")
        };
        if live < desired {
            let cause = format!(
                "{prefix}At {} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {live} to {desired}.",
                iso(t)
            );
            for _ in live..desired {
                self.launch(seed, tier, t, &cause, revision, ev);
            }
        }
        for _ in desired..live {
            let Some(victim) = self.pick_victim(tier, t) else {
                break;
            };
            let id = self.group(tier).instances[victim].id.clone();
            let cause = format!(
                "{prefix}At {} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from {live} to {desired}. At {} instance {id} was selected for termination.",
                iso(t),
                iso(t)
            );
            self.terminate(seed, tier, victim, t, &cause, ev);
        }
    }

    /// The default termination policy, simplified: balance the AZs, then the
    /// oldest instance.
    fn pick_victim(&self, tier: Tier, t: Ms) -> Option<usize> {
        let g = self.group(tier);
        let per_az = |az: u8| {
            g.instances
                .iter()
                .filter(|i| i.az == az && i.live(t))
                .count()
        };
        g.instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.live(t))
            .max_by_key(|(_, i)| (per_az(i.az), -i.launched, std::cmp::Reverse(i.n)))
            .map(|(k, _)| k)
    }

    /// UpdateAutoScalingGroup: min <= desired <= max, within the account limit.
    pub fn set_capacity(
        &mut self,
        seed: u64,
        tier: Tier,
        cap: Capacity,
        t: Ms,
        revision: Option<&str>,
        ev: &mut Emit,
    ) -> Result<(), BackendError> {
        if !tier.is_scalable() {
            return Err(BackendError::Invalid(
                Tier::parse_scalable(tier.as_str()).unwrap_err(),
            ));
        }
        validate_capacity(cap)?;
        let old = self.group(tier).capacity;
        self.group_mut(tier).capacity = cap;
        let why = format!(
            "At {} a user request update of AutoScalingGroup constraints to min: {}, max: {}, desired: {} changing the desired capacity from {} to {}.",
            iso(t),
            cap.min,
            cap.max,
            cap.desired,
            old.desired,
            cap.desired
        );
        self.reconcile(seed, tier, t, &why, revision, ev);
        Ok(())
    }

    /// Per tick: random failures, the group's health check finding failed
    /// instances (and replacing them), lifecycle log lines, clean-up.
    pub fn process(&mut self, seed: u64, t0: Ms, t1: Ms, revision: Option<&str>, ev: &mut Emit) {
        let tick = t0 / super::clock::TICK;
        for tier in [Tier::Web, Tier::Bastion] {
            for inst in &mut self.group_mut(tier).instances {
                if inst.failed_at.is_none()
                    && inst.live(t0)
                    && inst.in_service(t0)
                    && t0 >= inst.ready_at
                    && unit(seed, Purpose::Fleet, tick, inst.n) < FAILURE_PER_TICK
                {
                    let mut r = rng(seed, Purpose::Fleet, tick, inst.n);
                    let at = t0 + r.random_range(0..super::clock::TICK);
                    inst.failed_at = Some(at);
                    inst.noticed_at = Some(at + secs(&mut r, NOTICE_SECS));
                    ev.text(at, LogSource::System, &inst.id, Severity::Error, || {
                        "kernel: nvme nvme0: I/O 17 QID 2 timeout, aborting; EXT4-fs error (device nvme0n1p1): remounting filesystem read-only".to_string()
                    });
                }
            }
            let noticed: Vec<(usize, Ms)> = self
                .group(tier)
                .instances
                .iter()
                .enumerate()
                .filter_map(|(k, i)| {
                    let n = i.noticed_at?;
                    (i.terminating_at.is_none() && n < t1).then_some((k, n))
                })
                .collect();
            for (k, at) in noticed {
                let cause = format!(
                    "At {} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.",
                    iso(at)
                );
                self.terminate(seed, tier, k, at, &cause, ev);
                self.reconcile(seed, tier, at, "", revision, ev);
            }
            self.lifecycle_lines(seed, tier, t0, t1, ev);
            let g = self.group_mut(tier);
            g.instances
                .retain(|i| i.terminated_at.is_none_or(|x| x + KEEP_TERMINATED > t1));
            for i in &mut g.instances {
                if let Some(Hold::Registering { since }) = i.hold
                    && since + 10 * MINUTE < t1
                {
                    // Left registering by a stopped deployment: long healthy.
                    i.hold = None;
                }
            }
            if g.activities.len() > RETIRED_ACTIVITIES {
                let cut = g.activities.len() - RETIRED_ACTIVITIES;
                let old = g.activities[..cut]
                    .iter()
                    .take_while(|a| a.ends < t1 - DAY)
                    .count();
                g.activities.drain(..old);
            }
        }
    }

    /// System log lines of boots, app starts and shutdowns inside [t0, t1).
    fn lifecycle_lines(&self, seed: u64, tier: Tier, t0: Ms, t1: Ms, ev: &mut Emit) {
        let within = |t: Ms| t >= t0 && t < t1;
        for i in &self.group(tier).instances {
            let id = i.id.as_str();
            let boot_secs = (i.in_service_at - i.launched) as f64 / 1000.0;
            if within(i.in_service_at - 6 * SECOND) {
                ev.info(i.in_service_at - 6 * SECOND, LogSource::System, id, || {
                    format!(
                        "cloud-init[1876]: Cloud-init v. 22.2.2 finished at {}. Datasource DataSourceEc2.  Up {:.2} seconds",
                        super::clock::to_ts(i.in_service_at - 6 * SECOND).to_rfc2822(),
                        boot_secs - 6.0
                    )
                });
            }
            if within(i.in_service_at) {
                ev.info(i.in_service_at, LogSource::System, id, || {
                    "systemd[1]: Started amazon-cloudwatch-agent.service - Amazon CloudWatch Agent."
                        .to_string()
                });
                if tier == Tier::Web {
                    ev.info(i.in_service_at + SECOND, LogSource::System, id, || {
                        "systemd[1]: Started codedeploy-agent.service - AWS CodeDeploy Host Agent."
                            .to_string()
                    });
                    ev.info(i.in_service_at + 2 * SECOND, LogSource::System, id, || {
                        "systemd[1]: Started notejam.service - Notejam web app.".to_string()
                    });
                } else {
                    ev.info(i.in_service_at + SECOND, LogSource::System, id, || {
                        "systemd[1]: Started sshd.service - OpenSSH server daemon.".to_string()
                    });
                }
            }
            if let Some(at) = i.terminating_at
                && within(at)
            {
                ev.info(at, LogSource::System, id, || {
                    if tier == Tier::Web {
                        "systemd[1]: Stopping notejam.service - Notejam web app... (SIGTERM: draining in-flight requests)".to_string()
                    } else {
                        "systemd-logind[512]: System is powering down.".to_string()
                    }
                });
            }
            if let Some(at) = i.terminated_at
                && within(at - 2 * SECOND)
                && i.alive(at)
            {
                ev.info(at - 2 * SECOND, LogSource::System, id, || {
                    "systemd-shutdown[1]: Syncing filesystems and block devices.".to_string()
                });
            }
            if tier == Tier::Bastion
                && i.in_service(t0)
                && let Some((login, logout)) = bastion_session(seed, t0)
            {
                let from = 198 + (login / MINUTE) % 3;
                if within(login) {
                    ev.info(login, LogSource::System, id, || {
                        format!(
                            "sshd[{}]: Accepted publickey for ec2-user from {from}.51.100.{} port {} ssh2: ED25519 SHA256:Vx4pQ2m9rK1tLw8cYb3nZ5fH7jD0gS6aE2uT9oP1iXk",
                            2000 + (login / SECOND) % 5000,
                            (login / MINUTE) % 250 + 2,
                            40_000 + (login / SECOND) % 20_000
                        )
                    });
                }
                if within(logout) {
                    ev.info(logout, LogSource::System, id, || {
                        format!(
                            "sshd[{}]: pam_unix(sshd:session): session closed for user ec2-user",
                            2000 + (login / SECOND) % 5000
                        )
                    });
                }
            }
        }
    }

    /// Target tracking at the end of each minute, from the stored average CPU of
    /// the last minutes (oldest first).
    pub fn target_tracking(
        &mut self,
        seed: u64,
        t: Ms,
        cpu: &[Option<f64>],
        revision: Option<&str>,
        ev: &mut Emit,
    ) {
        let g = &self.web;
        let n = g.in_service_count(t) as f64;
        let Some(Some(latest)) = cpu.last().copied() else {
            return;
        };
        let needed = ((latest * n) / CPU_TARGET).ceil().max(1.0) as u32;
        let cap = g.capacity;
        let recent = |k: usize| cpu.len() >= k && cpu[cpu.len() - k..].iter().all(Option::is_some);
        let high = recent(SCALE_OUT_POINTS)
            && cpu[cpu.len() - SCALE_OUT_POINTS..]
                .iter()
                .all(|v| v.is_some_and(|v| v > CPU_TARGET));
        let low = recent(SCALE_IN_POINTS)
            && cpu[cpu.len() - SCALE_IN_POINTS..]
                .iter()
                .all(|v| v.is_some_and(|v| v < SCALE_IN_BELOW));
        let alarm = |side: &str| {
            format!(
                "TargetTracking-{}-Alarm{side}-{}",
                g.name,
                &names::uuid(seed, 3, if side == "High" { 1 } else { 2 })
            )
        };
        let mut change = None;
        if high && g.last_scale_out.is_none_or(|s| t - s >= WARMUP) {
            let new = needed.min(cap.max);
            if new > cap.desired {
                change = Some((new, alarm("High"), true));
            }
        } else if low && g.last_scale.is_none_or(|s| t - s >= SCALE_IN_COOLDOWN) {
            let new = needed.max(cap.desired.saturating_sub(1)).max(cap.min);
            if new < cap.desired {
                change = Some((new, alarm("Low"), false));
            }
        }
        if let Some((new, alarm, out)) = change {
            let why = format!(
                "At {} a monitor alarm {alarm} in state ALARM triggered policy {}-cpu-target changing the desired capacity from {} to {new}.",
                iso(t),
                self.web.name,
                cap.desired
            );
            self.web.capacity.desired = new;
            self.web.last_scale = Some(t);
            if out {
                self.web.last_scale_out = Some(t);
            }
            self.reconcile(seed, Tier::Web, t, &why, revision, ev);
        }
    }

    /// Chaos: one serving web instance dies; its health check will find out.
    pub fn kill(&mut self, seed: u64, t: Ms, ev: &mut Emit) -> Result<String, BackendError> {
        let candidates: Vec<usize> = self
            .web
            .instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.routed(t) && i.alive(t) && i.live(t))
            .map(|(k, _)| k)
            .collect();
        if candidates.is_empty() {
            let states: Vec<String> = self
                .web
                .instances
                .iter()
                .map(|i| format!("{} {}/{}", i.id, i.state(t).as_str(), i.health(t).as_str()))
                .collect();
            return Err(BackendError::Invalid(format!(
                "no healthy in-service web instance to kill (web instances: {})",
                if states.is_empty() {
                    "none".to_string()
                } else {
                    states.join(", ")
                }
            )));
        }
        let mut r = rng(seed, Purpose::Chaos, t, 1);
        let k = candidates[r.random_range(0..candidates.len())];
        let inst = &mut self.web.instances[k];
        inst.failed_at = Some(t);
        inst.noticed_at = Some(t + secs(&mut r, NOTICE_SECS));
        ev.text(t, LogSource::System, &self.web.name, Severity::Warn, || {
            format!(
                "EC2 instance {} ({}) was terminated outside Auto Scaling (chaos: kill-instance)",
                inst.id,
                AZS[usize::from(inst.az)]
            )
        });
        Ok(format!(
            "terminated web instance {} in {}; the group's health check will replace it",
            inst.id,
            AZS[usize::from(inst.az)]
        ))
    }
}

pub fn validate_capacity(cap: Capacity) -> Result<(), BackendError> {
    if cap.min > cap.max {
        return Err(BackendError::Invalid(format!(
            "min {} is greater than max {}: choose min <= desired <= max",
            cap.min, cap.max
        )));
    }
    if cap.desired < cap.min || cap.desired > cap.max {
        return Err(BackendError::Invalid(format!(
            "desired capacity {} must be between min {} and max {}",
            cap.desired, cap.min, cap.max
        )));
    }
    if cap.max > MAX_GROUP_SIZE {
        return Err(BackendError::Invalid(format!(
            "max {} exceeds the demo account's limit of {MAX_GROUP_SIZE} instances per group",
            cap.max
        )));
    }
    Ok(())
}

/// Whether an operator is logged in to the bastion during `t`'s hour: about one
/// hour in five has a session of 5 to 40 minutes.
pub fn bastion_session(seed: u64, t: Ms) -> Option<(Ms, Ms)> {
    let hour = t.div_euclid(super::clock::HOUR);
    if unit(seed, Purpose::Fleet, hour, 0xB5) >= 0.2 {
        return None;
    }
    let mut r = rng(seed, Purpose::Fleet, hour, 0xB6);
    let login =
        hour * super::clock::HOUR + r.random_range(0..15) * MINUTE + r.random_range(0..60) * SECOND;
    Some((login, login + r.random_range(5..40) * MINUTE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::logs::Emit;

    const T0: Ms = 1_763_942_400_000;

    fn fleet() -> Fleet {
        Fleet::new(42, T0, "notejam-0000000.zip")
    }

    #[test]
    fn a_new_fleet_is_in_service_across_azs() {
        let f = fleet();
        assert_eq!(f.web.instances.len(), 2);
        assert_eq!(f.bastion.instances.len(), 1);
        for i in &f.web.instances {
            assert_eq!(i.state(T0), InstanceState::InService);
            assert_eq!(i.health(T0), Health::Healthy);
            assert!(i.routed(T0));
            assert_eq!(i.revision.as_deref(), Some("notejam-0000000.zip"));
        }
        assert_ne!(f.web.instances[0].az, f.web.instances[1].az);
    }

    #[test]
    fn a_launch_goes_pending_in_service_then_healthy() {
        let mut f = fleet();
        let mut ev = Emit::for_command(T0, 0);
        f.set_capacity(
            42,
            Tier::Web,
            Capacity {
                min: 2,
                desired: 3,
                max: 10,
            },
            T0,
            Some("r"),
            &mut ev,
        )
        .unwrap();
        let new = f.web.instances.last().unwrap().clone();
        assert_eq!(new.state(T0), InstanceState::Pending);
        assert_eq!(new.health(T0), Health::Unknown);
        assert!(new.target(T0).is_none());
        let boot = new.in_service_at - T0;
        assert!((60 * SECOND..=100 * SECOND).contains(&boot));
        assert_eq!(new.state(new.in_service_at), InstanceState::InService);
        assert_eq!(new.health(new.in_service_at), Health::Unknown);
        assert_eq!(
            new.target(new.in_service_at).unwrap().0,
            TargetHealth::Initial
        );
        assert_eq!(new.health(new.ready_at), Health::Healthy);
        assert!(new.routed(new.ready_at));
        assert_eq!(new.revision.as_deref(), Some("r"));
        // The third instance goes to the AZ that had none.
        let azs: std::collections::BTreeSet<u8> = f.web.instances.iter().map(|i| i.az).collect();
        assert_eq!(azs.len(), 3);
        let act = &f.web.to_domain(T0).activities;
        assert_eq!(act.len(), 1);
        assert!(act[0].description.contains(&new.id));
        assert!(ev.out.iter().any(|r| {
            r.message()
                .contains("changing the desired capacity from 2 to 3")
        }));
    }

    #[test]
    fn capacity_bounds_are_enforced_and_named() {
        let mut f = fleet();
        let mut ev = Emit::for_command(T0, 0);
        let e = f
            .set_capacity(
                42,
                Tier::Web,
                Capacity {
                    min: 2,
                    desired: 12,
                    max: 10,
                },
                T0,
                None,
                &mut ev,
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "desired capacity 12 must be between min 2 and max 10"
        );
        let e = f
            .set_capacity(
                42,
                Tier::Web,
                Capacity {
                    min: 5,
                    desired: 5,
                    max: 4,
                },
                T0,
                None,
                &mut ev,
            )
            .unwrap_err();
        assert!(e.to_string().contains("min 5 is greater than max 4"), "{e}");
        let e = f
            .set_capacity(
                42,
                Tier::Web,
                Capacity {
                    min: 1,
                    desired: 1,
                    max: 99,
                },
                T0,
                None,
                &mut ev,
            )
            .unwrap_err();
        assert!(e.to_string().contains("limit of 20"), "{e}");
        let e = f
            .set_capacity(
                42,
                Tier::Database,
                Capacity {
                    min: 1,
                    desired: 1,
                    max: 1,
                },
                T0,
                None,
                &mut ev,
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("scalable tiers: web, bastion"),
            "{e}"
        );
        assert_eq!(f.web.capacity, WEB_CAPACITY, "unchanged after refusals");
    }

    #[test]
    fn scaling_in_terminates_through_draining() {
        let mut f = fleet();
        let mut ev = Emit::for_command(T0, 0);
        f.set_capacity(
            42,
            Tier::Web,
            Capacity {
                min: 1,
                desired: 1,
                max: 10,
            },
            T0,
            None,
            &mut ev,
        )
        .unwrap();
        let gone: Vec<&Inst> = f
            .web
            .instances
            .iter()
            .filter(|i| i.terminating_at.is_some())
            .collect();
        assert_eq!(gone.len(), 1);
        let g = gone[0];
        assert_eq!(g.state(T0), InstanceState::Terminating);
        assert_eq!(g.target(T0).unwrap().0, TargetHealth::Draining);
        let end = g.terminated_at.unwrap();
        assert!(end >= T0 + DEREGISTRATION_DELAY + 15 * SECOND);
        assert_eq!(g.state(end), InstanceState::Terminated);
        assert_eq!(f.web.live_count(T0), 1);
    }

    #[test]
    fn a_killed_instance_is_noticed_and_replaced() {
        let mut f = fleet();
        let mut ev = Emit::for_command(T0, 0);
        let msg = f.kill(42, T0, &mut ev).unwrap();
        let dead = f
            .web
            .instances
            .iter()
            .find(|i| i.failed_at.is_some())
            .unwrap()
            .clone();
        assert!(msg.contains(&dead.id));
        assert!(dead.routed(T0 + 10 * SECOND), "the ALB has not noticed yet");
        assert_eq!(
            dead.target(T0 + ALB_UNHEALTHY_AFTER).unwrap().0,
            TargetHealth::Unhealthy
        );
        let mut t = T0;
        while t < T0 + 2 * MINUTE {
            let mut ev = Emit::for_tick(t, Ms::MIN);
            f.process(42, t, t + super::super::clock::TICK, Some("r"), &mut ev);
            t += super::super::clock::TICK;
        }
        let dead_now = f.web.instances.iter().find(|i| i.id == dead.id).unwrap();
        assert_eq!(dead_now.health(t), Health::Unhealthy);
        assert!(matches!(
            dead_now.state(t),
            InstanceState::Terminating | InstanceState::Terminated
        ));
        assert_eq!(f.web.live_count(t), 2, "a replacement was launched");
    }

    #[test]
    fn killing_needs_a_healthy_instance_and_says_what_there_is() {
        let mut f = fleet();
        f.web.instances.clear();
        let mut ev = Emit::for_command(T0, 0);
        let e = f.kill(42, T0, &mut ev).unwrap_err();
        assert!(
            e.to_string().contains("no healthy in-service web instance"),
            "{e}"
        );
    }
}
