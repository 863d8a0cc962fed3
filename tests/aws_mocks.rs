//! The AWS backend against mocked SDK responses, for what moto lacks or gets
//! wrong: StartLiveTail and the fallback to polling, deployment states and
//! targets, StopDeployment, AWS Backup, throttling, and malformed answers.

mod support;

use std::time::Duration;

use aws_sdk_backup::operation::list_recovery_points_by_backup_vault::ListRecoveryPointsByBackupVaultOutput;
use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::{
    FilterLogEventsError, FilterLogEventsOutput,
};
use aws_sdk_cloudwatchlogs::operation::start_live_tail::StartLiveTailError;
use aws_sdk_cloudwatchlogs::types::{FilteredLogEvent, LogGroup};
use aws_sdk_codedeploy::operation::stop_deployment::{StopDeploymentError, StopDeploymentOutput};
use aws_smithy_mocks::mock;
use aws_smithy_types::DateTime as SdkTime;

use njtui::aws::FollowTiming;
use njtui::backend::{Backend, BackendError};
use njtui::domain;
use njtui::domain::{BackupKind, BackupStatus, FollowMode, LogSource, RestoreSource, StepStatus};
use support::mocks::{Mocks, html_404, http, live_tail_frame, meta};

const APP_ARN: &str = "arn:aws:logs:eu-west-1:123456789012:log-group:/notejam/prod/app";
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// A millisecond timestamp a minute ahead: followers start from now, so events
/// must be newer than the test's start.
fn soon() -> i64 {
    chrono::Utc::now().timestamp_millis() + 60_000
}

fn fast() -> FollowTiming {
    FollowTiming {
        poll_interval: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
    }
}

fn app_group() -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups).then_output(|| {
        DescribeLogGroupsOutput::builder()
            .log_groups(
                LogGroup::builder()
                    .log_group_name("/notejam/prod/app")
                    .log_group_arn(APP_ARN)
                    .arn(format!("{APP_ARN}:*"))
                    .build(),
            )
            .build()
    })
}

fn filtered(id: &str, ts: i64, message: &str) -> FilteredLogEvent {
    FilteredLogEvent::builder()
        .event_id(id)
        .timestamp(ts)
        .log_stream_name("i-web-1")
        .message(message)
        .build()
}

#[tokio::test]
async fn live_tail_delivers_events_then_polling_takes_over_where_it_stopped() {
    let t0 = soon();
    let body: Vec<u8> = [
        live_tail_frame(
            "sessionStart",
            serde_json::json!({"requestId": "r-1", "sessionId": "s-1", "logGroupIdentifiers": [APP_ARN]}),
        ),
        live_tail_frame(
            "sessionUpdate",
            serde_json::json!({
                "sessionMetadata": {"sampled": false},
                "sessionResults": [
                    {"logStreamName": "i-web-1", "logGroupIdentifier": APP_ARN, "message": "GET / 200\n", "timestamp": t0, "ingestionTime": t0 + 5},
                    {"logStreamName": "i-web-2", "logGroupIdentifier": APP_ARN, "message": "ERROR db down", "timestamp": t0 + 10, "ingestionTime": t0 + 15},
                ]
            }),
        ),
    ]
    .concat();
    let live = mock!(aws_sdk_cloudwatchlogs::Client::start_live_tail)
        .match_requests(|r| r.log_group_identifiers() == [APP_ARN])
        .sequence()
        .http_response(move || http(200, "application/vnd.amazon.eventstream", body.clone()))
        // The session ended; opening a new one is refused.
        .error(|| {
            StartLiveTailError::generic(meta("InvalidOperationException", "live tail unavailable"))
        })
        .build();
    // Polling resumes just after the newest live event.
    let poll = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .match_requests(move |r| {
            r.log_group_name() == Some("/notejam/prod/app") && r.start_time() == Some(t0 + 11)
        })
        .then_output(move || {
            FilterLogEventsOutput::builder()
                .events(filtered("e-3", t0 + 20, "GET /notes 200"))
                .build()
        });
    let mocks = Mocks {
        logs: vec![app_group(), live.clone(), poll.clone()],
        ..Default::default()
    };
    let b = mocks.backend("prod").with_follow_timing(fast());
    let mut f = b.follow_logs(&[LogSource::App]).await.unwrap();
    assert_eq!(f.mode(), FollowMode::LiveTail);

    let mut live_events = Vec::new();
    while live_events.len() < 2 {
        live_events.extend(f.next_batch().await.unwrap());
    }
    assert_eq!(f.mode(), FollowMode::LiveTail);
    assert_eq!(
        live_events
            .iter()
            .map(|e| (e.message.as_str(), e.stream.as_str()))
            .collect::<Vec<_>>(),
        [("GET / 200", "i-web-1"), ("ERROR db down", "i-web-2")]
    );
    assert!(live_events.iter().all(|e| e.source == LogSource::App));
    assert_ne!(live_events[0].id, live_events[1].id);

    let polled = f.next_batch().await.unwrap();
    assert!(
        matches!(
            f.mode(),
            FollowMode::Polling {
                throttled: false,
                ..
            }
        ),
        "{:?}",
        f.mode()
    );
    assert_eq!(
        polled.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["e-3"]
    );
    assert_eq!(
        live.num_calls(),
        2,
        "a new session was tried before polling"
    );
    assert!(poll.num_calls() >= 1);
}

