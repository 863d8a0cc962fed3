//! CodeDeploy in place, `CodeDeployDefault.OneAtATime`: the deployment group's
//! in-service instances are taken one by one through the lifecycle hooks, out of
//! the target group between BlockTraffic and AllowTraffic. The group rolls back
//! automatically when a deployment fails and when one of its alarms (p99 latency,
//! 5xx rate) goes to ALARM during a deployment: the failed deployment names the
//! cause and a new deployment, created by `Rollback`, puts the last successful
//! revision back, instances out of service first.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::clock::{Ms, SECOND, to_ts};
use super::fleet::{Fleet, Hold};
use super::logs::Emit;
use super::names;
use super::random::{Purpose, rng};
use crate::backend::BackendError;
use crate::domain::{
    Deployment, DeploymentCreator, DeploymentStatus, DeploymentTarget, InstanceCounts,
    LIFECYCLE_EVENTS, LifecycleEvent, LogSource, RevisionInfo, Severity, StepStatus,
};

pub const DEPLOYMENT_CONFIG: &str = "CodeDeployDefault.OneAtATime";
/// Alarms the deployment group watches (suffixes of `notejam-demo-`).
pub const WATCHED_ALARMS: [&str; 2] = ["p99-latency", "5xx-rate"];
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
pub const KEEP_DEPLOYMENTS: usize = 60;
pub const KEEP_DETAIL: usize = 20;
const GROUP_STREAM: &str = "deployment-group/demo";

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
    /// Ships the faulty build chaos asked for.
    pub faulty: bool,
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
    /// Only these instances (an auto-update of outdated instances); else all in service.
    pub only: Option<&'a [String]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Newest first.
    pub revisions: Vec<Revision>,
    /// The revision of the last successful deployment.
    pub current: Option<String>,
    /// Newest first.
    pub deployments: Vec<Dep>,
    /// Chaos: the next user deployment ships a faulty build.
    pub next_faulty: bool,
    pub counter: u64,
}

impl Delivery {
    pub fn new(revisions: Vec<Revision>, current: &str) -> Delivery {
        Delivery {
            revisions,
            current: Some(current.to_string()),
            deployments: Vec::new(),
            next_faulty: false,
            counter: 0,
        }
    }

    pub fn active(&self) -> Option<&Dep> {
        self.deployments.iter().find(|d| d.status.is_active())
    }

    fn active_index(&self) -> Option<usize> {
        self.deployments.iter().position(|d| d.status.is_active())
    }

