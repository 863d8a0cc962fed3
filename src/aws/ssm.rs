//! SSM Parameter Store: the two runtime parameters the console owns.
//!
//! - `/notejam/<env>/database/host` (String): the endpoint address of the
//!   database the app uses; `point_app_at` overwrites it.
//! - `/notejam/<env>/njtui/stopped/<tier>` (String, JSON
//!   `{"min":..,"desired":..,"max":..}`): the capacity `stop` replaced.

use std::collections::HashMap;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;

use super::contract;
use super::errors::SdkResultExt;
use crate::backend::{BackendError, Result};
use crate::domain::{Capacity, Tier};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Runtime {
    pub database_host: Option<String>,
    pub stopped: HashMap<Tier, Capacity>,
}

/// Both parameters in one GetParameters call (missing ones are simply absent).
/// A remembered capacity that does not parse is ignored rather than failing the
/// whole topology; `start` then asks for explicit numbers.
pub(crate) async fn runtime(client: &Client, env: &str) -> Result<Runtime> {
    let host = contract::database_host_parameter(env);
    let mut names = vec![host.clone()];
    names.extend(Tier::SCALABLE.map(|t| contract::stopped_parameter(env, t)));
    let out = client
        .get_parameters()
        .set_names(Some(names))
        .send()
        .await
        .aws("ssm", "GetParameters")?;
    let mut rt = Runtime::default();
    for p in out.parameters() {
        let (Some(name), Some(value)) = (p.name(), p.value()) else {
            continue;
        };
        if name == host {
            rt.database_host = Some(value.trim().to_string()).filter(|v| !v.is_empty());
            continue;
        }
        for tier in Tier::SCALABLE {
            if name == contract::stopped_parameter(env, tier)
                && let Ok(c) = serde_json::from_str::<Capacity>(value)
            {
                rt.stopped.insert(tier, c);
            }
        }
    }
    Ok(rt)
}

async fn put(client: &Client, name: &str, value: &str, description: &str) -> Result<()> {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::String)
        .overwrite(true)
        .description(description)
        .send()
        .await
        .aws("ssm", "PutParameter")?;
    Ok(())
}

pub(crate) async fn put_database_host(client: &Client, env: &str, host: &str) -> Result<()> {
    put(
        client,
        &contract::database_host_parameter(env),
        host,
        "Endpoint address of the database the Notejam app uses (set by Terraform, repointed by njtui)",
    )
    .await
}

pub(crate) async fn put_stopped(
    client: &Client,
    env: &str,
    tier: Tier,
    capacity: Option<Capacity>,
) -> Result<()> {
    let name = contract::stopped_parameter(env, tier);
    match capacity {
        Some(c) => {
            let json = serde_json::to_string(&c).map_err(|e| BackendError::Other(e.to_string()))?;
            put(
                client,
                &name,
                &json,
                "Capacity njtui's stop replaced, restored by start",
            )
            .await
        }
        None => match client
            .delete_parameter()
            .name(&name)
            .send()
            .await
            .aws("ssm", "DeleteParameter")
        {
            Ok(_) | Err(BackendError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        },
    }
}
