//! Loading the SDK configuration: credentials, region, endpoint and timeouts
//! through the standard chain, without touching the network for anything but a
//! last-resort region lookup.

use std::time::Duration;

use anyhow::{Result, bail};
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::{ConfigLoader, Region, SdkConfig};

use super::{AwsOptions, retry};

/// Builds the configuration every client shares from `loader` (normally
/// `aws_config::defaults(BehaviorVersion::latest())`). Credentials stay lazy: they
/// are resolved on the first call, so connecting never waits for SSO or IMDS.
pub(crate) async fn load(opts: &AwsOptions, mut loader: ConfigLoader) -> Result<SdkConfig> {
    if let Some(profile) = &opts.profile {
        if profile.trim().is_empty() {
            bail!("--profile is empty: name a profile from ~/.aws/config");
        }
        loader = loader.profile_name(profile);
    }
    let region = resolve_region(opts).await?;
    loader = loader.region(region).timeout_config(retry::timeouts());
    if let Some(url) = &opts.endpoint_url {
        validate_endpoint(url)?;
        loader = loader.endpoint_url(url.trim_end_matches('/'));
    }
    Ok(loader.load().await)
}

fn validate_endpoint(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !host.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => bail!(
            "invalid --endpoint-url '{url}': give an http:// or https:// URL, e.g. http://127.0.0.1:5000"
        ),
    }
}

/// `--region`, else `AWS_REGION`/`AWS_DEFAULT_REGION`, else the profile's
/// `region`, else the instance's own region from IMDSv2 (the bastion). The IMDS
/// lookup is bounded to about a second so a laptop without a region fails fast.
async fn resolve_region(opts: &AwsOptions) -> Result<Region> {
    if let Some(r) = &opts.region {
        let r = r.trim();
        if r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            bail!("invalid --region '{r}': expected a region name such as eu-west-1");
        }
        return Ok(Region::new(r.to_string()));
    }
    let mut profile = ProfileFileRegionProvider::builder();
    if let Some(p) = &opts.profile {
        profile = profile.profile_name(p);
    }
    let imds = aws_config::imds::Client::builder()
        .max_attempts(1)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_millis(500))
        .operation_timeout(Duration::from_secs(1))
        .build();
    let chain = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(profile.build())
        .or_else(ImdsRegionProvider::builder().imds_client(imds).build());
    match chain.region().await {
        Some(r) => Ok(r),
        None => bail!(
            "no AWS region for environment '{}': pass --region, set AWS_REGION, or set `region` in the profile{}",
            opts.env,
            opts.profile
                .as_deref()
                .map(|p| format!(" '{p}'"))
                .unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(validate_endpoint("http://127.0.0.1:5000").is_ok());
        assert!(validate_endpoint("https://moto.internal").is_ok());
        for bad in ["127.0.0.1:5000", "ftp://x", "http://", "http:// x"] {
            let e = validate_endpoint(bad).unwrap_err().to_string();
            assert!(e.contains("--endpoint-url") && e.contains(bad), "{e}");
        }
    }

    #[tokio::test]
    async fn an_explicit_region_is_checked_and_used() {
        let mut opts = AwsOptions {
            env: "prod".into(),
            profile: None,
            region: Some("eu-west-1".into()),
            endpoint_url: None,
            terraform_dir: None,
        };
        assert_eq!(resolve_region(&opts).await.unwrap().as_ref(), "eu-west-1");
        opts.region = Some("eu west".into());
        let e = resolve_region(&opts).await.unwrap_err().to_string();
        assert!(e.contains("invalid --region"), "{e}");
    }
}