#[tokio::test]
async fn a_refused_live_tail_falls_back_to_polling_without_repeats() {
    let t0 = soon();
    let live = mock!(aws_sdk_cloudwatchlogs::Client::start_live_tail)
        .then_error(|| StartLiveTailError::generic(meta("AccessDeniedException", "not allowed")));
    // Two polls: the second repeats the boundary event a-2 and adds b-1 at the
    // same millisecond; only b-1 is new.
    let polls = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .sequence()
        .output(move || {
            FilterLogEventsOutput::builder()
                .events(filtered("a-1", t0 + 1, "one"))
                .events(filtered("a-2", t0 + 2, "two"))
                .build()
        })
        .output(move || {
            FilterLogEventsOutput::builder()
                .events(filtered("a-2", t0 + 2, "two"))
                .events(filtered("b-1", t0 + 2, "three"))
                .build()
        })
        .build();
    let mocks = Mocks {
        logs: vec![app_group(), live, polls],
        ..Default::default()
    };
    let b = mocks.backend("prod").with_follow_timing(fast());
    let mut f = b.follow_logs(&[LogSource::App]).await.unwrap();
    assert!(
        matches!(f.mode(), FollowMode::Polling { .. }),
        "{:?}",
        f.mode()
    );
    let first: Vec<String> = f
        .next_batch()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(first, ["a-1", "a-2"]);
    let second: Vec<String> = f
        .next_batch()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(second, ["b-1"]);
}

#[tokio::test]
async fn throttled_polling_backs_off_shows_it_and_recovers() {
    let t0 = soon();
    let throttled = || FilterLogEventsError::generic(meta("ThrottlingException", "Rate exceeded"));
    let polls = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .sequence()
        // Three attempts (the SDK's retries) per poll, two throttled polls.
        .error(throttled)
        .times(6)
        .output(move || {
            FilterLogEventsOutput::builder()
                .events(filtered("x-1", t0 + 5, "back"))
                .build()
        })
        .build();
    let mocks = Mocks {
        // No group ARNs: live tail is not tried.
        logs: vec![
            mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
                .then_output(|| DescribeLogGroupsOutput::builder().build()),
            polls.clone(),
        ],
        ..Default::default()
    };
    let b = mocks.backend("prod").with_follow_timing(fast());
    let mut f = b.follow_logs(&[LogSource::App]).await.unwrap();
    assert_eq!(f.next_batch().await.unwrap(), vec![]);
    assert_eq!(polls.num_calls(), 3, "the SDK retried before giving up");
    assert_eq!(
        f.mode(),
        FollowMode::Polling {
            interval_secs: 1,
            throttled: true
        }
    );
    let started = std::time::Instant::now();
    assert_eq!(f.next_batch().await.unwrap(), vec![]);
    // The second poll waited the doubled interval (100 ms), the third 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(100));
    let events = f.next_batch().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(events.len(), 1);
    assert_eq!(
        f.mode(),
        FollowMode::Polling {
            interval_secs: 1,
            throttled: false
        }
    );
}

#[tokio::test]
async fn throttling_is_retried_then_reported_as_throttled() {
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_error(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError::generic(meta(
            "Throttling",
            "Rate exceeded",
        ))
    });
    let mocks = Mocks {
        sts: vec![rule.clone()],
        ..Default::default()
    };
    let e = mocks.backend("prod").identity().await.unwrap_err();
    assert!(
        matches!(e, BackendError::Throttled { ref service, .. } if service == "sts"),
        "{e:?}"
    );
    assert!(e.is_transient());
    assert_eq!(rule.num_calls(), 3);
}

/// A deployment of `releases/<id>.zip` created `minutes` after T0.
fn deployment_info(
    id: &str,
    minutes: i64,
) -> aws_sdk_codedeploy::types::builders::DeploymentInfoBuilder {
    use aws_sdk_codedeploy::types::*;
    DeploymentInfo::builder()
        .deployment_id(id)
        .application_name("notejam")
        .deployment_group_name("prod")
        .create_time(SdkTime::from_millis(T0 + minutes * 60_000))
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::S3)
                .s3_location(
                    S3Location::builder()
                        .bucket("b")
                        .key(format!("releases/{id}.zip"))
                        .build(),
                )
                .build(),
        )
}

