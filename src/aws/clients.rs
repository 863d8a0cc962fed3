//! One SDK client per service, all from one configuration.

use aws_config::SdkConfig;

/// The service clients the backend uses. Public so callers can build a backend
/// from their own clients (`AwsBackend::from_clients`), which is how the tests
/// inject mocked responses.
#[derive(Clone, Debug)]
pub struct Clients {
    pub sts: aws_sdk_sts::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub rds: aws_sdk_rds::Client,
    pub s3: aws_sdk_s3::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub backup: aws_sdk_backup::Client,
    pub ssm: aws_sdk_ssm::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Clients {
        // Emulators serve every bucket from one host: virtual-hosted bucket names
        // would not resolve.
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Clients {
            sts: aws_sdk_sts::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            autoscaling: aws_sdk_autoscaling::Client::new(config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(config),
            rds: aws_sdk_rds::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            codedeploy: aws_sdk_codedeploy::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            backup: aws_sdk_backup::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
        }
    }
}
