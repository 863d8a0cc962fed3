//! S3: the environment's buckets (by tags) and the bundles in the artifacts one.

use aws_sdk_s3::Client;
use futures::{StreamExt, TryStreamExt, stream};

use super::contract;
use super::errors::{SdkResultExt, from_sdk};
use super::time;
use crate::backend::{BackendError, Result};
use crate::domain::{Bucket, BucketPurpose, RevisionInfo};

/// GetBucketTagging calls in flight at once: an account may hold hundreds of
/// buckets and each needs its own call.
const TAGGING_CONCURRENCY: usize = 16;

/// Answers from GetBucketTagging that mean "not one of ours", not a failure: no
/// tags at all, or a bucket in another region (which `BucketRegion` already
/// excludes where the endpoint supports it).
const UNTAGGED_CODES: &[&str] = &[
    "NoSuchTagSet",
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
];

/// The environment's buckets in `region`, by their `Project`/`Environment` tags,
/// sorted by name.
pub(crate) async fn env_buckets(client: &Client, env: &str, region: &str) -> Result<Vec<Bucket>> {
    let mut names = Vec::new();
    let mut pages = client
        .list_buckets()
        .bucket_region(region)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        names.extend(
            page.aws("s3", "ListBuckets")?
                .buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_string)),
        );
    }
    let total = names.len();
    let tagged: Vec<Tagging> = stream::iter(names)
        .map(|name| async move { tagging(client, env, name).await })
        .buffer_unordered(TAGGING_CONCURRENCY)
        .try_collect()
        .await?;
    let denied = tagged
        .iter()
        .filter(|t| matches!(t, Tagging::Denied(_)))
        .count();
    if total > 0 && denied == total {
        // Every bucket refused: the policy lacks s3:GetBucketTagging, which hides
        // the environment's buckets as surely as an outage would.
        if let Some(Tagging::Denied(e)) = tagged.into_iter().next() {
            return Err(e);
        }
        unreachable!("denied == total > 0");
    }
    let mut out: Vec<Bucket> = tagged
        .into_iter()
        .filter_map(|t| match t {
            Tagging::Mine(b) => Some(b),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

enum Tagging {
    Mine(Bucket),
    NotMine,
    /// One bucket's policy refusing us is that bucket's business, not an error.
    Denied(BackendError),
}

async fn tagging(client: &Client, env: &str, name: String) -> Result<Tagging> {
    match client.get_bucket_tagging().bucket(&name).send().await {
        Ok(out) => {
            let pairs = out.tag_set().iter().map(|t| (t.key(), t.value()));
            if !contract::is_env_tagged(env, pairs.clone()) {
                return Ok(Tagging::NotMine);
            }
            let purpose =
                contract::tag_value(pairs, contract::TAG_PURPOSE).and_then(BucketPurpose::parse);
            Ok(Tagging::Mine(Bucket { name, purpose }))
        }
        Err(e) => {
            use aws_sdk_s3::error::ProvideErrorMetadata;
            if e.code().is_some_and(|c| UNTAGGED_CODES.contains(&c)) {
                return Ok(Tagging::NotMine);
            }
            match from_sdk("s3", "GetBucketTagging", e) {
                denied @ BackendError::AccessDenied { .. } => Ok(Tagging::Denied(denied)),
                // Deleted between the listing and now.
                BackendError::NotFound { .. } => Ok(Tagging::NotMine),
                other => Err(other),
            }
        }
    }
}

/// A deployable bundle and the eTag of its bytes, as the listing gave them.
pub(crate) struct Bundle {
    pub info: RevisionInfo,
    /// Unquoted; a deployment pinned to it deploys these bytes or nothing.
    pub etag: Option<String>,
}

/// Deployable bundles (`.zip` objects) in `bucket`, newest first.
pub(crate) async fn bundles(client: &Client, bucket: &str) -> Result<Vec<Bundle>> {
    let mut out = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for o in page.aws("s3", "ListObjectsV2")?.contents() {
            let (Some(key), Some(created)) = (o.key(), time::opt(o.last_modified())) else {
                continue;
            };
            if key.to_ascii_lowercase().ends_with(".zip") {
                out.push(Bundle {
                    info: RevisionInfo {
                        name: key.to_string(),
                        created,
                        size_bytes: o.size().and_then(|s| u64::try_from(s).ok()),
                    },
                    etag: o
                        .e_tag()
                        .map(|t| t.trim_matches('"').to_string())
                        .filter(|t| !t.is_empty()),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.info
            .created
            .cmp(&a.info.created)
            .then_with(|| b.info.name.cmp(&a.info.name))
    });
    Ok(out)
}

/// The bundle named `key` in `bundles`, or which ones there are.
pub(crate) fn find_bundle(bundles: Vec<Bundle>, key: &str) -> Result<Bundle> {
    let mut names = Vec::new();
    for b in bundles {
        if b.info.name == key {
            return Ok(b);
        }
        if names.len() < 10 {
            names.push(b.info.name);
        }
    }
    Err(BackendError::NotFound {
        what: "revision",
        id: key.to_string(),
        choices: names,
    })
}