#[tokio::test]
async fn deployments_map_status_rollbacks_errors_and_counts() {
    use aws_sdk_codedeploy::types::*;
    let list = mock!(aws_sdk_codedeploy::Client::list_deployments)
        .match_requests(|r| {
            r.application_name() == Some("notejam")
                && r.deployment_group_name() == Some("prod")
                && r.create_time_range().is_some_and(|t| t.start().is_some())
        })
        .then_output(|| {
            aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsOutput::builder()
                .deployments("d-OLD")
                .deployments("d-FAILED")
                .deployments("d-ROLLBACK")
                .build()
        });
    let get = mock!(aws_sdk_codedeploy::Client::batch_get_deployments).then_output(|| {
        let failed = deployment_info("d-FAILED", 10)
            .status(DeploymentStatus::Failed)
            .creator(DeploymentCreator::User)
            .description("deploy 1.1.0 (requested by arn:aws:iam::123456789012:user/ana)")
            .complete_time(SdkTime::from_millis(T0 + 14 * 60_000))
            .error_information(
                ErrorInformation::builder()
                    .code(ErrorCode::AlarmActive)
                    .message("alarm notejam-prod-latency-p99 fired")
                    .build(),
            )
            .rollback_info(
                RollbackInfo::builder()
                    .rollback_deployment_id("d-ROLLBACK")
                    .build(),
            )
            .deployment_overview(
                DeploymentOverview::builder()
                    .succeeded(1)
                    .failed(1)
                    .pending(2)
                    .build(),
            )
            .build();
        // A rollback carries no revision of its own here.
        let rollback = DeploymentInfo::builder()
            .deployment_id("d-ROLLBACK")
            .create_time(SdkTime::from_millis(T0 + 15 * 60_000))
            .status(DeploymentStatus::InProgress)
            .creator(DeploymentCreator::CodeDeployRollback)
            .rollback_info(
                RollbackInfo::builder()
                    .rollback_triggering_deployment_id("d-FAILED")
                    .rollback_message("rolled back after alarm")
                    .build(),
            )
            .deployment_overview(DeploymentOverview::builder().in_progress(1).build())
            .build();
        let old = deployment_info("d-OLD", 0)
            .status(DeploymentStatus::Succeeded)
            .build();
        aws_sdk_codedeploy::operation::batch_get_deployments::BatchGetDeploymentsOutput::builder()
            .deployments_info(old)
            .deployments_info(rollback)
            .deployments_info(failed)
            .build()
    });
    // No canary deployment in this history.
    let canary = mock!(aws_sdk_codedeploy::Client::list_deployments)
        .match_requests(|r| r.deployment_group_name() == Some("prod-canary"))
        .then_output(|| {
            aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsOutput::builder()
                .build()
        });
    let mocks = Mocks {
        codedeploy: vec![list, canary, get],
        ..Default::default()
    };
    let ds = mocks.backend("prod").deployments(2).await.unwrap();
    assert_eq!(
        ds.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["d-ROLLBACK", "d-FAILED"]
    );
    let (rb, failed) = (&ds[0], &ds[1]);
    assert_eq!(
        (rb.status, rb.creator),
        (
            domain::DeploymentStatus::InProgress,
            domain::DeploymentCreator::Rollback
        )
    );
    assert_eq!(rb.rollback_of.as_deref(), Some("d-FAILED"));
    assert_eq!(rb.error.as_deref(), Some("rolled back after alarm"));
    assert_eq!(rb.revision, "unknown");
    assert_eq!(failed.status, domain::DeploymentStatus::Failed);
    assert_eq!(failed.revision, "releases/d-FAILED.zip");
    assert_eq!(
        failed.initiated_by.as_deref(),
        Some("arn:aws:iam::123456789012:user/ana")
    );
    assert_eq!(failed.rolled_back_by.as_deref(), Some("d-ROLLBACK"));
    assert_eq!(
        failed.error.as_deref(),
        Some("ALARM_ACTIVE: alarm notejam-prod-latency-p99 fired")
    );
    assert_eq!(
        (
            failed.instances.succeeded,
            failed.instances.failed,
            failed.instances.pending
        ),
        (1, 1, 2)
    );
    assert_eq!(
        failed.completed.unwrap() - failed.created,
        chrono::Duration::minutes(4)
    );
}