    pub fn find(&self, id: &str) -> Option<&Dep> {
        self.deployments.iter().find(|d| d.id == id)
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

    /// CreateDeployment's checks: a known revision, no deployment running.
    pub fn check_new(&self, revision: &str) -> Result<(), BackendError> {
        if !self.revisions.iter().any(|r| r.name == revision) {
            return Err(BackendError::NotFound {
                what: "revision",
                id: revision.to_string(),
                choices: self.revisions.iter().map(|r| r.name.clone()).collect(),
            });
        }
        if let Some(d) = self.active() {
            return Err(BackendError::Invalid(format!(
                "deployment {} of {} is still {} in deployment group demo; wait for it to finish or stop it",
                d.id,
                d.revision,
                d.status.as_str()
            )));
        }
        Ok(())
    }

    /// Creates a deployment at `t`, its targets the group's in-service instances.
    pub fn create(
        &mut self,
        seed: u64,
        t: Ms,
        new: NewDeployment,
        fleet: &Fleet,
        ev: &mut Emit,
    ) -> String {
        self.counter += 1;
        let n = self.counter;
        let id = names::deployment_id(seed, n);
        let faulty =
            new.creator == DeploymentCreator::User && std::mem::take(&mut self.next_faulty);
        let mut instances: Vec<&super::fleet::Inst> = fleet
            .web
            .instances
            .iter()
            .filter(|i| i.deployable(t))
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
            faulty,
            targets,
            next_at: None,
        };
        ev.info(t, LogSource::CodeDeploy, GROUP_STREAM, || {
            format!(
                "Deployment {id} created ({}{}): revision {}, {DEPLOYMENT_CONFIG}, {} instance(s): {}",
                match new.creator {
                    DeploymentCreator::Rollback => "rollback",
                    DeploymentCreator::Autoscaling => "autoscaling",
                    _ => "user",
                },
                new.initiated_by.map(|w| format!(" by {w}")).unwrap_or_default(),
                new.revision,
                dep.targets.len(),
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
            ev.text(
                t,
                LogSource::CodeDeploy,
                GROUP_STREAM,
                Severity::Error,
                || {
                    format!(
                        "Deployment {id} failed: no in-service instances in deployment group demo"
                    )
                },
            );
        } else {
            let (lo, hi) = START_SECS;
            dep.next_at = Some(
                t + rng(seed, Purpose::Deploy, n as i64, 0xFFFF)
                    .random_range(lo * SECOND..=hi * SECOND),
            );
        }
        self.deployments.insert(0, dep);
        self.trim();
        id
    }

    fn trim(&mut self) {
        self.deployments.truncate(KEEP_DEPLOYMENTS);
        for d in self.deployments.iter_mut().skip(KEEP_DETAIL) {
            for t in &mut d.targets {
                t.hooks.clear();
            }
        }
    }

    /// Moves the active deployment through every step due before `t1`.
    pub fn process(&mut self, seed: u64, t1: Ms, fleet: &mut Fleet, ev: &mut Emit) {
        while let Some(k) = self.active_index() {
            match self.deployments[k].next_at {
                Some(at) if at < t1 => self.step(seed, k, at, fleet, ev),
                _ => break,
            }
        }
    }

    fn step(&mut self, seed: u64, k: usize, at: Ms, fleet: &mut Fleet, ev: &mut Emit) {
        let d = &mut self.deployments[k];
        if d.status == DeploymentStatus::Created {
            d.status = DeploymentStatus::InProgress;
            let id = d.id.clone();
            ev.info(at, LogSource::CodeDeploy, GROUP_STREAM, || {
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
                ev.info(at, LogSource::CodeDeploy, GROUP_STREAM, || {
                    format!("Deployment {id} succeeded: {rev} is live on every instance")
                });
                self.current = Some(rev.clone());
                self.update_outdated(seed, at, &id, &rev, fleet, ev);
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
            let (id, n, rev, faulty) = (d.id.clone(), d.n, d.revision.clone(), d.faulty);
            ev.info(at, LogSource::CodeDeploy, &inst_id, || {
                agent_line(&id, n, format!("[Aws::CodeDeployPlugin::CommandExecutor] lifecycle event {} succeeded in {took:.1}s", LIFECYCLE_EVENTS[hi]))
            });
            if let Some(inst) = fleet.web_instance_mut(&inst_id) {
                match hi {
                    BLOCK_TRAFFIC => inst.hold = Some(Hold::Out),
                    INSTALL => {
                        inst.revision = Some(rev.clone());
                        inst.faulty = faulty;
                    }
                    ALLOW_TRAFFIC => inst.hold = None,
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
            ev.info(at, LogSource::CodeDeploy, GROUP_STREAM, || {
                format!("Deployment {id}: instance {inst_id} succeeded")
            });
        }
    }

    /// Instances Auto Scaling launched while a deployment ran got the revision
    /// live at their launch. As CodeDeploy does with the deployment group's
    /// default outdated-instances strategy (UPDATE), a follow-on deployment brings
    /// them to the revision that just succeeded.
    fn update_outdated(
        &mut self,
        seed: u64,
        at: Ms,
        root: &str,
        revision: &str,
        fleet: &Fleet,
        ev: &mut Emit,
    ) {
        let outdated: Vec<String> = fleet
            .web
            .instances
            .iter()
            .filter(|i| i.deployable(at))
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
        self.create(
            seed,
            at,
            NewDeployment {
                revision,
                description: &description,
                creator: DeploymentCreator::Autoscaling,
                initiated_by: None,
                rollback_of: None,
                only: Some(&outdated),
            },
            fleet,
            ev,
        );
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

    /// Ends the active deployment `k` as failed (or stopped) and rolls back when
    /// asked and a good revision exists.
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
        ev.text(
            at,
            LogSource::CodeDeploy,
            GROUP_STREAM,
            Severity::Error,
            || format!("Deployment {id} {}: {error}", status.as_str()),
        );
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
                let description = format!("Rollback of {id} ({failed_rev}) to {revision}");
                let new = self.create(
                    seed,
                    at,
                    NewDeployment {
                        revision: &revision,
                        description: &description,
                        creator: DeploymentCreator::Rollback,
                        initiated_by: None,
                        rollback_of: Some(&id),
                        only: None,
                    },
                    fleet,
                    ev,
                );
                if let Some(d) = self.deployments.iter_mut().find(|d| d.id == id) {
                    d.rolled_back_by = Some(new);
                }
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

    /// The deployment group's alarm monitoring, after each evaluation: a watched
    /// alarm in ALARM stops the running deployment and rolls it back. Rollbacks
    /// themselves are not stopped, or a rollback could never fix what fired.
    pub fn on_alarms(
        &mut self,
        seed: u64,
        t: Ms,
        firing: &[String],
        fleet: &mut Fleet,
        ev: &mut Emit,
    ) {
        let Some(k) = self.active_index() else {
            return;
        };
        if self.deployments[k].creator == DeploymentCreator::Rollback {
            return;
        }
        let watched: Vec<&String> = firing
            .iter()
            .filter(|name| {
                WATCHED_ALARMS
                    .iter()
                    .any(|s| **name == names::alarm_name(s))
            })
            .collect();
        if watched.is_empty() {
            return;
        }
        let list = watched
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let error = format!(
            "ALARM_ACTIVE: One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <{list}>"
        );
        self.fail(seed, k, t, &error, true, fleet, ev);
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
        let active: Vec<String> = self.active().map(|d| d.id.clone()).into_iter().collect();
        let Some(k) = self.deployments.iter().position(|d| d.id == id) else {
            if active.is_empty() {
                return Err(BackendError::Invalid(format!(
                    "no deployment is running in deployment group demo to stop ('{id}' is not one of its deployments)"
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Ms = 1_763_942_400_000;

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

    const DAY_MS: Ms = 86_400_000;

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
                only: None,
            },
            &fleet,
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
    }

    #[test]
    fn a_failed_rollback_or_auto_update_is_not_rolled_back_again() {
        for creator in [DeploymentCreator::Rollback, DeploymentCreator::Autoscaling] {
            let d = terminate_mid_deployment(creator);
            assert_eq!(d.deployments.len(), 1, "{creator:?}: {:?}", d.deployments);
            assert_eq!(d.deployments[0].rolled_back_by, None);
        }
    }
}
