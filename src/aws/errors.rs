//! How SDK errors become [`BackendError`]s.
//!
//! The console acts on the kind, not the text: `Throttled` and `Unreachable` are
//! transient (it shows itself offline and retries), `Unsupported` means the endpoint
//! lacks the operation (an emulator) and the caller degrades, `NotFound` is refined
//! by the caller with the resource's name and the valid choices.

use std::error::Error as StdError;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::backend::BackendError;

/// Error codes AWS services use for throttling (the SDK's own retry classifier
/// retries these; once retries are spent they surface as `Throttled`).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes meaning the caller's credentials or permissions are not good enough.
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
];

/// Error codes an endpoint returns for an operation it does not implement.
const UNSUPPORTED_CODES: &[&str] = &[
    "UnknownOperationException",
    "InvalidAction",
    "NotImplemented",
    "UnsupportedOperation",
    "UnsupportedOperationException",
];

/// Maps an SDK error of `service`'s `operation` to a [`BackendError`].
pub(crate) fn from_sdk<E>(
    service: &'static str,
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
) -> BackendError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    // AWS answers errors in its protocol's format, never with a web page; an
    // emulator answers operations it does not implement with an HTML 404/500/501.
    let html = err.raw_response().is_some_and(|r| {
        r.headers()
            .get("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
            && r.body()
                .bytes()
                .is_some_and(|b| b.trim_ascii_start().starts_with(b"<"))
    });
    if html && err.code().is_none() && matches!(status, Some(404 | 500 | 501)) {
        return BackendError::Unsupported(format!("{service} {operation}"));
    }
    classify(
        service,
        operation,
        status,
        err.code(),
        err.message(),
        &err,
        matches!(err, SdkError::ServiceError(_)),
    )
}

/// Maps an SDK error whose raw response is not HTTP (an event stream message).
pub(crate) fn from_stream<E, R>(
    service: &'static str,
    operation: &'static str,
    err: SdkError<E, R>,
) -> BackendError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    classify(
        service,
        operation,
        None,
        err.code(),
        err.message(),
        &err,
        matches!(err, SdkError::ServiceError(_)),
    )
}

fn classify<E, R>(
    service: &'static str,
    operation: &'static str,
    status: Option<u16>,
    code: Option<&str>,
    message: Option<&str>,
    err: &SdkError<E, R>,
    is_service_error: bool,
) -> BackendError
where
    E: StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let service_s = service.to_string();
    let full = || chain(err);
    match err {
        SdkError::TimeoutError(_) => {
            return BackendError::Unreachable {
                service: service_s,
                message: format!("{operation} timed out"),
            };
        }
        SdkError::DispatchFailure(d) => {
            if d.is_io() || d.is_timeout() {
                return BackendError::Unreachable {
                    service: service_s,
                    message: format!("{operation}: {}", innermost(err)),
                };
            }
            // Credential and configuration problems surface as "other" dispatch
            // failures; the operator fixes them, retrying does not.
            let detail = full();
            if detail.contains("credential") {
                return BackendError::Other(format!(
                    "no usable AWS credentials for {service} {operation}: pass --profile (after `aws sso login` for an SSO profile), set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance role is available ({detail})"
                ));
            }
            return BackendError::Other(format!("{service} {operation} failed: {detail}"));
        }
        SdkError::ConstructionFailure(_) => {
            return BackendError::Other(format!(
                "{service} {operation}: cannot build the request: {}",
                full()
            ));
        }
        _ => {}
    }
    let message_s = message.unwrap_or_default().to_string();
    if let Some(code) = code {
        if THROTTLING_CODES.contains(&code) {
            return BackendError::Throttled {
                service: service_s,
                message: non_empty(message_s, code),
            };
        }
        if ACCESS_CODES.contains(&code) {
            return BackendError::AccessDenied {
                service: service_s,
                message: format!("{operation}: {}", non_empty(message_s, code)),
            };
        }
        if UNSUPPORTED_CODES.contains(&code) {
            return BackendError::Unsupported(format!("{service} {operation}"));
        }
        if is_not_found_code(code) {
            return BackendError::NotFound {
                what: "resource",
                id: non_empty(message_s, code),
                choices: vec![],
            };
        }
        return BackendError::Api {
            service: service_s,
            code: code.to_string(),
            message: non_empty(message_s, operation),
        };
    }
    match status {
        // An endpoint that does not route the operation at all answers 404 (or
        // 501) with no AWS error code: an emulator lacking it.
        Some(404) | Some(501) => BackendError::Unsupported(format!("{service} {operation}")),
        Some(429) => BackendError::Throttled {
            service: service_s,
            message: format!("{operation}: HTTP 429"),
        },
        Some(403) => BackendError::AccessDenied {
            service: service_s,
            message: format!("{operation}: HTTP 403"),
        },
        Some(s) => BackendError::Api {
            service: service_s,
            code: format!("HTTP {s}"),
            message: if is_service_error {
                format!("{operation} failed")
            } else {
                format!("{operation}: the response could not be read")
            },
        },
        None => BackendError::Api {
            service: service_s,
            code: "Unknown".into(),
            message: format!("{operation}: {}", full()),
        },
    }
}

