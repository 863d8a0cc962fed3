//! SDK clients answering from aws-smithy-mocks rules, for what moto lacks or gets
//! wrong: live tail, deployment states, AWS Backup, throttling, malformed answers.

use std::time::Duration;

use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};

use njtui::aws::{AwsBackend, Clients};

pub const REGION: &str = "eu-west-1";

/// Rules per service; a service without rules answers every call with the mock
/// HTTP client's 418, which the backend reports as an error.
#[derive(Default, Clone)]
pub struct Mocks {
    pub sts: Vec<Rule>,
    pub ec2: Vec<Rule>,
    pub autoscaling: Vec<Rule>,
    pub elbv2: Vec<Rule>,
    pub rds: Vec<Rule>,
    pub s3: Vec<Rule>,
    pub codedeploy: Vec<Rule>,
    pub cloudwatch: Vec<Rule>,
    pub logs: Vec<Rule>,
    pub backup: Vec<Rule>,
    pub ssm: Vec<Rule>,
}

fn interceptor(rules: &[Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .allow_passthrough(),
        |i, r| i.with_rule(r),
    )
}

/// A client of `$sdk` with the backend's timeouts and the SDK's standard retry
/// (3 attempts), backing off in milliseconds so tests stay fast.
macro_rules! mocked {
    ($sdk:ident, $rules:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new(REGION))
                .credentials_provider($sdk::config::Credentials::new(
                    "mock", "mock", None, None, "mocks",
                ))
                .http_client(create_mock_http_client())
                .interceptor(interceptor($rules))
                .retry_config(
                    $sdk::config::retry::RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(2))
                        .with_max_backoff(Duration::from_millis(10)),
                )
                .timeout_config(njtui::aws::retry::timeouts())
                .build(),
        )
    };
}

impl Mocks {
    pub fn clients(&self) -> Clients {
        Clients {
            sts: mocked!(aws_sdk_sts, &self.sts),
            ec2: mocked!(aws_sdk_ec2, &self.ec2),
            autoscaling: mocked!(aws_sdk_autoscaling, &self.autoscaling),
            elbv2: mocked!(aws_sdk_elasticloadbalancingv2, &self.elbv2),
            rds: mocked!(aws_sdk_rds, &self.rds),
            s3: mocked!(aws_sdk_s3, &self.s3),
            codedeploy: mocked!(aws_sdk_codedeploy, &self.codedeploy),
            cloudwatch: mocked!(aws_sdk_cloudwatch, &self.cloudwatch),
            logs: mocked!(aws_sdk_cloudwatchlogs, &self.logs),
            backup: mocked!(aws_sdk_backup, &self.backup),
            ssm: mocked!(aws_sdk_ssm, &self.ssm),
        }
    }

    pub fn backend(&self, env: &str) -> AwsBackend {
        AwsBackend::from_clients(env, REGION, self.clients())
    }
}

/// Error metadata with an AWS error code, as a service would answer.
pub fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

/// An HTTP answer with a content type and body.
pub fn http(
    status: u16,
    content_type: &str,
    body: impl Into<SdkBody>,
) -> aws_sdk_sts::config::http::HttpResponse {
    let mut r =
        aws_sdk_sts::config::http::HttpResponse::new(status.try_into().unwrap(), body.into());
    r.headers_mut()
        .insert("content-type", content_type.to_string());
    r
}

/// The page an emulator shows for an operation it does not have.
pub fn html_404() -> aws_sdk_sts::config::http::HttpResponse {
    http(
        404,
        "text/html; charset=utf-8",
        "<!doctype html>\n<title>404 Not Found</title>\n",
    )
}

/// One event-stream frame of a StartLiveTail response.
pub fn live_tail_frame(event_type: &str, payload: serde_json::Value) -> Vec<u8> {
    let message = Message::new(serde_json::to_vec(&payload).unwrap())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_string().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut buf = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut buf).unwrap();
    buf
}