#[tokio::test]
async fn deployment_targets_page_and_carry_lifecycle_diagnostics() {
    use aws_sdk_codedeploy::operation::batch_get_deployment_targets::BatchGetDeploymentTargetsOutput;
    use aws_sdk_codedeploy::operation::list_deployment_targets::ListDeploymentTargetsOutput;
    use aws_sdk_codedeploy::types::*;
    let list = mock!(aws_sdk_codedeploy::Client::list_deployment_targets)
        .sequence()
        .output(|| {
            ListDeploymentTargetsOutput::builder()
                .target_ids("i-2")
                .next_token("page-2")
                .build()
        })
        .output(|| {
            ListDeploymentTargetsOutput::builder()
                .target_ids("i-1")
                .build()
        })
        .build();
    let get = mock!(aws_sdk_codedeploy::Client::batch_get_deployment_targets)
        .match_requests(|r| r.deployment_id() == Some("d-1") && r.target_ids() == ["i-2", "i-1"])
        .then_output(|| {
            let event = |name: &str, status| {
                LifecycleEvent::builder()
                    .lifecycle_event_name(name)
                    .status(status)
                    .start_time(SdkTime::from_millis(T0))
                    .end_time(SdkTime::from_millis(T0 + 1000))
            };
            BatchGetDeploymentTargetsOutput::builder()
                .deployment_targets(
                    DeploymentTarget::builder()
                        .deployment_target_type(DeploymentTargetType::InstanceTarget)
                        .instance_target(
                            InstanceTarget::builder()
                                .target_id("i-2")
                                .status(TargetStatus::Failed)
                                .lifecycle_events(
                                    event("DownloadBundle", LifecycleEventStatus::Succeeded)
                                        .build(),
                                )
                                .lifecycle_events(
                                    event("ValidateService", LifecycleEventStatus::Failed)
                                        .diagnostics(
                                            Diagnostics::builder()
                                                .error_code(LifecycleErrorCode::ScriptFailed)
                                                .script_name("scripts/validate.sh")
                                                .message("Script at specified location failed")
                                                .log_tail("curl: (7) Failed to connect\n")
                                                .build(),
                                        )
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .deployment_targets(
                    DeploymentTarget::builder()
                        .instance_target(
                            InstanceTarget::builder()
                                .target_id("i-1")
                                .status(TargetStatus::Pending)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let mocks = Mocks {
        codedeploy: vec![list.clone(), get],
        ..Default::default()
    };
    let targets = mocks
        .backend("prod")
        .deployment_targets("d-1")
        .await
        .unwrap();
    assert_eq!(list.num_calls(), 2);
    assert_eq!(
        targets
            .iter()
            .map(|t| t.instance_id.as_str())
            .collect::<Vec<_>>(),
        ["i-1", "i-2"]
    );
    assert_eq!(
        (targets[0].status, targets[0].events.len()),
        (StepStatus::Pending, 0)
    );
    let failed = &targets[1];
    assert_eq!(failed.status, StepStatus::Failed);
    assert_eq!(failed.events[0].status, StepStatus::Succeeded);
    let validate = &failed.events[1];
    assert_eq!(
        (validate.name.as_str(), validate.status),
        ("ValidateService", StepStatus::Failed)
    );
    let diag = validate.diagnostic.as_deref().unwrap();
    assert!(
        diag.starts_with(
            "ScriptFailed: script scripts/validate.sh: Script at specified location failed"
        ) && diag.ends_with("curl: (7) Failed to connect"),
        "{diag}"
    );
    assert_eq!(
        validate.ended.unwrap() - validate.started.unwrap(),
        chrono::Duration::seconds(1)
    );
}

#[tokio::test]
async fn stop_deployment_passes_rollback_and_names_bad_ids() {
    let ok = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|r| {
            r.deployment_id() == Some("d-RUNNING") && r.auto_rollback_enabled() == Some(true)
        })
        .then_output(|| StopDeploymentOutput::builder().build());
    let done = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|r| r.deployment_id() == Some("d-DONE"))
        .then_error(|| {
            StopDeploymentError::generic(meta("DeploymentAlreadyCompletedException", "done"))
        });
    let missing = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|r| r.deployment_id() == Some("d-NOPE"))
        .then_error(|| {
            StopDeploymentError::generic(meta(
                "DeploymentDoesNotExistException",
                "no such deployment",
            ))
        });
    let mocks = Mocks {
        codedeploy: vec![ok.clone(), done, missing],
        ..Default::default()
    };
    let b = mocks.backend("prod");
    b.stop_deployment("d-RUNNING", true).await.unwrap();
    assert_eq!(ok.num_calls(), 1);
    let e = b.stop_deployment("d-DONE", false).await.unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("already completed")),
        "{e:?}"
    );
    let e = b.stop_deployment("d-NOPE", false).await.unwrap_err();
    assert_eq!(e.to_string(), "deployment 'd-NOPE' not found");
    let e = b.stop_deployment("  ", false).await.unwrap_err();
    assert!(matches!(e, BackendError::Invalid(_)));
}

/// RDS and SSM answers describing `notejam-prod` and one automated snapshot.
fn prod_database(mocks: &mut Mocks) {
    use aws_sdk_rds::types::*;
    mocks.rds.push(
        mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder()
                .db_instances(
                    DbInstance::builder()
                        .db_instance_identifier("notejam-prod")
                        .db_instance_arn("arn:aws:rds:eu-west-1:123456789012:db:notejam-prod")
                        .db_instance_status("available")
                        .db_instance_class("db.t4g.small")
                        .engine("postgres")
                        .multi_az(true)
                        .backup_retention_period(7)
                        .latest_restorable_time(SdkTime::from_millis(T0 + 3_600_000))
                        .endpoint(
                            Endpoint::builder()
                                .address("notejam-prod.x.rds.amazonaws.com")
                                .build(),
                        )
                        .db_subnet_group(
                            DbSubnetGroup::builder()
                                .db_subnet_group_name("notejam-prod-db")
                                .build(),
                        )
                        .vpc_security_groups(
                            VpcSecurityGroupMembership::builder()
                                .vpc_security_group_id("sg-db")
                                .build(),
                        )
                        .build(),
                )
                .build()
        }),
    );
    mocks.rds.push(
        mock!(aws_sdk_rds::Client::describe_db_snapshots).then_output(|| {
            aws_sdk_rds::operation::describe_db_snapshots::DescribeDbSnapshotsOutput::builder()
                .db_snapshots(
                    DbSnapshot::builder()
                        .db_snapshot_identifier("rds:notejam-prod-2026-01-01-03-00")
                        .db_instance_identifier("notejam-prod")
                        .snapshot_type("automated")
                        .status("available")
                        .snapshot_create_time(SdkTime::from_millis(T0))
                        .build(),
                )
                .db_snapshots(
                    DbSnapshot::builder()
                        .db_snapshot_identifier("rds:notejam-staging-2026-01-01-03-00")
                        .db_instance_identifier("notejam-staging")
                        .snapshot_type("automated")
                        .status("available")
                        .snapshot_create_time(SdkTime::from_millis(T0))
                        .build(),
                )
                .build()
        }),
    );
    mocks
        .ssm
        .push(mock!(aws_sdk_ssm::Client::get_parameters).then_output(|| {
            aws_sdk_ssm::operation::get_parameters::GetParametersOutput::builder().build()
        }));
}

fn plan_and_selection(mocks: &mut Mocks) {
    use aws_sdk_backup::types::*;
    mocks.backup.push(
        mock!(aws_sdk_backup::Client::list_backup_plans).then_output(|| {
            aws_sdk_backup::operation::list_backup_plans::ListBackupPlansOutput::builder()
                .backup_plans_list(
                    BackupPlansListMember::builder()
                        .backup_plan_name("notejam-staging-daily")
                        .backup_plan_id("p-staging")
                        .build(),
                )
                .backup_plans_list(
                    BackupPlansListMember::builder()
                        .backup_plan_name("notejam-prod-daily")
                        .backup_plan_id("p-prod")
                        .build(),
                )
                .build()
        }),
    );
    mocks.backup.push(
        mock!(aws_sdk_backup::Client::list_backup_selections)
            .match_requests(|r| r.backup_plan_id() == Some("p-prod"))
            .then_output(|| {
                aws_sdk_backup::operation::list_backup_selections::ListBackupSelectionsOutput::builder()
                    .backup_selections_list(
                        BackupSelectionsListMember::builder()
                            .iam_role_arn("arn:aws:iam::123456789012:role/notejam-prod-backup")
                            .build(),
                    )
                    .build()
            }),
    );
}

