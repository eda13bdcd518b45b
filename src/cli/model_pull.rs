//! `earshot model pull <hub id>`: downloads a Hugging Face sequence classifier into
//! `models/` (`tools::hub`) and checks it loads.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::scoring::Scorer;
use crate::scoring::model::TransformerScorer;
use crate::tools::hub::{self, PullRequest};

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Hub id, e.g. `cardiffnlp/twitter-roberta-base-sentiment-latest`.
    id: String,
    #[arg(long, default_value = "main")]
    revision: String,
    #[arg(long, env = "HF_ENDPOINT", default_value = "https://huggingface.co")]
    endpoint: String,
    /// Token for gated or private models, sent as a bearer header.
    #[arg(long, env = "HF_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long, default_value = "models")]
    dest: PathBuf,
    /// Languages the model covers (ISO 639-1); default en, or * for XLM-RoBERTa.
    #[arg(long, value_delimiter = ',')]
    languages: Option<Vec<String>>,
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    /// Our label for each model output, in output order, when config.json's are generic.
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
}

pub(super) async fn run(args: PullArgs) -> anyhow::Result<ExitCode> {
    let request = PullRequest {
        id: args.id,
        revision: args.revision,
        endpoint: args.endpoint.trim_end_matches('/').to_owned(),
        token: args.token.filter(|t| !t.is_empty()),
        dest: args.dest,
        languages: args.languages,
        max_length: args.max_length,
        labels: args.labels,
    };
    // Weights can take minutes: no overall timeout, only on connecting.
    #[allow(clippy::disallowed_methods, reason = "model pull needs no overall timeout")]
    let client = reqwest::Client::builder()
        .user_agent(concat!("earshot/", env!("CARGO_PKG_VERSION"), " (model pull)"))
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .context("failed to build the HTTP client")?;
    say!(
        "Pulling {} ({}) from {} …",
        request.id,
        request.revision,
        request.endpoint
    );
    let dir = hub::pull(&client, &request).await?;
    let scorer =
        TransformerScorer::load(&dir).with_context(|| format!("pulled {} but it does not load", dir.display()))?;
    say!(
        "Pulled into {} and checked it loads ({}).",
        dir.display(),
        scorer.name()
    );
    say!(
        "Use it with [scoring] model = \"{}\" (then `earshot eval` to measure it).",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
