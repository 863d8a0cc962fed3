//! CodeDeploy in place, and the release pipeline around it.
//!
//! Two deployment groups: `demo-canary`, the one web instance tagged
//! `Canary=true` (`CodeDeployDefault.AllAtOnce`), and `demo`, the rest of the web
//! group (`CodeDeployDefault.OneAtATime`). A deployment takes its instances one
//! by one through the lifecycle hooks, out of the target group between
//! BlockTraffic and AllowTraffic; each group has its own deployment running at
//! most.
//!
//! A user's deployment is a release: the canary, a bake watching the
//! `p99-latency` and `5xx-rate` alarms (five virtual minutes), the fleet, a second
//! bake. A group rolls back by itself when its deployment fails or one of its
//! alarms goes to ALARM while it runs (CodeDeploy's auto-rollback); an alarm in
//! ALARM during a bake, or a failed stage, rolls the release back: the canary
//! and, if the release reached it, the fleet, each with a deployment of the
//! previous revision whose alarm monitoring is off, so the alarm still in ALARM
//! does not stop it. Every deployment belongs to one release: a release of its
//! own for an auto-update or an operator's rollback straight to both groups.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::clock::{Ms, SECOND, to_ts};
use super::fleet::{Fleet, Hold};
use super::logs::Emit;
use super::names;
use super::random::{Purpose, rng};
use crate::backend::BackendError;
use crate::domain::{
    AlarmState, Bake, DEMO_ENV, Deployment, DeploymentCreator, DeploymentStatus, DeploymentTarget,
    GroupKind, InstanceCounts, LIFECYCLE_EVENTS, LifecycleEvent, LogSource, ROLLBACK_OF, Release,
    ReleasePhase, RevisionInfo, RollbackRef, RollbackRequest, RollbackTarget, Severity, Stage,
    StageInfo, StageStatus, StepStatus, WatchedAlarm, bake_duration, watched_alarm_names,
};

/// From creation to the first hook.
pub const START_SECS: (i64, i64) = (3, 8);
/// Duration of each hook of [`LIFECYCLE_EVENTS`], in seconds. BlockTraffic waits
/// for the 30 s deregistration delay and CodeDeploy's polling; AllowTraffic for
/// registration and two passed health checks. One instance takes 3 to 6 minutes.
pub const HOOK_SECS: [(i64, i64); 13] = [
    (1, 3),
    (60, 120),
    (1, 3),
    (3, 8),
    (4, 12),
    (2, 6),
    (8, 20),
    (3, 10),
    (8, 20),
    (20, 45),
    (1, 3),
    (75, 150),
    (1, 3),
];
const BLOCK_TRAFFIC: usize = 1;
const INSTALL: usize = 6;
const ALLOW_TRAFFIC: usize = 11;
/// Deployments kept; the lifecycle detail only for the newest.
pub const KEEP_DEPLOYMENTS: usize = 80;
pub const KEEP_DETAIL: usize = 20;
/// Releases kept (those whose deployments are all still kept).
pub const KEEP_RELEASES: usize = 40;
const PIPELINE_STREAM: &str = "pipeline/demo";
/// Who rolls a release back when a bake sees an alarm.
pub const PIPELINE: &str = "release pipeline";

fn group_stream(group: GroupKind) -> String {
    format!("deployment-group/{}", group.group_name(DEMO_ENV))
}