#[tokio::test]
async fn backups_merge_snapshots_and_recovery_points() {
    use aws_sdk_backup::types::*;
    let mut mocks = Mocks::default();
    prod_database(&mut mocks);
    mocks.backup.push(
        mock!(aws_sdk_backup::Client::list_recovery_points_by_backup_vault)
            .match_requests(|r| r.backup_vault_name() == Some("notejam-prod"))
            .then_output(|| {
                ListRecoveryPointsByBackupVaultOutput::builder()
                    .recovery_points(
                        RecoveryPointByBackupVault::builder()
                            .recovery_point_arn(
                                "arn:aws:backup:eu-west-1:123456789012:recovery-point:rp-1",
                            )
                            .resource_arn("arn:aws:rds:eu-west-1:123456789012:db:notejam-prod")
                            .status(RecoveryPointStatus::Completed)
                            .creation_date(SdkTime::from_millis(T0 + 60_000))
                            .backup_size_in_bytes(2 * 1_073_741_824)
                            .calculated_lifecycle(
                                CalculatedLifecycle::builder()
                                    .delete_at(SdkTime::from_millis(T0 + 35 * 86_400_000))
                                    .build(),
                            )
                            .build(),
                    )
                    .recovery_points(
                        RecoveryPointByBackupVault::builder()
                            .recovery_point_arn(
                                "arn:aws:backup:eu-west-1:123456789012:recovery-point:rp-2",
                            )
                            .resource_arn("arn:aws:rds:eu-west-1:123456789012:db:notejam-prod")
                            .status(RecoveryPointStatus::Partial)
                            .creation_date(SdkTime::from_millis(T0 - 60_000))
                            .build(),
                    )
                    .build()
            }),
    );
    let o = mocks.backend("prod").backups().await.unwrap();
    let listed: Vec<(&str, BackupKind, BackupStatus)> = o
        .backups
        .iter()
        .map(|b| (b.id.as_str(), b.kind, b.status))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "arn:aws:backup:eu-west-1:123456789012:recovery-point:rp-1",
                BackupKind::RecoveryPoint,
                BackupStatus::Available
            ),
            (
                "rds:notejam-prod-2026-01-01-03-00",
                BackupKind::Automated,
                BackupStatus::Available
            ),
            (
                "arn:aws:backup:eu-west-1:123456789012:recovery-point:rp-2",
                BackupKind::RecoveryPoint,
                BackupStatus::Failed
            ),
        ]
    );
    assert_eq!(o.backups[0].resource, "notejam-prod");
    assert_eq!(o.backups[0].size_gb, Some(2.0));
    assert!(o.backups[0].expires.is_some());
    assert_eq!(
        o.backups[1].expires.unwrap() - o.backups[1].created,
        chrono::Duration::days(7)
    );
    assert_eq!(
        o.latest_restorable.unwrap().timestamp_millis(),
        T0 + 3_600_000
    );
}

#[tokio::test]
async fn an_endpoint_without_aws_backup_keeps_the_rds_snapshots() {
    let mut mocks = Mocks::default();
    prod_database(&mut mocks);
    let points = mock!(aws_sdk_backup::Client::list_recovery_points_by_backup_vault)
        .then_http_response(html_404);
    mocks.backup.push(points.clone());
    let o = mocks.backend("prod").backups().await.unwrap();
    assert_eq!(points.num_calls(), 1, "a 404 is not retried");
    assert_eq!(o.backups.len(), 1);
    assert_eq!(o.backups[0].kind, BackupKind::Automated);
}

#[tokio::test]
async fn backup_now_as_a_recovery_point_uses_the_plans_role() {
    let mut mocks = Mocks::default();
    prod_database(&mut mocks);
    plan_and_selection(&mut mocks);
    let start = mock!(aws_sdk_backup::Client::start_backup_job)
        .match_requests(|r| {
            r.backup_vault_name() == Some("notejam-prod")
                && r.resource_arn() == Some("arn:aws:rds:eu-west-1:123456789012:db:notejam-prod")
                && r.iam_role_arn() == Some("arn:aws:iam::123456789012:role/notejam-prod-backup")
        })
        .then_output(|| {
            aws_sdk_backup::operation::start_backup_job::StartBackupJobOutput::builder()
                .backup_job_id("job-42")
                .build()
        });
    mocks.backup.push(start.clone());
    let stop = mock!(aws_sdk_backup::Client::stop_backup_job)
        .match_requests(|r| r.backup_job_id() == Some("job-42"))
        .then_output(|| {
            aws_sdk_backup::operation::stop_backup_job::StopBackupJobOutput::builder().build()
        });
    mocks.backup.push(stop.clone());
    let b = mocks.backend("prod");
    assert_eq!(
        b.create_backup(BackupKind::RecoveryPoint).await.unwrap(),
        "job-42"
    );
    assert_eq!(start.num_calls(), 1);
    b.cancel_backup("job-42").await.unwrap();
    assert_eq!(stop.num_calls(), 1);
    // RDS snapshots cannot be cancelled, and automated ones are not made on demand.
    let e = b
        .cancel_backup("notejam-prod-manual-20260101000000")
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("RDS cannot cancel")),
        "{e:?}"
    );
    let e = b.create_backup(BackupKind::Automated).await.unwrap_err();
    assert!(matches!(e, BackendError::Invalid(_)), "{e:?}");
}

#[tokio::test]
async fn backup_now_without_a_plan_says_which_plan_is_missing() {
    let mut mocks = Mocks::default();
    prod_database(&mut mocks);
    mocks.backup.push(
        mock!(aws_sdk_backup::Client::list_backup_plans).then_output(|| {
            aws_sdk_backup::operation::list_backup_plans::ListBackupPlansOutput::builder().build()
        }),
    );
    let e = mocks
        .backend("prod")
        .create_backup(BackupKind::RecoveryPoint)
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("notejam-prod-daily does not exist")),
        "{e:?}"
    );
}

