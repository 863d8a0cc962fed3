//! Seeds environments into moto with the SDK, exactly as the naming contract
//! (design section 3) says Terraform creates them, and builds backends on them.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use aws_smithy_types::DateTime as SdkTime;
use chrono::{DurationRound, Utc};

use njtui::aws::{AwsBackend, AwsOptions};

pub const ACCOUNT: &str = "123456789012";

fn credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "njtui-tests")
}

/// The configuration a test's own seeding clients use.
pub async fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .load()
        .await
}

/// The backend under test, built through `connect_with` as the console builds it
/// (only the credentials are given explicitly instead of read from the
/// environment).
pub async fn backend(endpoint: &str, region: &str, env: &str) -> AwsBackend {
    let loader =
        aws_config::defaults(BehaviorVersion::latest()).credentials_provider(credentials());
    AwsBackend::connect_with(
        AwsOptions {
            env: env.to_string(),
            profile: None,
            region: Some(region.to_string()),
            endpoint_url: Some(endpoint.to_string()),
            terraform_dir: None,
        },
        loader,
    )
    .await
    .expect("connect")
}

/// What to create for one environment.
#[derive(Clone, Debug)]
pub struct EnvSpec {
    pub env: &'static str,
    pub web: i32,
    pub bastion: i32,
    /// Events in the app log group (other groups get a few each).
    pub app_log_events: usize,
    /// Second octet of the VPC's 10.x.0.0/16.
    pub net: u8,
    /// RequestCount per minute, so environments' metrics tell apart.
    pub requests_per_minute: f64,
}

impl EnvSpec {
    pub fn small(env: &'static str, net: u8) -> EnvSpec {
        EnvSpec {
            env,
            web: 2,
            bastion: 1,
            app_log_events: 20,
            net,
            requests_per_minute: 100.0,
        }
    }
}

/// Names of what was created.
#[derive(Clone, Debug)]
pub struct Seeded {
    pub env: String,
    pub region: String,
    pub vpc_id: String,
    pub subnets: Vec<String>,
    pub web_group: String,
    pub bastion_group: String,
    pub load_balancer: String,
    pub load_balancer_arn: String,
    pub target_group_arn: String,
    pub database: String,
    pub database_host: String,
    pub artifacts_bucket: String,
    pub backups_bucket: String,
    pub logs_bucket: String,
    pub bundles: Vec<String>,
    /// When the seeded log events start; they are 100 ms apart.
    pub logs_start: chrono::DateTime<Utc>,
}

fn ec2_tags(env: &str, tier: &str, name: &str) -> Vec<aws_sdk_ec2::types::Tag> {
    [
        ("Project", "notejam"),
        ("Environment", env),
        ("Tier", tier),
        ("Name", name),
    ]
    .into_iter()
    .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
    .collect()
}

fn spec(
    rt: aws_sdk_ec2::types::ResourceType,
    tags: Vec<aws_sdk_ec2::types::Tag>,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(rt)
        .set_tags(Some(tags))
        .build()
}

