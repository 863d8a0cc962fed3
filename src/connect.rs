//! Turns the command line and the config file into a backend and an operator
//! context: the simulator for `demo`, AWS for anything else.

use std::sync::Arc;

use anyhow::{Result, bail};

use crate::aws::{AwsBackend, AwsOptions};
use crate::backend::Backend;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::domain::DEMO_ENV;
use crate::ops::{AuditLog, Runner};
use crate::sim::{SimBackend, SimOptions};

/// Opens the environment named on the command line.
pub async fn backend(args: &GlobalArgs, config: &Config) -> Result<Arc<dyn Backend>> {
    crate::cli::validate_env(&args.env).map_err(anyhow::Error::msg)?;
    if args.env == DEMO_ENV {
        for (flag, given) in [
            ("--profile", args.profile.is_some()),
            ("--region", args.region.is_some()),
            ("--endpoint-url", args.endpoint_url.is_some()),
        ] {
            if given {
                bail!("{flag} applies to AWS environments; `demo` is simulated locally");
            }
        }
        if let Some(speed) = args.speed
            && !(speed.is_finite() && (0.0..=10_000.0).contains(&speed))
        {
            bail!("invalid --speed {speed}: use a number from 0 (frozen) to 10000");
        }
        let start = args
            .start
            .as_deref()
            .map(|t| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .map(|t| t.to_utc())
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "invalid --start '{t}': {e}; use RFC 3339, e.g. 2026-11-20T14:30:00Z"
                        )
                    })
            })
            .transpose()?;
        let sim = SimBackend::open(SimOptions {
            state_file: Some(crate::sim::default_state_file()?),
            seed: args.seed,
            speed: args.speed,
            reset: args.reset,
            start,
        })?;
        return Ok(Arc::new(sim));
    }
    for (flag, given) in [
        ("--speed", args.speed.is_some()),
        ("--seed", args.seed.is_some()),
        ("--reset", args.reset),
        ("--start", args.start.is_some()),
    ] {
        if given {
            bail!(
                "{flag} applies only to the demo environment, not to {}",
                args.env
            );
        }
    }
    let env_config = config.for_env(&args.env);
    let aws = AwsBackend::connect(AwsOptions {
        env: args.env.clone(),
        profile: args.profile.clone().or(env_config.profile),
        region: args.region.clone().or(env_config.region),
        endpoint_url: args.endpoint_url.clone().or(env_config.endpoint_url),
        terraform_dir: None,
    })
    .await?;
    Ok(Arc::new(aws))
}

/// The mutation path for this operator: read-only from the flag or the config,
/// production confirmation from the config, the local audit log, and who acts.
pub fn runner(backend: Arc<dyn Backend>, args: &GlobalArgs, config: &Config) -> Result<Runner> {
    let read_only = args.read_only || config.read_only(&args.env);
    let production = config.is_production(&args.env);
    Ok(Runner::new(
        backend,
        AuditLog::new(AuditLog::default_path()?),
        read_only,
        production,
    ))
}