/// Whether an AWS error code says the named resource does not exist.
pub(crate) fn is_not_found_code(code: &str) -> bool {
    code.contains("NotFound")
        || code.ends_with("DoesNotExistException")
        || code.starts_with("NoSuch")
}

fn non_empty(message: String, fallback: &str) -> String {
    if message.is_empty() {
        fallback.to_string()
    } else {
        message
    }
}

/// The error's messages from the outside in, without the debug dumps SDK errors
/// append; repeated links (each layer restating its source) appear once.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The innermost message ("Connection refused (os error 111)"): the outer ones
/// only repeat "dispatch failure".
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut e = err;
    while let Some(s) = e.source() {
        e = s;
    }
    e.to_string()
}

/// `result.aws("ec2", "DescribeVpcs")?` maps an SDK result's error.
pub(crate) trait SdkResultExt<T> {
    fn aws(self, service: &'static str, operation: &'static str) -> Result<T, BackendError>;
}

impl<T, E> SdkResultExt<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn aws(self, service: &'static str, operation: &'static str) -> Result<T, BackendError> {
        self.map_err(|e| from_sdk(service, operation, e))
    }
}

/// Treats "not found" and "unsupported" as absence, for parts of an environment
/// that may legitimately not exist (or an emulator that lacks the service).
pub(crate) fn optional<T>(r: Result<T, BackendError>) -> Result<Option<T>, BackendError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(BackendError::NotFound { .. } | BackendError::Unsupported(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(
        code: Option<&str>,
        status: u16,
    ) -> SdkError<GetCallerIdentityError, HttpResponse> {
        let mut meta = ErrorMetadata::builder().message("the message");
        if let Some(c) = code {
            meta = meta.code(c);
        }
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(GetCallerIdentityError::generic(meta.build()), raw)
    }

    #[test]
    fn codes_map_to_kinds() {
        let e = from_sdk(
            "sts",
            "GetCallerIdentity",
            service_error(Some("ThrottlingException"), 400),
        );
        assert!(matches!(e, BackendError::Throttled { .. }), "{e:?}");
        let e = from_sdk(
            "sts",
            "GetCallerIdentity",
            service_error(Some("AccessDenied"), 403),
        );
        assert!(matches!(e, BackendError::AccessDenied { .. }), "{e:?}");
        let e = from_sdk(
            "sts",
            "GetCallerIdentity",
            service_error(Some("DBInstanceNotFound"), 404),
        );
        assert!(matches!(e, BackendError::NotFound { .. }), "{e:?}");
        let e = from_sdk(
            "sts",
            "GetCallerIdentity",
            service_error(Some("ValidationError"), 400),
        );
        assert_eq!(
            e,
            BackendError::Api {
                service: "sts".into(),
                code: "ValidationError".into(),
                message: "the message".into()
            }
        );
    }

    #[test]
    fn an_uncoded_404_is_an_unsupported_operation() {
        let e = from_sdk(
            "backup",
            "ListRecoveryPointsByBackupVault",
            service_error(None, 404),
        );
        assert_eq!(
            e,
            BackendError::Unsupported("backup ListRecoveryPointsByBackupVault".into())
        );
        let e = from_sdk("sts", "GetCallerIdentity", service_error(None, 500));
        assert!(
            matches!(e, BackendError::Api { ref code, .. } if code == "HTTP 500"),
            "{e:?}"
        );
    }

    #[test]
    fn an_html_page_from_an_emulator_is_an_unsupported_operation() {
        let mut raw = HttpResponse::new(
            500.try_into().unwrap(),
            SdkBody::from("<!doctype html><title>500</title>"),
        );
        raw.headers_mut()
            .insert("content-type", "text/html; charset=utf-8");
        let err: SdkError<GetCallerIdentityError, HttpResponse> = SdkError::service_error(
            GetCallerIdentityError::generic(ErrorMetadata::builder().build()),
            raw,
        );
        assert_eq!(
            from_sdk("codedeploy", "ListDeploymentTargets", err),
            BackendError::Unsupported("codedeploy ListDeploymentTargets".into())
        );
    }

    #[test]
    fn optional_hides_only_absence() {
        assert_eq!(
            optional::<u8>(Err(BackendError::Unsupported("x".into()))),
            Ok(None)
        );
        let denied = BackendError::AccessDenied {
            service: "backup".into(),
            message: "no".into(),
        };
        assert_eq!(optional::<u8>(Err(denied.clone())), Err(denied));
    }
}
