//! STS: who the console acts as.

use aws_sdk_sts::Client;

use super::errors::SdkResultExt;
use crate::backend::Result;
use crate::domain::Identity;

pub(crate) async fn caller_identity(client: &Client, region: &str) -> Result<Identity> {
    let out = client
        .get_caller_identity()
        .send()
        .await
        .aws("sts", "GetCallerIdentity")?;
    Ok(Identity {
        account: out.account().map(str::to_string),
        principal: out
            .arn()
            .or(out.user_id())
            .unwrap_or("unknown principal")
            .to_string(),
        region: region.to_string(),
    })
}