fn ms(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn sdk_time(t: chrono::DateTime<Utc>) -> SdkTime {
    SdkTime::from_millis(t.timestamp_millis())
}

/// Creates the whole environment `s.env` in the region of `cfg`.
pub async fn seed_env(cfg: &SdkConfig, s: &EnvSpec) -> Seeded {
    let env = s.env;
    let region = cfg.region().expect("region").to_string();
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let asg = aws_sdk_autoscaling::Client::new(cfg);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(cfg);
    let rds = aws_sdk_rds::Client::new(cfg);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(true)
            .build(),
    );
    let cd = aws_sdk_codedeploy::Client::new(cfg);
    let logs = aws_sdk_cloudwatchlogs::Client::new(cfg);
    let cw = aws_sdk_cloudwatch::Client::new(cfg);
    let bk = aws_sdk_backup::Client::new(cfg);
    let ssm = aws_sdk_ssm::Client::new(cfg);
    use aws_sdk_ec2::types::ResourceType;

    // Network: a VPC, two public and two private subnets.
    let vpc_id = ec2
        .create_vpc()
        .cidr_block(format!("10.{}.0.0/16", s.net))
        .tag_specifications(spec(
            ResourceType::Vpc,
            ec2_tags(env, "network", &format!("notejam-{env}")),
        ))
        .send()
        .await
        .expect("create vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let mut subnets = Vec::new();
    for (i, (kind, az)) in [
        ("public", "a"),
        ("public", "b"),
        ("private", "a"),
        ("private", "b"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.{}.{}.0/24", s.net, i + 1))
            .availability_zone(format!("{region}{az}"))
            .tag_specifications(spec(
                ResourceType::Subnet,
                ec2_tags(env, "network", &format!("notejam-{env}-{kind}-{az}")),
            ))
            .send()
            .await
            .expect("create subnet")
            .subnet()
            .and_then(|s| s.subnet_id())
            .expect("subnet id")
            .to_string();
        if kind == "public" {
            ec2.modify_subnet_attribute()
                .subnet_id(&id)
                .map_public_ip_on_launch(
                    aws_sdk_ec2::types::AttributeBooleanValue::builder()
                        .value(true)
                        .build(),
                )
                .send()
                .await
                .expect("public subnet");
        }
        subnets.push(id);
    }

    // Web tier: launch template, target group, ALB, Auto Scaling groups.
    let template = format!("notejam-{env}-web");
    ec2.create_launch_template()
        .launch_template_name(&template)
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id("ami-12c6146b")
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Small)
                .build(),
        )
        .send()
        .await
        .expect("launch template");
    let elb_tags = |tier: &str| -> Vec<aws_sdk_elasticloadbalancingv2::types::Tag> {
        [("Project", "notejam"), ("Environment", env), ("Tier", tier)]
            .into_iter()
            .map(|(k, v)| {
                aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
            })
            .collect()
    };
    let target_group_arn = elb
        .create_target_group()
        .name(format!("notejam-{env}-web"))
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc_id)
        .set_tags(Some(elb_tags("web")))
        .send()
        .await
        .expect("target group")
        .target_groups()[0]
        .target_group_arn()
        .expect("tg arn")
        .to_string();
    let load_balancer = format!("notejam-{env}");
    let lb = elb
        .create_load_balancer()
        .name(&load_balancer)
        .subnets(&subnets[0])
        .subnets(&subnets[1])
        .set_tags(Some(elb_tags("edge")))
        .send()
        .await
        .expect("load balancer");
    let load_balancer_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .expect("lb arn")
        .to_string();
    elb.create_listener()
        .load_balancer_arn(&load_balancer_arn)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&target_group_arn)
                .build(),
        )
        .send()
        .await
        .expect("listener");

    let asg_tags = |name: &str, tier: &str| -> Vec<aws_sdk_autoscaling::types::Tag> {
        [
            ("Project", "notejam"),
            ("Environment", env),
            ("Tier", tier),
            ("Name", name),
        ]
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_autoscaling::types::Tag::builder()
                .key(k)
                .value(v)
                .propagate_at_launch(true)
                .resource_id(name)
                .resource_type("auto-scaling-group")
                .build()
        })
        .collect()
    };
    let web_group = format!("notejam-{env}-web");
    let bastion_group = format!("notejam-{env}-bastion");
    let lt = || {
        aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
            .launch_template_name(&template)
            .build()
    };
    asg.create_auto_scaling_group()
        .auto_scaling_group_name(&web_group)
        .launch_template(lt())
        .min_size(1)
        .max_size(s.web.max(4) * 2)
        .desired_capacity(s.web)
        .vpc_zone_identifier(format!("{},{}", subnets[2], subnets[3]))
        .target_group_arns(&target_group_arn)
        .set_tags(Some(asg_tags(&web_group, "web")))
        .send()
        .await
        .expect("web group");
    asg.create_auto_scaling_group()
        .auto_scaling_group_name(&bastion_group)
        .launch_template(lt())
        .min_size(s.bastion.min(1))
        .max_size(2)
        .desired_capacity(s.bastion)
        .vpc_zone_identifier(subnets[0].clone())
        .set_tags(Some(asg_tags(&bastion_group, "bastion")))
        .send()
        .await
        .expect("bastion group");

    // Database.
    let rds_tags: Vec<aws_sdk_rds::types::Tag> = [
        ("Project", "notejam"),
        ("Environment", env),
        ("Tier", "database"),
    ]
    .into_iter()
    .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
    .collect();
    rds.create_db_subnet_group()
        .db_subnet_group_name(format!("notejam-{env}-db"))
        .db_subnet_group_description("notejam database subnets")
        .subnet_ids(&subnets[2])
        .subnet_ids(&subnets[3])
        .send()
        .await
        .expect("db subnet group");
    let database = format!("notejam-{env}");
    rds.create_db_parameter_group()
        .db_parameter_group_name(&database)
        .db_parameter_group_family("postgres16")
        .description("notejam database settings")
        .send()
        .await
        .expect("db parameter group");
    let db = rds
        .create_db_instance()
        .db_instance_identifier(&database)
        .engine("postgres")
        .engine_version("16.4")
        .db_instance_class("db.t4g.small")
        .allocated_storage(20)
        .master_username("notejam")
        .master_user_password("correct-horse-battery")
        .db_subnet_group_name(format!("notejam-{env}-db"))
        .db_parameter_group_name(&database)
        .enable_cloudwatch_logs_exports("postgresql")
        .multi_az(env == "prod")
        .backup_retention_period(7)
        .set_tags(Some(rds_tags))
        .send()
        .await
        .expect("db instance");
    let database_host = db
        .db_instance()
        .and_then(|d| d.endpoint())
        .and_then(|e| e.address())
        .expect("db endpoint")
        .to_string();
    ssm.put_parameter()
        .name(format!("/notejam/{env}/database/host"))
        .value(&database_host)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("host parameter");

    // Buckets, tagged by purpose, with bundles in the artifacts one.
    let mut buckets = Vec::new();
    for purpose in ["artifacts", "backups", "alb-logs"] {
        let name = format!("notejam-{env}-{region}-{purpose}");
        let mut create = s3.create_bucket().bucket(&name);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        region.as_str(),
                    ))
                    .build(),
            );
        }
        create.send().await.expect("create bucket");
        let tag = |k: &str, v: &str| {
            aws_sdk_s3::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .unwrap()
        };
        s3.put_bucket_tagging()
            .bucket(&name)
            .tagging(
                aws_sdk_s3::types::Tagging::builder()
                    .tag_set(tag("Project", "notejam"))
                    .tag_set(tag("Environment", env))
                    .tag_set(tag("Tier", "storage"))
                    .tag_set(tag("Purpose", purpose))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("bucket tags");
        buckets.push(name);
    }
    let bundles = vec![
        "releases/notejam-1.0.0.zip".to_string(),
        "releases/notejam-1.1.0.zip".to_string(),
    ];
    for key in bundles
        .iter()
        .chain(std::iter::once(&"releases/README.txt".to_string()))
    {
        s3.put_object()
            .bucket(&buckets[0])
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(
                key.as_bytes().to_vec(),
            ))
            .send()
            .await
            .expect("bundle");
        // Distinct modification times, so "newest first" is checkable.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }

    // Delivery.
    let _ = cd
        .create_application()
        .application_name("notejam")
        .compute_platform(aws_sdk_codedeploy::types::ComputePlatform::Server)
        .send()
        .await;
    cd.create_deployment_group()
        .application_name("notejam")
        .deployment_group_name(env)
        .service_role_arn(format!(
            "arn:aws:iam::{ACCOUNT}:role/notejam-{env}-codedeploy"
        ))
        .auto_scaling_groups(&web_group)
        .send()
        .await
        .expect("deployment group");
    // The canary: the one instance tagged Canary=true, all at once.
    let tag = |k: &str, v: &str| {
        aws_sdk_codedeploy::types::Ec2TagFilter::builder()
            .key(k)
            .value(v)
            .r#type(aws_sdk_codedeploy::types::Ec2TagFilterType::KeyAndValue)
            .build()
    };
    cd.create_deployment_group()
        .application_name("notejam")
        .deployment_group_name(format!("{env}-canary"))
        .deployment_config_name("CodeDeployDefault.AllAtOnce")
        .service_role_arn(format!(
            "arn:aws:iam::{ACCOUNT}:role/notejam-{env}-codedeploy"
        ))
        .ec2_tag_filters(tag("Canary", "true"))
        .ec2_tag_filters(tag("Project", "notejam"))
        .ec2_tag_filters(tag("Environment", env))
        .send()
        .await
        .expect("canary deployment group");

    // Backup vault and plan.
    bk.create_backup_vault()
        .backup_vault_name(format!("notejam-{env}"))
        .send()
        .await
        .expect("vault");
    bk.create_backup_plan()
        .backup_plan(
            aws_sdk_backup::types::BackupPlanInput::builder()
                .backup_plan_name(format!("notejam-{env}-daily"))
                .rules(
                    aws_sdk_backup::types::BackupRuleInput::builder()
                        .rule_name("daily")
                        .target_backup_vault_name(format!("notejam-{env}"))
                        .schedule_expression("cron(0 3 * * ? *)")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("plan");

    // Logs.
    // Whole milliseconds, CloudWatch's resolution, so tests can name exact instants.
    let logs_start = (Utc::now() - chrono::Duration::minutes(30))
        .duration_trunc(chrono::Duration::milliseconds(1))
        .unwrap();
    for source in ["app", "system", "codedeploy", "audit"] {
        logs.create_log_group()
            .log_group_name(format!("/notejam/{env}/{source}"))
            .send()
            .await
            .expect("log group");
    }
    logs.create_log_group()
        .log_group_name(format!("/aws/rds/instance/notejam-{env}/postgresql"))
        .send()
        .await
        .expect("rds log group");
    let app: Vec<(i64, String)> = (0..s.app_log_events)
        .map(|i| {
            let t = logs_start + chrono::Duration::milliseconds(100 * i as i64);
            let msg = if i % 10 == 7 {
                format!(r#"{{"level":"error","msg":"GET /notes/{i} 500 {env}","n":{i}}}"#)
            } else {
                format!(r#"{{"level":"info","msg":"GET /notes/{i} 200 {env}","n":{i}}}"#)
            };
            (ms(t), msg)
        })
        .collect();
    put_events(&logs, &format!("/notejam/{env}/app"), "i-web-1", &app).await;
    let few = |what: &str| -> Vec<(i64, String)> {
        (0..3)
            .map(|i| {
                (
                    ms(logs_start + chrono::Duration::seconds(i)),
                    format!("{what} line {i} of {env}"),
                )
            })
            .collect()
    };
    put_events(
        &logs,
        &format!("/notejam/{env}/system"),
        "i-web-1",
        &few("syslog"),
    )
    .await;
    put_events(
        &logs,
        &format!("/notejam/{env}/codedeploy"),
        "i-web-1",
        &few("[INFO] deploy"),
    )
    .await;
    put_events(
        &logs,
        &format!("/aws/rds/instance/notejam-{env}/postgresql"),
        &database,
        &few("LOG:  checkpoint"),
    )
    .await;

    // Metrics for the last hour, one point a minute, and alarms on two of them.
    let end = Utc::now()
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap();
    let lb_dim = load_balancer_arn
        .split("loadbalancer/")
        .nth(1)
        .unwrap()
        .to_string();
    let tg_dim = format!(
        "targetgroup/{}",
        target_group_arn.split("targetgroup/").nth(1).unwrap()
    );
    let dim = |n: &str, v: &str| {
        aws_sdk_cloudwatch::types::Dimension::builder()
            .name(n)
            .value(v)
            .build()
    };
    let datum = |m: &str, dims: Vec<aws_sdk_cloudwatch::types::Dimension>, t, v| {
        aws_sdk_cloudwatch::types::MetricDatum::builder()
            .metric_name(m)
            .set_dimensions(Some(dims))
            .timestamp(sdk_time(t))
            .value(v)
            .build()
    };
    let mut alb = Vec::new();
    let mut ec2m = Vec::new();
    let mut rdsm = Vec::new();
    for k in 1..=60 {
        let t = end - chrono::Duration::minutes(k) + chrono::Duration::seconds(10);
        let lb = || vec![dim("LoadBalancer", &lb_dim)];
        alb.push(datum("RequestCount", lb(), t, s.requests_per_minute));
        alb.push(datum("TargetResponseTime", lb(), t, 0.05));
        alb.push(datum("HTTPCode_Target_5XX_Count", lb(), t, 2.0));
        alb.push(datum("HTTPCode_ELB_5XX_Count", lb(), t, 1.0));
        alb.push(datum(
            "HealthyHostCount",
            vec![dim("TargetGroup", &tg_dim), dim("LoadBalancer", &lb_dim)],
            t,
            f64::from(s.web),
        ));
        ec2m.push(datum(
            "CPUUtilization",
            vec![dim("AutoScalingGroupName", &web_group)],
            t,
            35.0,
        ));
        ec2m.push(datum(
            "CPUUtilization",
            vec![dim("AutoScalingGroupName", &bastion_group)],
            t,
            3.0,
        ));
        let db = || vec![dim("DBInstanceIdentifier", &database)];
        rdsm.push(datum("DatabaseConnections", db(), t, 12.0));
        rdsm.push(datum("CPUUtilization", db(), t, 20.0));
        rdsm.push(datum(
            "FreeStorageSpace",
            db(),
            t,
            15.0 * 1024.0 * 1024.0 * 1024.0,
        ));
    }
    for (ns, data) in [
        ("AWS/ApplicationELB", alb),
        ("AWS/EC2", ec2m),
        ("AWS/RDS", rdsm),
    ] {
        for chunk in data.chunks(500) {
            cw.put_metric_data()
                .namespace(ns)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
                .expect("metric data");
        }
    }
    cw.put_metric_alarm()
        .alarm_name(format!("notejam-{env}-latency-p99"))
        .namespace("AWS/ApplicationELB")
        .metric_name("TargetResponseTime")
        .dimensions(dim("LoadBalancer", &lb_dim))
        .extended_statistic("p99")
        .period(60)
        .evaluation_periods(3)
        .threshold(1.5)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("latency alarm");
    cw.put_metric_alarm()
        .alarm_name(format!("notejam-{env}-web-cpu-high"))
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .dimensions(dim("AutoScalingGroupName", &web_group))
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(80.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("cpu alarm");

    Seeded {
        env: env.to_string(),
        region,
        vpc_id,
        subnets,
        web_group,
        bastion_group,
        load_balancer,
        load_balancer_arn,
        target_group_arn,
        database,
        database_host,
        artifacts_bucket: buckets[0].clone(),
        backups_bucket: buckets[1].clone(),
        logs_bucket: buckets[2].clone(),
        bundles,
        logs_start,
    }
}

/// PutLogEvents in batches under the 10,000-event limit.
pub async fn put_events(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    events: &[(i64, String)],
) {
    let _ = logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    for chunk in events.chunks(5_000) {
        let batch = chunk
            .iter()
            .map(|(t, m)| {
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(*t)
                    .message(m)
                    .build()
                    .unwrap()
            })
            .collect();
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(batch))
            .send()
            .await
            .expect("put log events");
    }
}

/// Things that belong to no environment of ours, which discovery must ignore.
pub async fn seed_strangers(cfg: &SdkConfig) {
    let region = cfg.region().expect("region").to_string();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(true)
            .build(),
    );
    let mut create = s3.create_bucket().bucket(format!("unrelated-{region}"));
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    create.send().await.expect("untagged bucket");
}