/// A fault chaos puts into the next revision deployed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    #[default]
    None,
    /// Passes every hook, then fails half its requests once its instance is
    /// deployed: the canary's bake catches it.
    Faulty,
    /// Fine on one instance; fails half its requests once the whole fleet runs
    /// it: the fleet's bake catches it.
    AtScale,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub name: String,
    pub created: Ms,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    pub status: StepStatus,
    pub started: Option<Ms>,
    pub ended: Option<Ms>,
    pub diagnostic: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tgt {
    pub instance_id: String,
    pub status: StepStatus,
    pub hooks: Vec<Hook>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dep {
    pub id: String,
    pub n: u64,
    pub revision: String,
    pub creator: DeploymentCreator,
    pub initiated_by: Option<String>,
    pub description: String,
    pub created: Ms,
    pub completed: Option<Ms>,
    pub status: DeploymentStatus,
    pub rollback_of: Option<String>,
    pub rolled_back_by: Option<String>,
    pub error: Option<String>,
    pub group: GroupKind,
    /// Created with the group's alarm monitoring off (every rollback).
    pub ignores_alarms: bool,
    /// Ships the faulty build chaos asked for.
    pub fault: Fault,
    /// The release it is a stage or a rollback of.
    pub release: Option<String>,
    pub targets: Vec<Tgt>,
    /// When the state machine moves next: the start, or the running hook's end.
    pub next_at: Option<Ms>,
}

impl Dep {
    fn counts(&self) -> InstanceCounts {
        let mut c = InstanceCounts::default();
        for t in &self.targets {
            match t.status {
                StepStatus::Pending | StepStatus::Unknown => c.pending += 1,
                StepStatus::InProgress => c.in_progress += 1,
                StepStatus::Succeeded => c.succeeded += 1,
                StepStatus::Failed => c.failed += 1,
                StepStatus::Skipped => c.skipped += 1,
            }
        }
        c
    }

    pub fn to_domain(&self) -> Deployment {
        Deployment {
            id: self.id.clone(),
            status: self.status,
            revision: self.revision.clone(),
            creator: self.creator,
            initiated_by: self.initiated_by.clone(),
            created: to_ts(self.created),
            completed: self.completed.map(to_ts),
            rollback_of: self.rollback_of.clone(),
            rolled_back_by: self.rolled_back_by.clone(),
            error: self.error.clone(),
            instances: self.counts(),
            group: self.group.group_name(DEMO_ENV),
            ignores_alarms: self.ignores_alarms,
        }
    }

    pub fn targets_to_domain(&self) -> Vec<DeploymentTarget> {
        self.targets
            .iter()
            .map(|t| DeploymentTarget {
                instance_id: t.instance_id.clone(),
                status: t.status,
                events: t
                    .hooks
                    .iter()
                    .zip(LIFECYCLE_EVENTS)
                    .map(|(h, name)| LifecycleEvent {
                        name: name.to_string(),
                        status: h.status,
                        started: h.started.map(to_ts),
                        ended: h.ended.map(to_ts),
                        diagnostic: h.diagnostic.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    fn hook_duration(&self, seed: u64, target: usize, hook: usize) -> Ms {
        let (lo, hi) = HOOK_SECS[hook];
        rng(
            seed,
            Purpose::Deploy,
            self.n as i64,
            (target * 16 + hook) as u64,
        )
        .random_range(lo * SECOND..=hi * SECOND)
    }
}

/// A bake: how long, and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimBake {
    pub started: Ms,
    pub ends: Ms,
    pub status: StageStatus,
    pub ended: Option<Ms>,
    /// The watched alarms that were in ALARM when it failed.
    pub fired: Vec<String>,
}

impl SimBake {
    fn running(&self) -> bool {
        self.status == StageStatus::InProgress
    }

    fn to_domain(&self, alarms: &[WatchedAlarm]) -> Bake {
        Bake {
            duration_secs: (self.ends - self.started) / SECOND,
            ends: Some(to_ts(self.ends)),
            remaining_secs: None,
            alarms: match self.status {
                StageStatus::InProgress => alarms.to_vec(),
                _ => self
                    .fired
                    .iter()
                    .map(|name| WatchedAlarm {
                        name: name.clone(),
                        state: AlarmState::Alarm,
                    })
                    .collect(),
            },
        }
    }
}

/// A release: the canary's deployment, its bake, the fleet's, its bake; or, not
/// `staged`, one or two deployments without bakes (an auto-update, a rollback
/// straight to both groups).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rel {
    pub id: String,
    pub revision: String,
    /// What the fleet ran before: what a rollback restores.
    pub previous: Option<String>,
    pub creator: DeploymentCreator,
    pub initiated_by: Option<String>,
    pub description: String,
    pub created: Ms,
    pub fault: Fault,
    pub staged: bool,
    pub canary: Option<String>,
    pub fleet: Option<String>,
    pub canary_bake: Option<SimBake>,
    pub fleet_bake: Option<SimBake>,
    pub rollbacks: Vec<String>,
    pub rollback_of: Option<String>,
    /// How it ended: succeeded, failed, rolled back or stopped.
    pub end: Option<ReleasePhase>,
    pub completed: Option<Ms>,
    pub error: Option<String>,
}

impl Rel {
    fn dep_ids(&self) -> impl Iterator<Item = &String> {
        self.canary
            .iter()
            .chain(self.fleet.iter())
            .chain(self.rollbacks.iter())
    }

    fn running_bake(&mut self) -> Option<&mut SimBake> {
        self.canary_bake
            .as_mut()
            .filter(|b| b.running())
            .or(self.fleet_bake.as_mut().filter(|b| b.running()))
    }
}

fn agent_line(id: &str, n: u64, text: String) -> String {
    let pid = 3000 + n % 900;
    format!("codedeploy-agent[{pid}]: {text} (deployment {id})")
}

/// What a new deployment is for.
pub struct NewDeployment<'a> {
    pub revision: &'a str,
    pub description: &'a str,
    pub creator: DeploymentCreator,
    pub initiated_by: Option<&'a str>,
    pub rollback_of: Option<&'a str>,
    pub group: GroupKind,
    pub ignores_alarms: bool,
    pub fault: Fault,
    /// Only these instances (an auto-update of outdated instances); else all of
    /// the group in service.
    pub only: Option<&'a [String]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Newest first.
    pub revisions: Vec<Revision>,
    /// The revision of the fleet's last successful deployment.
    pub current: Option<String>,
    /// Newest first.
    pub deployments: Vec<Dep>,
    /// Newest first.
    pub releases: Vec<Rel>,
    /// Chaos: the next user deployment ships this fault.
    pub next_fault: Fault,
    pub counter: u64,
}

/// Which event of the pipeline comes next.
enum Next {
    Step(usize),
    BakeEnd(usize),
}

impl Delivery {
    pub fn new(revisions: Vec<Revision>, current: &str) -> Delivery {
        Delivery {
            revisions,
            current: Some(current.to_string()),
            deployments: Vec::new(),
            releases: Vec::new(),
            next_fault: Fault::None,
            counter: 0,
        }
    }

    /// The newest deployment still running, in either group.
    pub fn active(&self) -> Option<&Dep> {
        self.deployments.iter().find(|d| d.status.is_active())
    }

    fn active_in(&self, group: GroupKind) -> Option<&Dep> {
        self.deployments
            .iter()
            .find(|d| d.status.is_active() && d.group == group)
    }

    /// The release on its way: deploying, baking or rolling back.
    pub fn active_release(&self) -> Option<&Rel> {
        self.releases.iter().find(|r| {
            r.end.is_none()
                || r.rollbacks
                    .iter()
                    .any(|id| self.find(id).is_some_and(|d| d.status.is_active()))
        })
    }

    pub fn find(&self, id: &str) -> Option<&Dep> {
        self.deployments.iter().find(|d| d.id == id)
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut Dep> {
        self.deployments.iter_mut().find(|d| d.id == id)
    }

    fn release_mut(&mut self, id: &str) -> Option<&mut Rel> {
        self.releases.iter_mut().find(|r| r.id == id)
    }

    pub fn revision_infos(&self) -> Vec<RevisionInfo> {
        self.revisions
            .iter()
            .map(|r| RevisionInfo {
                name: r.name.clone(),
                created: to_ts(r.created),
                size_bytes: Some(r.size),
            })
            .collect()
    }

    fn check_revision(&self, revision: &str) -> Result<(), BackendError> {
        if self.revisions.iter().any(|r| r.name == revision) {
            return Ok(());
        }
        Err(BackendError::NotFound {
            what: "revision",
            id: revision.to_string(),
            choices: self.revisions.iter().map(|r| r.name.clone()).collect(),
        })
    }

    /// CreateDeployment's checks, and the pipeline's: a known revision, no
    /// release on its way and no deployment running.
    pub fn check_new(&self, revision: &str) -> Result<(), BackendError> {
        self.check_revision(revision)?;
        if let Some(r) = self.active_release() {
            return Err(BackendError::Invalid(format!(
                "release {} of {} is still {} in demo; wait for it to finish or roll it back",
                r.id,
                r.revision,
                self.phase_of(r).as_str()
            )));
        }
        if let Some(d) = self.active() {
            return Err(BackendError::Invalid(format!(
                "deployment {} of {} is still {} in deployment group {}; wait for it to finish or stop it",
                d.id,
                d.revision,
                d.status.as_str(),
                d.group.group_name(DEMO_ENV)
            )));
        }
        Ok(())
    }

    fn phase_of(&self, r: &Rel) -> ReleasePhase {
        let mut release = self.release_to_domain(r, &[]);
        release.settle(r.end, to_ts(0));
        release.phase
    }

    /// Starts a release of `revision`: the canary first.
    #[allow(clippy::too_many_arguments)]
    pub fn start_release(
        &mut self,
        seed: u64,
        t: Ms,
        revision: &str,
        description: &str,
        who: &str,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) -> String {
        let fault = std::mem::take(&mut self.next_fault);
        let id = self.create(
            seed,
            t,
            NewDeployment {
                revision,
                description,
                creator: DeploymentCreator::User,
                initiated_by: Some(who),
                rollback_of: None,
                group: GroupKind::Canary,
                ignores_alarms: false,
                fault,
                only: None,
            },
            fleet,
            ev,
        );
        self.releases.insert(
            0,
            Rel {
                id: id.clone(),
                revision: revision.to_string(),
                previous: self.current.clone(),
                creator: DeploymentCreator::User,
                initiated_by: Some(who.to_string()),
                description: description.to_string(),
                created: t,
                fault,
                staged: true,
                canary: Some(id.clone()),
                fleet: None,
                canary_bake: None,
                fleet_bake: None,
                rollbacks: vec![],
                rollback_of: None,
                end: None,
                completed: None,
                error: None,
            },
        );
        if let Some(d) = self.find_mut(&id) {
            d.release = Some(id.clone());
        }
        ev.info(t, LogSource::CodeDeploy, PIPELINE_STREAM, || {
            format!(
                "Release {id} of {revision} started: canary, bake {} min, fleet, bake {} min; watching {}",
                bake_duration(DEMO_ENV).num_minutes(),
                bake_duration(DEMO_ENV).num_minutes(),
                watched_alarm_names(DEMO_ENV).join(", ")
            )
        });
        self.after_create(seed, t, &id, fleet, ev);
        self.trim();
        id
    }

    /// Tags the canary: the instance tagged `Canary=true` while it is deployable,
    /// else the oldest deployable web instance.
    fn designate_canary(fleet: &mut Fleet, t: Ms, ev: &mut Emit) {
        if fleet
            .web
            .instances
            .iter()
            .any(|i| i.canary && i.deployable(t))
        {
            return;
        }
        let pick = fleet
            .web
            .instances
            .iter()
            .filter(|i| i.deployable(t))
            .min_by_key(|i| i.n)
            .map(|i| i.id.clone());
        for i in &mut fleet.web.instances {
            i.canary = Some(&i.id) == pick.as_ref();
        }
        if let Some(id) = pick {
            ev.info(t, LogSource::System, &id, || {
                format!("ec2: tags of {id} set: Canary=true (deployment group demo-canary)")
            });
        }
    }

    /// Creates a deployment at `t`, its targets the group's in-service instances.
    /// A rollback of a release's deployment joins that release.
    fn create(
        &mut self,
        seed: u64,
        t: Ms,
        new: NewDeployment,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) -> String {
        self.counter += 1;
        let n = self.counter;
        let id = names::deployment_id(seed, n);
        if new.group == GroupKind::Canary {
            Self::designate_canary(fleet, t, ev);
        }
        let mut instances: Vec<&super::fleet::Inst> = fleet
            .web
            .instances
            .iter()
            .filter(|i| i.deployable(t))
            .filter(|i| i.canary == (new.group == GroupKind::Canary))
            .filter(|i| new.only.is_none_or(|only| only.contains(&i.id)))
            .collect();
        if new.creator == DeploymentCreator::Rollback {
            // Instances out of service first, then those running the bad build.
            instances.sort_by_key(|i| (i.routed(t), !i.faulty, i.n));
        } else {
            instances.sort_by_key(|i| i.n);
        }
        let targets: Vec<Tgt> = instances
            .iter()
            .map(|i| Tgt {
                instance_id: i.id.clone(),
                status: StepStatus::Pending,
                hooks: vec![
                    Hook {
                        status: StepStatus::Pending,
                        started: None,
                        ended: None,
                        diagnostic: None,
                    };
                    LIFECYCLE_EVENTS.len()
                ],
            })
            .collect();
        let release = new
            .rollback_of
            .and_then(|of| self.find(of))
            .and_then(|d| d.release.clone());
        let group_name = new.group.group_name(DEMO_ENV);
        let mut dep = Dep {
            id: id.clone(),
            n,
            revision: new.revision.to_string(),
            creator: new.creator,
            initiated_by: new.initiated_by.map(str::to_string),
            description: new.description.to_string(),
            created: t,
            completed: None,
            status: DeploymentStatus::Created,
            rollback_of: new.rollback_of.map(str::to_string),
            rolled_back_by: None,
            error: None,
            group: new.group,
            ignores_alarms: new.ignores_alarms,
            fault: new.fault,
            release: release.clone(),
            targets,
            next_at: None,
        };
        let stream = group_stream(new.group);
        ev.info(t, LogSource::CodeDeploy, &stream, || {
            format!(
                "Deployment {id} created ({}{}): revision {}, {}, {} instance(s){}: {}",
                match new.creator {
                    DeploymentCreator::Rollback => "rollback",
                    DeploymentCreator::Autoscaling => "autoscaling",
                    _ => "user",
                },
                new.initiated_by
                    .map(|w| format!(" by {w}"))
                    .unwrap_or_default(),
                new.revision,
                new.group.config(),
                dep.targets.len(),
                if new.ignores_alarms {
                    ", alarm monitoring overridden off"
                } else {
                    ""
                },
                new.description
            )
        });
        if dep.targets.is_empty() {
            dep.status = DeploymentStatus::Failed;
            dep.completed = Some(t);
            dep.error = Some(
                "NO_INSTANCES: The deployment failed because no instances were found for your deployment group."
                    .to_string(),
            );
            ev.text(t, LogSource::CodeDeploy, &stream, Severity::Error, || {
                format!(
                    "Deployment {id} failed: no in-service instances in deployment group {group_name}"
                )
            });
        } else {
            let (lo, hi) = START_SECS;
            dep.next_at = Some(
                t + rng(seed, Purpose::Deploy, n as i64, 0xFFFF)
                    .random_range(lo * SECOND..=hi * SECOND),
            );
        }
        self.deployments.insert(0, dep);
        if let (Some(rid), Some(_)) = (release, new.rollback_of) {
            self.attach_rollback(&rid, &id, t);
        }
        id
    }

    /// A rollback deployment joins its release, which is rolled back from now on.
    fn attach_rollback(&mut self, rid: &str, id: &str, t: Ms) {
        let Some(r) = self.release_mut(rid) else {
            return;
        };
        if !r.rollbacks.iter().any(|x| x == id) {
            r.rollbacks.push(id.to_string());
        }
        if matches!(r.end, None | Some(ReleasePhase::Stopped)) {
            r.end = Some(ReleasePhase::RolledBack);
        }
        r.completed = None;
        if let Some(b) = r.running_bake() {
            b.status = StageStatus::RolledBack;
            b.ended = Some(t);
        }
    }

    /// A deployment that failed as it was created ends at once.
    fn after_create(&mut self, seed: u64, t: Ms, id: &str, fleet: &mut Fleet, ev: &mut Emit) {
        if self.find(id).is_some_and(|d| !d.status.is_active()) {
            self.finished(seed, t, id, fleet, ev);
        }
    }

    fn trim(&mut self) {
        self.deployments.truncate(KEEP_DEPLOYMENTS);
        for d in self.deployments.iter_mut().skip(KEEP_DETAIL) {
            for t in &mut d.targets {
                t.hooks.clear();
            }
        }
        let deployments = &self.deployments;
        self.releases.retain(|r| {
            r.dep_ids()
                .all(|id| deployments.iter().any(|d| &d.id == id))
        });
        self.releases.truncate(KEEP_RELEASES);
    }

    /// Moves every deployment and bake through the steps due before `t1`, in
    /// time order.
    pub fn process(&mut self, seed: u64, t1: Ms, fleet: &mut Fleet, ev: &mut Emit) {
        loop {
            let step = self
                .deployments
                .iter()
                .enumerate()
                .filter(|(_, d)| d.status.is_active())
                .filter_map(|(k, d)| d.next_at.map(|at| (at, Next::Step(k))));
            let bakes = self.releases.iter().enumerate().filter_map(|(k, r)| {
                let b = r
                    .canary_bake
                    .as_ref()
                    .filter(|b| b.running())
                    .or(r.fleet_bake.as_ref().filter(|b| b.running()))?;
                Some((b.ends, Next::BakeEnd(k)))
            });
            let Some((at, next)) = step.chain(bakes).min_by_key(|(at, _)| *at) else {
                break;
            };
            if at >= t1 {
                break;
            }
            match next {
                Next::Step(k) => self.step(seed, k, at, fleet, ev),
                Next::BakeEnd(k) => self.bake_done(seed, k, at, fleet, ev),
            }
        }
    }

    fn step(&mut self, seed: u64, k: usize, at: Ms, fleet: &mut Fleet, ev: &mut Emit) {
        let d = &mut self.deployments[k];
        let stream = group_stream(d.group);
        if d.status == DeploymentStatus::Created {
            d.status = DeploymentStatus::InProgress;
            let id = d.id.clone();
            ev.info(at, LogSource::CodeDeploy, &stream, || {
                format!("Deployment {id} in progress")
            });
        }
        loop {
            let d = &mut self.deployments[k];
            let Some(ti) = d
                .targets
                .iter()
                .position(|t| matches!(t.status, StepStatus::InProgress | StepStatus::Pending))
            else {
                d.status = DeploymentStatus::Succeeded;
                d.completed = Some(at);
                d.next_at = None;
                let (id, rev) = (d.id.clone(), d.revision.clone());
                let group = d.group.group_name(DEMO_ENV);
                ev.info(at, LogSource::CodeDeploy, &stream, || {
                    format!("Deployment {id} succeeded: {rev} is live on every instance of {group}")
                });
                self.finished(seed, at, &id, fleet, ev);
                return;
            };
            let inst_id = d.targets[ti].instance_id.clone();
            let usable = fleet
                .web
                .instances
                .iter()
                .any(|i| i.id == inst_id && i.live(at) && i.alive(at));
            if d.targets[ti].status == StepStatus::Pending {
                if !usable {
                    let t = &mut d.targets[ti];
                    t.status = StepStatus::Skipped;
                    for h in &mut t.hooks {
                        h.status = StepStatus::Skipped;
                    }
                    continue;
                }
                d.targets[ti].status = StepStatus::InProgress;
                self.start_hook(seed, k, ti, 0, at, fleet, ev);
                return;
            }
            let Some(hi) = d.targets[ti]
                .hooks
                .iter()
                .position(|h| h.status == StepStatus::InProgress)
            else {
                d.targets[ti].status = StepStatus::Succeeded;
                continue;
            };
            if !usable {
                let error = format!(
                    "INSTANCE_FAILURE: instance {inst_id} was terminated during {}; the overall deployment failed because too many individual instances failed deployment",
                    LIFECYCLE_EVENTS[hi]
                );
                self.fail(seed, k, at, &error, true, fleet, ev);
                return;
            }
            let hook = &mut d.targets[ti].hooks[hi];
            hook.status = StepStatus::Succeeded;
            hook.ended = Some(at);
            let took = (at - hook.started.unwrap_or(at)) as f64 / 1000.0;
            let (id, n, rev, fault) = (d.id.clone(), d.n, d.revision.clone(), d.fault);
            ev.info(at, LogSource::CodeDeploy, &inst_id, || {
                agent_line(&id, n, format!("[Aws::CodeDeployPlugin::CommandExecutor] lifecycle event {} succeeded in {took:.1}s", LIFECYCLE_EVENTS[hi]))
            });
            if let Some(inst) = fleet.web_instance_mut(&inst_id) {
                match hi {
                    BLOCK_TRAFFIC => inst.hold = Some(Hold::Out),
                    INSTALL => {
                        inst.revision = Some(rev.clone());
                        inst.faulty = false;
                    }
                    ALLOW_TRAFFIC => inst.hold = None,
                    // The faulty build shows once its instance is deployed.
                    h if h + 1 == LIFECYCLE_EVENTS.len() => inst.faulty = fault == Fault::Faulty,
                    _ => {}
                }
            }
            if hi + 1 < LIFECYCLE_EVENTS.len() {
                self.start_hook(seed, k, ti, hi + 1, at, fleet, ev);
                return;
            }
            let d = &mut self.deployments[k];
            d.targets[ti].status = StepStatus::Succeeded;
            let id = d.id.clone();
            ev.info(at, LogSource::CodeDeploy, &stream, || {
                format!("Deployment {id}: instance {inst_id} succeeded")
            });
        }
    }

    /// A deployment ended (succeeded, failed or stopped): the fleet's revision
    /// moves on, outdated instances are updated, and its release goes on, ends
    /// or is rolled back.
    fn finished(&mut self, seed: u64, at: Ms, id: &str, fleet: &mut Fleet, ev: &mut Emit) {
        let Some(d) = self.find(id) else {
            return;
        };
        let (status, group, revision, rolled_back, error, release) = (
            d.status,
            d.group,
            d.revision.clone(),
            d.rolled_back_by.is_some(),
            d.error.clone(),
            d.release.clone(),
        );
        if status == DeploymentStatus::Succeeded && group == GroupKind::Fleet {
            self.current = Some(revision.clone());
            self.update_outdated(seed, at, id, &revision, fleet, ev);
        }
        let Some(rid) = release else {
            return;
        };
        let Some(r) = self.releases.iter().find(|r| r.id == rid) else {
            return;
        };
        let (staged, canary, fleet_dep, rollbacks, fault) = (
            r.staged,
            r.canary.clone(),
            r.fleet.clone(),
            r.rollbacks.clone(),
            r.fault,
        );
        let done = |d: &Delivery, ids: &[&String]| {
            ids.iter()
                .all(|id| d.find(id).is_none_or(|d| !d.status.is_active()))
        };
        if rollbacks.iter().any(|x| x == id) {
            if done(self, &rollbacks.iter().collect::<Vec<_>>()) {
                let ok = rollbacks.iter().all(|x| {
                    self.find(x)
                        .is_some_and(|d| d.status == DeploymentStatus::Succeeded)
                });
                if let Some(r) = self.release_mut(&rid) {
                    r.completed = Some(at);
                    if !ok {
                        r.end = Some(ReleasePhase::Failed);
                    }
                }
                ev.info(at, LogSource::CodeDeploy, PIPELINE_STREAM, || {
                    if ok {
                        format!("Release {rid} rolled back")
                    } else {
                        format!("Release {rid}: its rollback failed; see deployment {id}")
                    }
                });
            }
            return;
        }
        if !staged {
            let stages: Vec<&String> = canary.iter().chain(fleet_dep.iter()).collect();
            if done(self, &stages) {
                let ok = stages.iter().all(|x| {
                    self.find(x)
                        .is_some_and(|d| d.status == DeploymentStatus::Succeeded)
                });
                if let Some(r) = self.release_mut(&rid) {
                    r.end = Some(if ok {
                        ReleasePhase::Succeeded
                    } else {
                        ReleasePhase::Failed
                    });
                    r.completed = Some(at);
                    if !ok {
                        r.error = error;
                    }
                }
            }
            return;
        }
        let bake = || SimBake {
            started: at,
            ends: at + bake_duration(DEMO_ENV).num_milliseconds(),
            status: StageStatus::InProgress,
            ended: None,
            fired: vec![],
        };
        let is_canary = canary.as_deref() == Some(id);
        let ended = self.releases.iter().any(|r| r.id == rid && r.end.is_some());
        match status {
            DeploymentStatus::Succeeded if !ended => {
                if let Some(r) = self.release_mut(&rid) {
                    if is_canary {
                        r.canary_bake = Some(bake());
                    } else {
                        r.fleet_bake = Some(bake());
                    }
                }
                if !is_canary && fault == Fault::AtScale {
                    for i in &mut fleet.web.instances {
                        if i.revision.as_deref() == Some(revision.as_str()) {
                            i.faulty = true;
                        }
                    }
                }
                let what = if is_canary { "canary" } else { "fleet" };
                ev.info(at, LogSource::CodeDeploy, PIPELINE_STREAM, || {
                    format!(
                        "Release {rid}: {what} deployed; baking {} min, watching {}",
                        bake_duration(DEMO_ENV).num_minutes(),
                        watched_alarm_names(DEMO_ENV).join(", ")
                    )
                });
            }
            DeploymentStatus::Succeeded => {}
            _ => {
                let cause = error.unwrap_or_else(|| "the deployment failed".into());
                if let Some(r) = self.release_mut(&rid) {
                    r.error.get_or_insert(cause.clone());
                    if r.end.is_none() {
                        r.end = Some(if rolled_back {
                            ReleasePhase::RolledBack
                        } else if status == DeploymentStatus::Stopped {
                            ReleasePhase::Stopped
                        } else {
                            ReleasePhase::Failed
                        });
                        r.completed = Some(at);
                    }
                }
                // The fleet rolled back by CodeDeploy: the canary goes back too.
                if !is_canary
                    && rolled_back
                    && let Some(c) = canary
                {
                    self.roll_back_release_groups(
                        seed,
                        at,
                        &rid,
                        &[(GroupKind::Canary, c)],
                        &cause,
                        fleet,
                        ev,
                    );
                }
            }
        }
    }

    /// A bake ran its time without an alarm: the fleet comes next, or the
    /// release is done.
    fn bake_done(&mut self, seed: u64, k: usize, at: Ms, fleet: &mut Fleet, ev: &mut Emit) {
        let r = &mut self.releases[k];
        let canary_stage = r.canary_bake.as_ref().is_some_and(|b| b.running());
        if let Some(b) = r.running_bake() {
            b.status = StageStatus::Succeeded;
            b.ended = Some(at);
        }
        let (rid, revision, description, who, fault) = (
            r.id.clone(),
            r.revision.clone(),
            r.description.clone(),
            r.initiated_by.clone(),
            r.fault,
        );
        if !canary_stage {
            r.end = Some(ReleasePhase::Succeeded);
            r.completed = Some(at);
            ev.info(at, LogSource::CodeDeploy, PIPELINE_STREAM, || {
                format!("Release {rid} of {revision} succeeded: the fleet baked without an alarm")
            });
            return;
        }
        ev.info(at, LogSource::CodeDeploy, PIPELINE_STREAM, || {
            format!("Release {rid}: the canary baked without an alarm; deploying to the fleet")
        });
        let description = format!("{description} (fleet)");
        let id = self.create(
            seed,
            at,
            NewDeployment {
                revision: &revision,
                description: &description,
                creator: DeploymentCreator::User,
                initiated_by: who.as_deref(),
                rollback_of: None,
                group: GroupKind::Fleet,
                ignores_alarms: false,
                fault,
                only: None,
            },
            fleet,
            ev,
        );
        if let Some(d) = self.find_mut(&id) {
            d.release = Some(rid.clone());
        }
        if let Some(r) = self.release_mut(&rid) {
            r.fleet = Some(id.clone());
        }
        self.after_create(seed, at, &id, fleet, ev);
        self.trim();
    }

    /// Instances Auto Scaling launched while a deployment ran got the revision
    /// live at their launch. As CodeDeploy does with the deployment group's
    /// default outdated-instances strategy (UPDATE), a follow-on deployment brings
    /// them to the revision that just succeeded: a release of its own.
    fn update_outdated(
        &mut self,
        seed: u64,
        at: Ms,
        root: &str,
        revision: &str,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) {
        if self.active_in(GroupKind::Fleet).is_some() {
            return;
        }
        let outdated: Vec<String> = fleet
            .web
            .instances
            .iter()
            .filter(|i| i.deployable(at) && !i.canary)
            .filter(|i| i.revision.as_deref() != Some(revision))
            .map(|i| i.id.clone())
            .collect();
        if outdated.is_empty() {
            return;
        }
        let description = format!(
            "Auto-update of {} outdated instance(s) launched during {root}",
            outdated.len()
        );
        let id = self.create(
            seed,
            at,
            NewDeployment {
                revision,
                description: &description,
                creator: DeploymentCreator::Autoscaling,
                initiated_by: None,
                rollback_of: None,
                group: GroupKind::Fleet,
                ignores_alarms: false,
                fault: Fault::None,
                only: Some(&outdated),
            },
            fleet,
            ev,
        );
        self.single_release(std::slice::from_ref(&id), None);
        self.after_create(seed, at, &id, fleet, ev);
        self.trim();
    }

    /// A release without bakes for deployments `ids` (one per group, the first
    /// naming it): an auto-update, or a rollback straight to both groups.
    fn single_release(&mut self, ids: &[String], rollback_of: Option<&str>) {
        let Some(d) = ids.first().and_then(|id| self.find(id)) else {
            return;
        };
        let in_group = |g: GroupKind| {
            ids.iter()
                .find(|id| self.find(id).is_some_and(|d| d.group == g))
                .cloned()
        };
        let rel = Rel {
            id: d.id.clone(),
            revision: d.revision.clone(),
            previous: self.current.clone(),
            creator: d.creator,
            initiated_by: d.initiated_by.clone(),
            description: d.description.clone(),
            created: d.created,
            fault: d.fault,
            staged: false,
            canary: in_group(GroupKind::Canary),
            fleet: in_group(GroupKind::Fleet),
            canary_bake: None,
            fleet_bake: None,
            rollbacks: vec![],
            rollback_of: rollback_of.map(str::to_string),
            end: None,
            completed: None,
            error: None,
        };
        for x in ids {
            if let Some(d) = self.find_mut(x) {
                d.release = Some(rel.id.clone());
            }
        }
        self.releases.insert(0, rel);
    }

    #[allow(clippy::too_many_arguments)]
    fn start_hook(
        &mut self,
        seed: u64,
        k: usize,
        ti: usize,
        hi: usize,
        at: Ms,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) {
        let d = &mut self.deployments[k];
        let took = d.hook_duration(seed, ti, hi);
        let hook = &mut d.targets[ti].hooks[hi];
        hook.status = StepStatus::InProgress;
        hook.started = Some(at);
        d.next_at = Some(at + took);
        let inst_id = d.targets[ti].instance_id.clone();
        let (id, n) = (d.id.clone(), d.n);
        ev.info(at, LogSource::CodeDeploy, &inst_id, || {
            agent_line(
                &id,
                n,
                format!(
                    "[Aws::CodeDeployPlugin::CommandExecutor] executing lifecycle event {}",
                    LIFECYCLE_EVENTS[hi]
                ),
            )
        });
        if let Some(inst) = fleet.web_instance_mut(&inst_id) {
            match hi {
                BLOCK_TRAFFIC if inst.hold.is_none() => {
                    inst.hold = Some(Hold::Draining { since: at });
                }
                ALLOW_TRAFFIC => inst.hold = Some(Hold::Registering { since: at }),
                _ => {}
            }
        }
    }

    /// Ends the active deployment `k` as failed (or stopped) and rolls back its
    /// group when asked and a good revision exists.
    #[allow(clippy::too_many_arguments)]
    fn end(
        &mut self,
        seed: u64,
        k: usize,
        at: Ms,
        status: DeploymentStatus,
        error: &str,
        rollback: bool,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) {
        let d = &mut self.deployments[k];
        d.status = status;
        d.completed = Some(at);
        d.error = Some(error.to_string());
        d.next_at = None;
        let group = d.group;
        let stream = group_stream(group);
        let mut held = Vec::new();
        for t in &mut d.targets {
            match t.status {
                StepStatus::InProgress => {
                    t.status = StepStatus::Failed;
                    held.push(t.instance_id.clone());
                    let mut failed = false;
                    for h in &mut t.hooks {
                        if h.status == StepStatus::InProgress {
                            h.status = StepStatus::Failed;
                            h.ended = Some(at);
                            h.diagnostic = Some(error.to_string());
                            failed = true;
                        } else if failed || h.status == StepStatus::Pending {
                            h.status = StepStatus::Skipped;
                        }
                    }
                }
                StepStatus::Pending => {
                    t.status = StepStatus::Skipped;
                    for h in &mut t.hooks {
                        h.status = StepStatus::Skipped;
                    }
                }
                _ => {}
            }
        }
        let (id, failed_rev) = (d.id.clone(), d.revision.clone());
        ev.text(at, LogSource::CodeDeploy, &stream, Severity::Error, || {
            format!("Deployment {id} {}: {error}", status.as_str())
        });
        for inst_id in &held {
            ev.text(at, LogSource::CodeDeploy, inst_id, Severity::Error, || {
                agent_line(&id, d.n, format!("[ERROR] [Aws::CodeDeployPlugin::CommandPoller] lifecycle event aborted: {error}"))
            });
        }
        // Only a user's deployment rolls back: a failed rollback or auto-update
        // would redeploy the very revision it was deploying, again and again.
        let own = d.creator == DeploymentCreator::User || d.creator == DeploymentCreator::Other;
        let good = self.current.clone().filter(|_| rollback && own);
        match good {
            Some(revision) => {
                let description =
                    format!("{ROLLBACK_OF}{id}: {failed_rev} failed; back to {revision}");
                // CodeDeploy's own rollback: not watched by the alarms either.
                let new = self.create(
                    seed,
                    at,
                    NewDeployment {
                        revision: &revision,
                        description: &description,
                        creator: DeploymentCreator::Rollback,
                        initiated_by: None,
                        rollback_of: Some(&id),
                        group,
                        ignores_alarms: true,
                        fault: Fault::None,
                        only: None,
                    },
                    fleet,
                    ev,
                );
                if let Some(d) = self.find_mut(&id) {
                    d.rolled_back_by = Some(new.clone());
                }
                self.trim();
                self.finished(seed, at, &id, fleet, ev);
                self.after_create(seed, at, &new, fleet, ev);
            }
            None => {
                // Without a rollback, instances left out of the target group are
                // registered again with whatever they run now.
                for inst_id in held {
                    if let Some(i) = fleet.web_instance_mut(&inst_id)
                        && i.hold.is_some()
                    {
                        i.hold = Some(Hold::Registering { since: at });
                    }
                }
                self.finished(seed, at, &id, fleet, ev);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        seed: u64,
        k: usize,
        at: Ms,
        error: &str,
        rollback: bool,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) {
        self.end(
            seed,
            k,
            at,
            DeploymentStatus::Failed,
            error,
            rollback,
            fleet,
            ev,
        );
    }

    /// After each evaluation of the alarms: a watched alarm in ALARM stops the
    /// running deployments that watch alarms (CodeDeploy rolls their group
    /// back), and fails a bake in progress, which rolls its release back.
    /// Deployments created with the alarms overridden off (every rollback) go on:
    /// a rollback must not be stopped by the alarm it answers.
    pub fn on_alarms(
        &mut self,
        seed: u64,
        t: Ms,
        firing: &[String],
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) {
        let names = watched_alarm_names(DEMO_ENV);
        let watched: Vec<String> = firing
            .iter()
            .filter(|name| names.contains(name))
            .cloned()
            .collect();
        if watched.is_empty() {
            return;
        }
        let list = watched.join(", ");
        let error = format!(
            "ALARM_ACTIVE: One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <{list}>"
        );
        let watching: Vec<String> = self
            .deployments
            .iter()
            .filter(|d| d.status.is_active() && !d.ignores_alarms)
            .map(|d| d.id.clone())
            .collect();
        for id in watching {
            if let Some(k) = self
                .deployments
                .iter()
                .position(|d| d.id == id && d.status.is_active())
            {
                self.fail(seed, k, t, &error, true, fleet, ev);
            }
        }
        let baking: Vec<String> = self
            .releases
            .iter()
            .filter(|r| r.end.is_none())
            .filter(|r| {
                r.canary_bake.as_ref().is_some_and(|b| b.running())
                    || r.fleet_bake.as_ref().is_some_and(|b| b.running())
            })
            .map(|r| r.id.clone())
            .collect();
        for rid in baking {
            let Some(r) = self.release_mut(&rid) else {
                continue;
            };
            let canary_stage = r.canary_bake.as_ref().is_some_and(|b| b.running());
            if let Some(b) = r.running_bake() {
                b.status = StageStatus::Failed;
                b.ended = Some(t);
                b.fired = watched.clone();
            }
            let what = if canary_stage { "canary" } else { "fleet" };
            let cause = format!("ALARM_ACTIVE during the {what} bake: {list}");
            let mut groups = vec![];
            if let Some(c) = r.canary.clone() {
                groups.push((GroupKind::Canary, c));
            }
            if !canary_stage && let Some(f) = r.fleet.clone() {
                groups.push((GroupKind::Fleet, f));
            }
            ev.text(
                t,
                LogSource::CodeDeploy,
                PIPELINE_STREAM,
                Severity::Error,
                || format!("Release {rid}: {cause}; rolling back"),
            );
            self.roll_back_release_groups(seed, t, &rid, &groups, &cause, fleet, ev);
        }
    }

    /// The pipeline's rollback of release `rid`: its previous revision to
    /// `groups`, each rolling back the given deployment, alarms overridden off.
    #[allow(clippy::too_many_arguments)]
    fn roll_back_release_groups(
        &mut self,
        seed: u64,
        t: Ms,
        rid: &str,
        groups: &[(GroupKind, String)],
        cause: &str,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) {
        let Some(r) = self.release_mut(rid) else {
            return;
        };
        r.error.get_or_insert(cause.to_string());
        let Some(previous) = r.previous.clone() else {
            r.end = Some(ReleasePhase::Failed);
            r.completed = Some(t);
            return;
        };
        let (revision, failed_rev) = (previous, r.revision.clone());
        let stop: Vec<String> = groups
            .iter()
            .filter_map(|(g, _)| self.active_in(*g).map(|d| d.id.clone()))
            .collect();
        let request = RollbackRequest {
            revision: revision.clone(),
            stop,
            targets: groups
                .iter()
                .map(|(g, of)| RollbackTarget {
                    group: *g,
                    rollback_of: Some(of.clone()),
                })
                .collect(),
            description: format!("release {rid} of {failed_rev} back to {revision}: {cause}"),
        };
        if let Err(e) = self.roll_back(seed, t, &request, PIPELINE, fleet, ev) {
            ev.text(
                t,
                LogSource::CodeDeploy,
                PIPELINE_STREAM,
                Severity::Error,
                || format!("Release {rid}: the rollback could not start: {e}"),
            );
        }
    }

    /// Stops `request.stop`, then deploys `request.revision` to each target
    /// group with the alarm monitoring overridden off. A rollback of a release's
    /// deployment joins that release; one without (an operator's rollback with
    /// nothing on its way) is a release of its own.
    #[allow(clippy::too_many_arguments)]
    pub fn roll_back(
        &mut self,
        seed: u64,
        t: Ms,
        request: &RollbackRequest,
        who: &str,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) -> Result<Vec<String>, BackendError> {
        self.check_revision(&request.revision)?;
        if request.targets.is_empty() {
            return Err(BackendError::Invalid(
                "a rollback needs at least one deployment group".into(),
            ));
        }
        for (k, target) in request.targets.iter().enumerate() {
            if request.targets[..k].iter().any(|x| x.group == target.group) {
                return Err(BackendError::Invalid(format!(
                    "deployment group {} is named twice in the rollback",
                    target.group.group_name(DEMO_ENV)
                )));
            }
            if let Some(of) = &target.rollback_of
                && self.find(of).is_none()
            {
                return Err(BackendError::NotFound {
                    what: "deployment",
                    id: of.clone(),
                    choices: self
                        .deployments
                        .iter()
                        .take(10)
                        .map(|d| d.id.clone())
                        .collect(),
                });
            }
            if let Some(d) = self.active_in(target.group)
                && !request.stop.contains(&d.id)
            {
                return Err(BackendError::Invalid(format!(
                    "deployment {} is running in deployment group {}; stop it first",
                    d.id,
                    target.group.group_name(DEMO_ENV)
                )));
            }
        }
        for id in &request.stop {
            match self.find(id) {
                Some(d) if d.status.is_active() => {}
                Some(d) => {
                    return Err(BackendError::Invalid(format!(
                        "deployment {id} already {}; nothing to stop",
                        d.status.as_str()
                    )));
                }
                None => {
                    return Err(BackendError::NotFound {
                        what: "deployment",
                        id: id.clone(),
                        choices: self
                            .deployments
                            .iter()
                            .filter(|d| d.status.is_active())
                            .map(|d| d.id.clone())
                            .collect(),
                    });
                }
            }
        }
        for id in &request.stop {
            if let Some(k) = self
                .deployments
                .iter()
                .position(|d| &d.id == id && d.status.is_active())
            {
                let error =
                    format!("MANUAL_STOP: the deployment was stopped by {who} for a rollback");
                self.end(
                    seed,
                    k,
                    t,
                    DeploymentStatus::Stopped,
                    &error,
                    false,
                    fleet,
                    ev,
                );
            }
        }
        let mut ids = Vec::new();
        for target in &request.targets {
            let description = request.description_for(target);
            let id = self.create(
                seed,
                t,
                NewDeployment {
                    revision: &request.revision,
                    description: &description,
                    creator: DeploymentCreator::Rollback,
                    initiated_by: Some(who),
                    rollback_of: target.rollback_of.as_deref(),
                    group: target.group,
                    ignores_alarms: true,
                    fault: Fault::None,
                    only: None,
                },
                fleet,
                ev,
            );
            if let Some(of) = &target.rollback_of
                && let Some(d) = self.find_mut(of)
            {
                d.rolled_back_by = Some(id.clone());
            }
            ids.push(id);
        }
        let joined = self.find(&ids[0]).is_some_and(|d| d.release.is_some());
        if !joined {
            let of = request.targets[0].rollback_of.clone();
            self.single_release(&ids, of.as_deref());
        }
        for id in &ids {
            self.after_create(seed, t, id, fleet, ev);
        }
        self.trim();
        Ok(ids)
    }

    /// StopDeployment, optionally rolling back.
    #[allow(clippy::too_many_arguments)]
    pub fn stop(
        &mut self,
        seed: u64,
        t: Ms,
        id: &str,
        rollback: bool,
        who: &str,
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) -> Result<(), BackendError> {
        let active: Vec<String> = self
            .deployments
            .iter()
            .filter(|d| d.status.is_active())
            .map(|d| d.id.clone())
            .collect();
        let Some(k) = self.deployments.iter().position(|d| d.id == id) else {
            if active.is_empty() {
                return Err(BackendError::Invalid(format!(
                    "no deployment is running in demo to stop ('{id}' is not one of its deployments)"
                )));
            }
            return Err(BackendError::NotFound {
                what: "deployment",
                id: id.to_string(),
                choices: active,
            });
        };
        let d = &self.deployments[k];
        if !d.status.is_active() {
            return Err(BackendError::Invalid(format!(
                "deployment {id} already {}; only a running deployment can be stopped ({})",
                d.status.as_str(),
                if active.is_empty() {
                    "none is running".to_string()
                } else {
                    format!("running: {}", active.join(", "))
                }
            )));
        }
        let error = format!(
            "MANUAL_STOP: the deployment was stopped by {who}{}",
            if rollback { " with rollback" } else { "" }
        );
        self.end(
            seed,
            k,
            t,
            DeploymentStatus::Stopped,
            &error,
            rollback,
            fleet,
            ev,
        );
        Ok(())
    }

    // Reads.

    /// The newest `limit` releases, with `alarms` (the watched ones now) on a
    /// bake in progress.
    pub fn releases_to_domain(
        &self,
        limit: usize,
        alarms: &[WatchedAlarm],
        now: Ms,
    ) -> Vec<Release> {
        self.releases
            .iter()
            .take(limit)
            .map(|r| {
                let mut release = self.release_to_domain(r, alarms);
                release.settle(r.end, to_ts(now));
                release
            })
            .collect()
    }

    fn release_to_domain(&self, r: &Rel, alarms: &[WatchedAlarm]) -> Release {
        let rolled_back = |group: GroupKind| {
            r.rollbacks
                .iter()
                .any(|id| self.find(id).is_some_and(|d| d.group == group))
        };
        let deploy_stage = |stage: Stage, dep: &Option<String>| {
            let mut info = StageInfo::pending(stage, DEMO_ENV);
            info.bake = None;
            let Some(d) = dep.as_deref().and_then(|id| self.find(id)) else {
                if r.end.is_some() || !r.staged {
                    info.status = StageStatus::Skipped;
                }
                return info;
            };
            info.deployment = Some(d.id.clone());
            info.instances = Some(d.counts());
            info.started = Some(to_ts(d.created));
            info.ended = d.completed.map(to_ts);
            info.status = match d.status {
                s if s.is_active() => StageStatus::InProgress,
                DeploymentStatus::Succeeded if rolled_back(d.group) => StageStatus::RolledBack,
                DeploymentStatus::Succeeded => StageStatus::Succeeded,
                DeploymentStatus::Stopped if rolled_back(d.group) => StageStatus::RolledBack,
                _ => StageStatus::Failed,
            };
            info
        };
        let bake_stage = |stage: Stage, bake: &Option<SimBake>| {
            let mut info = StageInfo::pending(stage, DEMO_ENV);
            match bake {
                Some(b) => {
                    info.status = b.status;
                    info.started = Some(to_ts(b.started));
                    info.ended = b.ended.map(to_ts);
                    info.bake = Some(b.to_domain(alarms));
                }
                None if r.end.is_some() || !r.staged => info.status = StageStatus::Skipped,
                None => {}
            }
            info
        };
        let stages = vec![
            deploy_stage(Stage::Canary, &r.canary),
            bake_stage(Stage::CanaryBake, &r.canary_bake),
            deploy_stage(Stage::Fleet, &r.fleet),
            bake_stage(Stage::FleetBake, &r.fleet_bake),
        ];
        Release {
            id: r.id.clone(),
            revision: r.revision.clone(),
            status: DeploymentStatus::Created,
            phase: ReleasePhase::Deploying,
            stage: Stage::Canary,
            creator: r.creator,
            initiated_by: r.initiated_by.clone(),
            created: to_ts(r.created),
            completed: r.completed.map(to_ts),
            stages,
            previous_revision: r.previous.clone(),
            rollbacks: r
                .rollbacks
                .iter()
                .filter_map(|id| self.find(id))
                .map(|d| RollbackRef {
                    deployment: d.id.clone(),
                    group: d.group.group_name(DEMO_ENV),
                    status: d.status,
                })
                .collect(),
            rollback_of: r.rollback_of.clone(),
            error: r.error.clone(),
        }
    }
}

/// The watched alarms' states, as the world's alarms stand.
pub fn watched_states(alarms: &[crate::domain::Alarm]) -> Vec<WatchedAlarm> {
    let names = watched_alarm_names(DEMO_ENV);
    names
        .iter()
        .filter_map(|n| alarms.iter().find(|a| &a.name == n))
        .map(|a| WatchedAlarm {
            name: a.name.clone(),
            state: a.state,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Ms = 1_763_942_400_000;
    const DAY_MS: Ms = 86_400_000;
    const MINUTE: Ms = 60_000;

    fn world() -> (Delivery, Fleet) {
        let revisions = ["r2", "r1"]
            .iter()
            .map(|n| Revision {
                name: n.to_string(),
                created: T0 - DAY_MS,
                size: 1,
            })
            .collect();
        (Delivery::new(revisions, "r1"), Fleet::new(7, T0, "r1"))
    }

    fn release_of<'a>(d: &'a Delivery, id: &str) -> &'a Rel {
        d.releases.iter().find(|r| r.id == id).unwrap()
    }

    /// Runs the model's delivery to `t1` a tick at a time, with `firing` alarms
    /// evaluated at every minute.
    fn run(d: &mut Delivery, fleet: &mut Fleet, from: Ms, to: Ms, firing: &[String]) {
        let mut ev = Emit::for_command(from, 0);
        let mut t = from;
        while t < to {
            t += 10_000;
            d.process(7, t, fleet, &mut ev);
            if t % MINUTE == 0 {
                d.on_alarms(7, t, firing, fleet, &mut ev);
            }
        }
    }

    /// Starts a deployment by `creator`, lets its first instance begin, then
    /// terminates that instance under it (a scale-in) and lets the deployment see it.
    fn terminate_mid_deployment(creator: DeploymentCreator) -> Delivery {
        let (mut d, mut fleet) = world();
        let mut ev = Emit::for_command(T0, 0);
        let id = d.create(
            7,
            T0,
            NewDeployment {
                revision: "r2",
                description: "test",
                creator,
                initiated_by: None,
                rollback_of: None,
                group: GroupKind::Fleet,
                ignores_alarms: false,
                fault: Fault::None,
                only: None,
            },
            &mut fleet,
            &mut ev,
        );
        let mut t = T0;
        let target = loop {
            t += 10_000;
            d.process(7, t, &mut fleet, &mut ev);
            let dep = d.find(&id).unwrap();
            if let Some(tg) = dep
                .targets
                .iter()
                .find(|tg| tg.status == StepStatus::InProgress)
            {
                break tg.instance_id.clone();
            }
            assert!(t < T0 + 3_600_000, "no instance started");
        };
        let inst = fleet.web_instance_mut(&target).unwrap();
        inst.terminating_at = Some(t);
        d.process(7, t + 600_000, &mut fleet, &mut ev);
        assert_eq!(d.find(&id).unwrap().status, DeploymentStatus::Failed);
        d
    }

    #[test]
    fn a_user_deployment_that_loses_an_instance_rolls_back() {
        let d = terminate_mid_deployment(DeploymentCreator::User);
        assert_eq!(d.deployments.len(), 2);
        assert_eq!(d.deployments[0].creator, DeploymentCreator::Rollback);
        assert_eq!(d.deployments[0].revision, "r1");
        assert!(d.deployments[0].ignores_alarms);
        let of = d.deployments[1].id.clone();
        assert_eq!(
            d.deployments[0].description,
            format!("Rollback of {of}: r2 failed; back to r1")
        );
    }

    #[test]
    fn a_failed_rollback_or_auto_update_is_not_rolled_back_again() {
        for creator in [DeploymentCreator::Rollback, DeploymentCreator::Autoscaling] {
            let d = terminate_mid_deployment(creator);
            assert_eq!(d.deployments.len(), 1, "{creator:?}: {:?}", d.deployments);
            assert_eq!(d.deployments[0].rolled_back_by, None);
        }
    }

    #[test]
    fn a_rollback_goes_on_while_the_alarm_it_answers_stays_in_alarm() {
        let (mut d, mut fleet) = world();
        let mut ev = Emit::for_command(T0, 0);
        let id = d.start_release(7, T0, "r2", "test", "ana", &mut fleet, &mut ev);
        // The canary deploys and starts baking with every alarm quiet.
        let mut t1 = T0;
        while !release_of(&d, &id)
            .canary_bake
            .as_ref()
            .is_some_and(|b| b.running())
        {
            run(&mut d, &mut fleet, t1, t1 + MINUTE, &[]);
            t1 += MINUTE;
            assert!(t1 < T0 + 30 * MINUTE, "{:?}", release_of(&d, &id));
        }
        // From now on the 5xx alarm is in ALARM, minute after minute.
        let firing = vec!["notejam-demo-5xx-rate".to_string()];
        run(&mut d, &mut fleet, t1, t1 + MINUTE, &firing);
        let r = release_of(&d, &id).clone();
        assert_eq!(r.end, Some(ReleasePhase::RolledBack));
        assert_eq!(r.fleet, None, "the fleet is never deployed");
        let bake = r.canary_bake.as_ref().unwrap();
        assert_eq!(bake.status, StageStatus::Failed);
        assert_eq!(bake.fired, firing);
        assert_eq!(r.rollbacks.len(), 1);
        let rb = d.find(&r.rollbacks[0]).unwrap().clone();
        assert_eq!(
            (rb.group, rb.revision.as_str(), rb.ignores_alarms),
            (GroupKind::Canary, "r1", true)
        );
        assert_eq!(rb.rollback_of.as_deref(), Some(id.as_str()));
        assert!(
            rb.description.starts_with(&format!(
                "Rollback of {id}: release {id} of r2 back to r1: "
            )),
            "{}",
            rb.description
        );
        run(&mut d, &mut fleet, t1 + MINUTE, t1 + 30 * MINUTE, &firing);
        let rb = d.find(&r.rollbacks[0]).unwrap();
        assert_eq!(rb.status, DeploymentStatus::Succeeded, "{:?}", rb.error);
        assert!(d.active().is_none() && d.active_release().is_none());
        assert_eq!(d.current.as_deref(), Some("r1"));
        let canary = fleet.web.instances.iter().find(|i| i.canary).unwrap();
        assert_eq!(canary.revision.as_deref(), Some("r1"));
        assert!(
            fleet
                .web
                .instances
                .iter()
                .all(|i| i.revision.as_deref() == Some("r1")),
            "the fleet was never touched"
        );
    }

    #[test]
    fn a_new_deployment_is_stopped_by_an_alarm_already_in_alarm() {
        let (mut d, mut fleet) = world();
        let mut ev = Emit::for_command(T0, 0);
        let id = d.start_release(7, T0, "r2", "test", "ana", &mut fleet, &mut ev);
        let firing = vec!["notejam-demo-p99-latency".to_string()];
        run(&mut d, &mut fleet, T0, T0 + MINUTE, &firing);
        let dep = d.find(&id).unwrap();
        assert_eq!(dep.status, DeploymentStatus::Failed);
        assert!(dep.error.as_deref().unwrap().starts_with("ALARM_ACTIVE"));
        assert_eq!(release_of(&d, &id).end, Some(ReleasePhase::RolledBack));
        // An alarm the deployment group does not watch stops nothing.
        let (mut d, mut fleet) = world();
        let id = d.start_release(7, T0, "r2", "test", "ana", &mut fleet, &mut ev);
        let other = vec!["notejam-demo-db-cpu".to_string()];
        run(&mut d, &mut fleet, T0, T0 + MINUTE, &other);
        assert!(d.find(&id).unwrap().status.is_active());
    }

    #[test]
    fn a_rollback_refuses_bad_requests_and_names_what_to_do() {
        let (mut d, mut fleet) = world();
        let mut ev = Emit::for_command(T0, 0);
        let id = d.start_release(7, T0, "r2", "test", "ana", &mut fleet, &mut ev);
        let request = |revision: &str, stop: Vec<String>, groups: &[GroupKind]| RollbackRequest {
            revision: revision.into(),
            stop,
            targets: groups
                .iter()
                .map(|g| RollbackTarget {
                    group: *g,
                    rollback_of: None,
                })
                .collect(),
            description: "test".into(),
        };
        let mut try_it = |r: RollbackRequest| {
            d.roll_back(7, T0, &r, "ana", &mut fleet, &mut ev)
                .unwrap_err()
        };
        match try_it(request("r9", vec![], &[GroupKind::Fleet])) {
            BackendError::NotFound { what, choices, .. } => {
                assert_eq!((what, choices.len()), ("revision", 2))
            }
            e => panic!("{e:?}"),
        }
        let e = try_it(request("r1", vec![], &[GroupKind::Canary]));
        assert!(
            e.to_string().contains(&id) && e.to_string().contains("stop it first"),
            "{e}"
        );
        let e = try_it(request("r1", vec![], &[]));
        assert!(e.to_string().contains("at least one"), "{e}");
        let e = try_it(request("r1", vec!["d-NOPE".into()], &[GroupKind::Fleet]));
        assert!(e.to_string().contains("d-NOPE"), "{e}");
    }
}