#[tokio::test]
async fn restoring_a_recovery_point_starts_a_restore_job_placed_like_the_database() {
    let mut mocks = Mocks::default();
    prod_database(&mut mocks);
    plan_and_selection(&mut mocks);
    let rp = "arn:aws:backup:eu-west-1:123456789012:recovery-point:rp-1";
    mocks.backup.push(
        mock!(aws_sdk_backup::Client::get_recovery_point_restore_metadata)
            .match_requests(move |r| r.recovery_point_arn() == Some(rp) && r.backup_vault_name() == Some("notejam-prod"))
            .then_output(|| {
                aws_sdk_backup::operation::get_recovery_point_restore_metadata::GetRecoveryPointRestoreMetadataOutput::builder()
                    .restore_metadata("DBInstanceIdentifier", "notejam-prod")
                    .restore_metadata("Engine", "postgres")
                    .build()
            }),
    );
    let restore = mock!(aws_sdk_backup::Client::start_restore_job)
        .match_requests(|r| {
            let m = r.metadata().unwrap();
            m.get("DBInstanceIdentifier").map(String::as_str)
                == Some("notejam-prod-restore-20260101")
                && m.get("Engine").map(String::as_str) == Some("postgres")
                && m.get("DBSubnetGroupName").map(String::as_str) == Some("notejam-prod-db")
                && m.get("VpcSecurityGroupIds").map(String::as_str) == Some(r#"["sg-db"]"#)
                && m.get("MultiAZ").map(String::as_str) == Some("true")
                && r.iam_role_arn() == Some("arn:aws:iam::123456789012:role/notejam-prod-backup")
        })
        .then_output(|| {
            aws_sdk_backup::operation::start_restore_job::StartRestoreJobOutput::builder()
                .restore_job_id("restore-1")
                .build()
        });
    mocks.backup.push(restore.clone());
    let b = mocks.backend("prod");
    b.restore(
        &RestoreSource::Backup { id: rp.into() },
        "notejam-prod-restore-20260101",
    )
    .await
    .unwrap();
    assert_eq!(restore.num_calls(), 1);
}

/// Every call `topology` makes answers, with nothing in it (or with fields
/// missing).
fn empty_environment(mocks: &mut Mocks) {
    mocks
        .ec2
        .push(mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
            aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder().build()
        }));
    mocks.autoscaling.push(mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_groups).then_output(|| {
        use aws_sdk_autoscaling::types::*;
        aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput::builder()
            // A group with only its tags: no name, capacity or instances.
            .auto_scaling_groups(
                AutoScalingGroup::builder()
                    .tags(TagDescription::builder().key("Project").value("notejam").build())
                    .tags(TagDescription::builder().key("Environment").value("prod").build())
                    .tags(TagDescription::builder().key("Tier").value("web").build())
                    .instances(aws_sdk_autoscaling::types::Instance::builder().build())
                    .build(),
            )
            .build()
    }));
    mocks.ec2.push(
        mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| {
            aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput::builder().build()
        }),
    );
    mocks.autoscaling.push(mock!(aws_sdk_autoscaling::Client::describe_scaling_activities).then_output(|| {
        use aws_sdk_autoscaling::types::*;
        aws_sdk_autoscaling::operation::describe_scaling_activities::DescribeScalingActivitiesOutput::builder()
            .activities(Activity::builder().build())
            .build()
    }));
    mocks.elbv2.push(mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers).then_output(|| {
        aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput::builder().build()
    }));
    mocks.rds.push(
        mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder()
                .db_instances(aws_sdk_rds::types::DbInstance::builder().build())
                .build()
        }),
    );
    mocks
        .ssm
        .push(mock!(aws_sdk_ssm::Client::get_parameters).then_output(|| {
            use aws_sdk_ssm::types::Parameter;
            aws_sdk_ssm::operation::get_parameters::GetParametersOutput::builder()
                // A remembered capacity that is not JSON is ignored.
                .parameters(
                    Parameter::builder()
                        .name("/notejam/prod/njtui/stopped/web")
                        .value("{oops")
                        .build(),
                )
                .build()
        }));
    mocks.s3.push(
        mock!(aws_sdk_s3::Client::list_buckets).then_output(|| {
            aws_sdk_s3::operation::list_buckets::ListBucketsOutput::builder().build()
        }),
    );
    mocks.codedeploy.push(
        mock!(aws_sdk_codedeploy::Client::get_deployment_group).then_error(|| {
            aws_sdk_codedeploy::operation::get_deployment_group::GetDeploymentGroupError::generic(
                meta(
                    "ApplicationDoesNotExistException",
                    "No application found for name: notejam",
                ),
            )
        }),
    );
    mocks.codedeploy.push(
        mock!(aws_sdk_codedeploy::Client::list_deployments).then_error(|| {
            aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsError::generic(meta(
                "ApplicationDoesNotExistException",
                "No application found for name: notejam",
            ))
        }),
    );
    mocks.backup.push(
        mock!(aws_sdk_backup::Client::describe_backup_vault).then_error(|| {
            aws_sdk_backup::operation::describe_backup_vault::DescribeBackupVaultError::generic(
                meta("ResourceNotFoundException", "no vault"),
            )
        }),
    );
    mocks.backup.push(
        mock!(aws_sdk_backup::Client::list_backup_plans).then_output(|| {
            aws_sdk_backup::operation::list_backup_plans::ListBackupPlansOutput::builder().build()
        }),
    );
    mocks.cloudwatch.push(
        mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| {
            aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput::builder()
                .metric_alarms(aws_sdk_cloudwatch::types::MetricAlarm::builder().build())
                .build()
        }),
    );
}

