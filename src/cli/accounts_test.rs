//! `earshot accounts test --brand B --platform P`: proves a reply account's credentials with a
//! harmless read call (X `GET /2/users/me`, Bluesky `com.atproto.server.getSession`, Mastodon
//! `verify_credentials`, Reddit `GET /api/v1/me`, YouTube `channels.list?mine=true`) and
//! prints who earshot will post as. Nothing is posted; the outcome is recorded in the
//! account's health, and a refresh token the platform rotated is kept (X), as the service
//! would.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::domain::{BrandId, Platform, now_millis};
use crate::pipeline::replies::StoreVault;
use crate::replies::{account_key, can_publish_on};
use crate::store::AccountEvent;

#[derive(Debug, clap::Args)]
pub struct AccountsTestArgs {
    #[arg(long)]
    brand: BrandId,
    /// x, bluesky, mastodon, reddit or youtube.
    #[arg(long)]
    platform: Platform,
}

pub(super) async fn run(config_path: &Path, args: AccountsTestArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load(config_path)?;
    let brand = settings
        .brand(&args.brand)
        .with_context(|| format!("no brand {:?} in the configuration", args.brand.as_str()))?;
    if !can_publish_on(args.platform) {
        anyhow::bail!(
            "{} has no write API: earshot cannot post there; agents copy the reply and open the original",
            args.platform
        );
    }
    let account = brand.reply_account(args.platform).with_context(|| {
        format!(
            "brand {} has no {} account: add one under [[brands.reply_accounts]]",
            brand.id, args.platform
        )
    })?;
    let store = crate::app::open_store(&settings).await?;
    let key = account_key(&brand.id, args.platform);
    let publisher = account.build(
        &brand.id,
        crate::app::http_client()?,
        Arc::new(StoreVault(store.clone())),
    );
    match publisher.whoami().await {
        Ok(identity) => {
            store
                .record_account_event(
                    &key,
                    &AccountEvent::Worked {
                        handle: Some(identity.handle.clone()),
                        at: now_millis(),
                    },
                )
                .await?;
            say!(
                "{}",
                serde_json::json!({
                    "account": key,
                    "posts_as": identity.handle,
                    "id": identity.id,
                    "name": identity.name,
                })
            );
            say!(
                "earshot will post for {} on {} as {}.",
                brand.name,
                args.platform,
                identity.handle
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            store
                .record_account_event(
                    &key,
                    &AccountEvent::Failed {
                        error: error.to_string(),
                        kind: error.kind().to_owned(),
                        at: now_millis(),
                    },
                )
                .await?;
            Err(anyhow::Error::new(error).context(format!("the {key} account does not work")))
        }
    }
}