#[tokio::test]
async fn a_half_provisioned_environment_is_shown_not_refused() {
    let mut mocks = Mocks::default();
    empty_environment(&mut mocks);
    let t = mocks.backend("prod").topology().await.unwrap();
    assert_eq!(t.network, None);
    assert_eq!(t.load_balancer, None);
    assert_eq!(t.database, None);
    // An instance with neither a contract name nor the environment's tags is not ours.
    assert!(t.other_databases.is_empty());
    assert_eq!((t.delivery.clone(), t.backup_vault.clone()), (None, None));
    assert!(t.buckets.is_empty() && t.alarms.is_empty());
    let web = &t.groups[0];
    assert_eq!(
        (web.name.as_str(), web.capacity.desired, web.stopped),
        ("", 0, None)
    );
    assert_eq!(web.instances.len(), 1);
    assert!(web.activities.is_empty());
}

#[tokio::test]
async fn denied_and_malformed_answers_become_errors_not_panics() {
    let mut mocks = Mocks::default();
    // The first matching rule answers: EC2 refuses, everything else is empty.
    mocks
        .ec2
        .push(mock!(aws_sdk_ec2::Client::describe_vpcs).then_error(|| {
            aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError::generic(meta(
                "UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            ))
        }));
    // A body that is not JSON at all, and one that is JSON of the wrong shape.
    mocks.codedeploy.push(
        mock!(aws_sdk_codedeploy::Client::list_deployments)
            .then_http_response(|| http(200, "application/x-amz-json-1.1", "{\"deployments\": ")),
    );
    mocks.codedeploy.push(
        mock!(aws_sdk_codedeploy::Client::list_deployment_targets)
            .then_http_response(|| http(200, "application/x-amz-json-1.1", "{\"targetIds\": 42}")),
    );
    empty_environment(&mut mocks);
    let b = mocks.backend("prod");
    let e = b.topology().await.unwrap_err();
    assert!(
        matches!(e, BackendError::AccessDenied { ref service, .. } if service == "ec2"),
        "{e:?}"
    );
    assert!(e.to_string().contains("DescribeVpcs"), "{e}");
    let e = b.deployments(5).await.unwrap_err();
    assert!(
        matches!(e, BackendError::Api { ref service, .. } if service == "codedeploy"),
        "{e:?}"
    );
    let e = b.deployment_targets("d-1").await.unwrap_err();
    assert!(matches!(e, BackendError::Api { .. }), "{e:?}");
}

/// A deployment of `rev` in `group`, created `ago_min` minutes ago and, with
/// `ended_min`, succeeded that many minutes ago.
fn recent_deployment(
    id: &str,
    group: &str,
    rev: &str,
    ago_min: i64,
    ended_min: Option<i64>,
) -> aws_sdk_codedeploy::types::DeploymentInfo {
    use aws_sdk_codedeploy::types::*;
    let at = |min: i64| SdkTime::from_millis(chrono::Utc::now().timestamp_millis() - min * 60_000);
    let mut b = DeploymentInfo::builder()
        .deployment_id(id)
        .application_name("notejam")
        .deployment_group_name(group)
        .create_time(at(ago_min))
        .creator(DeploymentCreator::User)
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::S3)
                .s3_location(S3Location::builder().bucket("b").key(rev).build())
                .build(),
        )
        .deployment_overview(DeploymentOverview::builder().succeeded(1).build());
    b = match ended_min {
        Some(m) => b.status(DeploymentStatus::Succeeded).complete_time(at(m)),
        None => b.status(DeploymentStatus::InProgress),
    };
    b.build()
}

#[tokio::test]
async fn releases_pair_the_canary_with_its_bake_and_the_watched_alarms() {
    use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
    use aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsOutput;
    let list = |group: &'static str, ids: &'static [&'static str]| {
        mock!(aws_sdk_codedeploy::Client::list_deployments)
            .match_requests(move |r| r.deployment_group_name() == Some(group))
            .then_output(move || {
                ids.iter()
                    .fold(ListDeploymentsOutput::builder(), |b, id| b.deployments(*id))
                    .build()
            })
    };
    let get = mock!(aws_sdk_codedeploy::Client::batch_get_deployments).then_output(|| {
        aws_sdk_codedeploy::operation::batch_get_deployments::BatchGetDeploymentsOutput::builder()
            // The canary deployed 3 minutes ago: 7 of prod's 10 bake minutes left.
            .deployments_info(recent_deployment(
                "d-CANARY",
                "prod-canary",
                "r2.zip",
                8,
                Some(3),
            ))
            .deployments_info(recent_deployment("d-OLD", "prod", "r1.zip", 600, Some(590)))
            .build()
    });
    let alarms = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| {
            r.alarm_names() == ["notejam-prod-p99-latency", "notejam-prod-5xx-rate"]
        })
        .then_output(|| {
            let alarm = |name: &str, state: StateValue| {
                MetricAlarm::builder()
                    .alarm_name(name)
                    .state_value(state)
                    .build()
            };
            aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput::builder()
                .metric_alarms(alarm("notejam-prod-p99-latency", StateValue::Ok))
                .metric_alarms(alarm("notejam-prod-5xx-rate", StateValue::Alarm))
                .build()
        });
    let mocks = Mocks {
        codedeploy: vec![
            list("prod", &["d-OLD"]),
            list("prod-canary", &["d-CANARY"]),
            get,
        ],
        cloudwatch: vec![alarms.clone()],
        ..Default::default()
    };
    let b = mocks.backend("prod");
    let rs = b.releases(5).await.unwrap();
    assert_eq!(
        rs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["d-CANARY", "d-OLD"]
    );
    let r = &rs[0];
    assert_eq!(
        (r.stage, r.phase),
        (domain::Stage::CanaryBake, domain::ReleasePhase::Baking)
    );
    assert_eq!(r.previous_revision.as_deref(), Some("r1.zip"));
    let bake = r.stages[1].bake.as_ref().unwrap();
    let left = bake.remaining_secs.unwrap();
    assert!((410..=420).contains(&left), "{left}");
    assert_eq!(bake.alarms_label(), "ALARM 5xx-rate");
    assert!(alarms.num_calls() >= 1);
    assert_eq!(rs[1].phase, domain::ReleasePhase::Succeeded);
    assert_eq!(rs[1].stages[0].status, domain::StageStatus::Skipped);
    // The deployments themselves know their group.
    let ds = b.deployments(5).await.unwrap();
    assert_eq!(
        ds.iter()
            .map(|d| (d.id.as_str(), d.group.as_str()))
            .collect::<Vec<_>>(),
        [("d-CANARY", "prod-canary"), ("d-OLD", "prod")]
    );
}

#[tokio::test]
async fn a_rollback_stops_then_creates_each_group_with_the_alarms_off() {
    use aws_sdk_codedeploy::operation::create_deployment::{
        CreateDeploymentError, CreateDeploymentOutput,
    };
    let mut mocks = Mocks::default();
    mocks
        .s3
        .push(mock!(aws_sdk_s3::Client::list_buckets).then_output(|| {
            aws_sdk_s3::operation::list_buckets::ListBucketsOutput::builder()
                .buckets(
                    aws_sdk_s3::types::Bucket::builder()
                        .name("notejam-prod-artifacts")
                        .build(),
                )
                .build()
        }));
    mocks.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_tagging).then_output(|| {
            let tag = |k: &str, v: &str| {
                aws_sdk_s3::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .unwrap()
            };
            aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput::builder()
                .tag_set(tag("Project", "notejam"))
                .tag_set(tag("Environment", "prod"))
                .tag_set(tag("Tier", "storage"))
                .tag_set(tag("Purpose", "artifacts"))
                .build()
                .unwrap()
        }),
    );
    mocks
        .s3
        .push(mock!(aws_sdk_s3::Client::list_objects_v2).then_output(|| {
            aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output::builder()
                .contents(
                    aws_sdk_s3::types::Object::builder()
                        .key("notejam/r1.zip")
                        .last_modified(SdkTime::from_millis(T0))
                        .build(),
                )
                .build()
        }));
    mocks.sts.push(
        mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
                .account("123456789012")
                .arn("arn:aws:iam::123456789012:user/ana")
                .build()
        }),
    );
    let stop = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|r| {
            r.deployment_id() == Some("d-FLEET") && r.auto_rollback_enabled() == Some(false)
        })
        .then_output(|| StopDeploymentOutput::builder().build());
    let alarms_off =
        |r: &aws_sdk_codedeploy::operation::create_deployment::CreateDeploymentInput| {
            r.override_alarm_configuration()
                .is_some_and(|a| !a.enabled())
        };
    // The canary's group is free; the fleet's is still busy with the stopped
    // deployment once, then takes the rollback.
    let canary = mock!(aws_sdk_codedeploy::Client::create_deployment)
        .match_requests(move |r| {
            r.deployment_group_name() == Some("prod-canary")
                && alarms_off(r)
                && r.description().is_some_and(|d| {
                    d.starts_with("Rollback of d-CANARY: ") && d.contains("user/ana")
                })
        })
        .then_output(|| {
            CreateDeploymentOutput::builder()
                .deployment_id("d-RBC")
                .build()
        });
    let fleet = mock!(aws_sdk_codedeploy::Client::create_deployment)
        .match_requests(move |r| {
            r.deployment_group_name() == Some("prod")
                && alarms_off(r)
                && r.revision()
                    .and_then(|v| v.s3_location())
                    .and_then(|s| s.key())
                    == Some("notejam/r1.zip")
        })
        .sequence()
        .error(|| {
            CreateDeploymentError::generic(meta(
                "DeploymentLimitExceededException",
                "The deployment group prod has an active deployment",
            ))
        })
        .output(|| {
            CreateDeploymentOutput::builder()
                .deployment_id("d-RBF")
                .build()
        })
        .build();
    mocks.codedeploy = vec![stop.clone(), canary.clone(), fleet.clone()];
    let b = mocks.backend("prod");
    let request = domain::RollbackRequest {
        revision: "notejam/r1.zip".into(),
        stop: vec!["d-FLEET".into()],
        targets: vec![
            domain::RollbackTarget {
                group: domain::GroupKind::Canary,
                rollback_of: Some("d-CANARY".into()),
            },
            domain::RollbackTarget {
                group: domain::GroupKind::Fleet,
                rollback_of: Some("d-FLEET".into()),
            },
        ],
        description: "release d-CANARY of r2 back to r1".into(),
    };
    let ids = b.roll_back(&request).await.unwrap();
    assert_eq!(ids, ["d-RBC", "d-RBF"]);
    assert_eq!(
        (stop.num_calls(), canary.num_calls(), fleet.num_calls()),
        (1, 1, 2)
    );
    // A revision the bucket does not hold is refused before anything is sent.
    let e = b
        .roll_back(&domain::RollbackRequest {
            revision: "notejam/r9.zip".into(),
            ..request
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("notejam/r1.zip"), "{e}");
    assert_eq!(stop.num_calls(), 1);
}
