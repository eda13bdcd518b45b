//! `earshot model pull`: fetching a sequence-classification model from a Hugging Face hub
//! into `models/<org>--<name>/` with a `manifest.toml` in our format.
//!
//! Uses the hub's file API: `GET {endpoint}/api/models/{id}/revision/{revision}` lists the
//! files (`siblings[].rfilename`) and the commit `sha`; `GET {endpoint}/{id}/resolve/{sha}/{file}`
//! serves each file. Only safetensors weights are accepted (pickled `.bin` weights can run
//! code when loaded). Files stream to a temporary folder next to the destination, hashed as
//! they arrive, and the folder is renamed into place only when everything is there, so a
//! failed pull leaves nothing behind. This runs only when a user asks; the service never
//! downloads at run time.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::domain::SentimentLabel;
use crate::scoring::manifest::ModelManifest;

/// What to pull and how to describe it.
#[derive(Debug, Clone)]
pub struct PullRequest {
    /// `org/name` on the hub.
    pub id: String,
    pub revision: String,
    /// e.g. `https://huggingface.co`, without a trailing slash.
    pub endpoint: String,
    /// Bearer token for gated or private models.
    pub token: Option<String>,
    /// Folder the model folder is created in (`models/`).
    pub dest: PathBuf,
    /// ISO 639-1 codes; `None` = `["en"]`, or `["*"]` for XLM-RoBERTa.
    pub languages: Option<Vec<String>>,
    pub max_length: usize,
    /// Our label for each model output, in output order, when the config's names are unusable.
    pub labels: Option<Vec<String>>,
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(
        "{url}: the hub refused access (HTTP {status}); for a gated or private model set HF_TOKEN to a token that can read it"
    )]
    Unauthorized { url: String, status: u16 },
    #[error("{url}: not found (HTTP 404); check the model id and --revision")]
    NotFound { url: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error(
        "{id} has no model.safetensors at this revision{pickles}; earshot only loads safetensors weights, never pickles"
    )]
    NoSafetensors { id: String, pickles: String },
    #[error("{id} lacks {file}, which a {architecture} tokenizer needs")]
    MissingFile {
        id: String,
        file: String,
        architecture: String,
    },
    #[error("config.json: {0}")]
    Config(String),
    #[error(
        "cannot tell which output is negative, neutral and positive ({found}); pass --labels with the model's outputs in order, e.g. --labels negative,neutral,positive"
    )]
    Labels { found: String },
    #[error("{path} already exists; remove it or choose another --dest")]
    Exists { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid model id {0:?}: expected org/name")]
    BadId(String),
}

#[derive(Debug, serde::Deserialize)]
struct ModelInfo {
    sha: Option<String>,
    #[serde(default)]
    siblings: Vec<Sibling>,
}

#[derive(Debug, serde::Deserialize)]
struct Sibling {
    rfilename: String,
}

/// The files a model needs, by architecture: (vocab, merges).
fn tokenizer_files(architecture: &str) -> Option<(&'static str, Option<&'static str>)> {
    match architecture {
        "bert" | "distilbert" => Some(("vocab.txt", None)),
        "roberta" => Some(("vocab.json", Some("merges.txt"))),
        "xlm-roberta" => Some(("sentencepiece.bpe.model", None)),
        _ => None,
    }
}

/// Extra files copied when the hub has them (for Python tools; not needed by rust-bert).
const OPTIONAL_FILES: &[&str] = &["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

/// `org/name` → `org--name`.
pub fn folder_name(id: &str) -> Result<String, HubError> {
    let valid = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match id.split_once('/') {
        Some((org, name)) if valid(org) && valid(name) => Ok(format!("{org}--{name}")),
        _ => Err(HubError::BadId(id.to_owned())),
    }
}

/// Maps the config's `id2label` to our labels in output order. Names are matched
/// case-insensitively (`NEG`/`negative`, `NEU`/`neutral`, `POS`/`positive` too);
/// `LABEL_0`-style names are refused.
pub fn map_labels(id2label: &BTreeMap<String, String>) -> Result<Vec<String>, HubError> {
    let found = || {
        id2label
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut by_index: Vec<(usize, &String)> = Vec::new();
    for (key, name) in id2label {
        let index: usize = key.parse().map_err(|_| HubError::Labels { found: found() })?;
        by_index.push((index, name));
    }
    by_index.sort();
    if by_index.len() != 3 || by_index.iter().enumerate().any(|(i, (index, _))| i != *index) {
        return Err(HubError::Labels { found: found() });
    }
    let mut labels = Vec::new();
    for (_, name) in by_index {
        let lower = name.trim().to_ascii_lowercase();
        let label = match lower.as_str() {
            "negative" | "neg" => SentimentLabel::Negative,
            "neutral" | "neu" => SentimentLabel::Neutral,
            "positive" | "pos" => SentimentLabel::Positive,
            _ => return Err(HubError::Labels { found: found() }),
        };
        labels.push(label.as_str().to_owned());
    }
    check_labels(&labels).map_err(|_| HubError::Labels { found: found() })?;
    Ok(labels)
}

fn check_labels(labels: &[String]) -> Result<(), HubError> {
    let mut seen = [false; 3];
    for label in labels {
        if let Some(l) = SentimentLabel::parse(label) {
            seen[l.index()] = true;
        }
    }
    if labels.len() == 3 && seen.iter().all(|s| *s) {
        Ok(())
    } else {
        Err(HubError::Labels {
            found: labels.join(", "),
        })
    }
}

struct Hub<'a> {
    client: &'a reqwest::Client,
    request: &'a PullRequest,
}

impl Hub<'_> {
    async fn get(&self, url: &str) -> Result<reqwest::Response, HubError> {
        let mut builder = self.client.get(url);
        if let Some(token) = &self.request.token {
            builder = builder.bearer_auth(token);
        }
        let response = builder.send().await.map_err(|e| HubError::Http {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(response),
            401 | 403 => Err(HubError::Unauthorized {
                url: url.to_owned(),
                status,
            }),
            404 => Err(HubError::NotFound { url: url.to_owned() }),
            _ => Err(HubError::Status {
                url: url.to_owned(),
                status,
            }),
        }
    }

    /// Streams a file to `path`, returning its sha256 and the bytes when `keep` (small files).
    async fn download(&self, revision: &str, file: &str, path: &Path) -> Result<(String, Vec<u8>), HubError> {
        let url = format!(
            "{}/{}/resolve/{}/{}",
            self.request.endpoint, self.request.id, revision, file
        );
        let mut response = self.get(&url).await?;
        let io = |source| HubError::Io {
            path: path.to_owned(),
            source,
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        let mut hasher = Sha256::new();
        let mut head = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| HubError::Http {
            url: url.clone(),
            message: e.to_string(),
        })? {
            hasher.update(&chunk);
            out.write_all(&chunk).map_err(io)?;
            if file.ends_with(".json") {
                head.extend_from_slice(&chunk);
            }
        }
        out.flush().map_err(io)?;
        Ok((hex::encode(hasher.finalize()), head))
    }
}

/// Pulls the model and returns the folder it now lives in.
pub async fn pull(client: &reqwest::Client, request: &PullRequest) -> Result<PathBuf, HubError> {
    let folder = folder_name(&request.id)?;
    let target = request.dest.join(&folder);
    if target.exists() {
        return Err(HubError::Exists { path: target });
    }
    let hub = Hub { client, request };
    let info_url = format!(
        "{}/api/models/{}/revision/{}",
        request.endpoint, request.id, request.revision
    );
    let info: ModelInfo = hub.get(&info_url).await?.json().await.map_err(|e| HubError::Http {
        url: info_url.clone(),
        message: format!("unexpected answer: {e}"),
    })?;
    let files: Vec<&str> = info.siblings.iter().map(|s| s.rfilename.as_str()).collect();
    if !files.contains(&"model.safetensors") {
        let pickles: Vec<&str> = files
            .iter()
            .copied()
            .filter(|f| f.ends_with(".bin") || f.ends_with(".pt") || f.ends_with(".pkl"))
            .collect();
        return Err(HubError::NoSafetensors {
            id: request.id.clone(),
            pickles: if pickles.is_empty() {
                String::new()
            } else {
                format!(" (only {})", pickles.join(", "))
            },
        });
    }
    if !files.contains(&"config.json") {
        return Err(HubError::Config(format!("{} has no config.json", request.id)));
    }
    // Pin every download to the commit the listing described.
    let revision = info.sha.clone().unwrap_or_else(|| request.revision.clone());

    std::fs::create_dir_all(&request.dest).map_err(|source| HubError::Io {
        path: request.dest.clone(),
        source,
    })?;
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{folder}.partial-"))
        .tempdir_in(&request.dest)
        .map_err(|source| HubError::Io {
            path: request.dest.clone(),
            source,
        })?;

    let mut sums = BTreeMap::new();
    let (sum, config_bytes) = hub
        .download(&revision, "config.json", &temp.path().join("config.json"))
        .await?;
    sums.insert("config.json".to_owned(), sum);
    let config: serde_json::Value =
        serde_json::from_slice(&config_bytes).map_err(|e| HubError::Config(format!("not JSON: {e}")))?;
    let architecture = config
        .get("model_type")
        .and_then(|v| v.as_str())
        .ok_or_else(|| HubError::Config("no model_type".into()))?
        .to_owned();
    let (vocab, merges) = tokenizer_files(&architecture).ok_or_else(|| {
        HubError::Config(format!(
            "model_type {architecture:?} is not supported (bert, distilbert, roberta, xlm-roberta)"
        ))
    })?;
    let labels = match &request.labels {
        Some(labels) => {
            check_labels(labels)?;
            labels.iter().map(|l| l.trim().to_ascii_lowercase()).collect()
        }
        None => {
            let id2label: BTreeMap<String, String> = config
                .get("id2label")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| HubError::Config(format!("id2label: {e}")))?
                .unwrap_or_default();
            map_labels(&id2label)?
        }
    };
    let needed: Vec<&str> = std::iter::once(vocab).chain(merges).collect();
    for file in &needed {
        if !files.contains(file) {
            return Err(HubError::MissingFile {
                id: request.id.clone(),
                file: (*file).to_owned(),
                architecture: architecture.clone(),
            });
        }
    }
    let mut lowercase = matches!(architecture.as_str(), "bert" | "distilbert");
    let optional = OPTIONAL_FILES.iter().copied().filter(|f| files.contains(f));
    for file in std::iter::once("model.safetensors")
        .chain(needed.iter().copied())
        .chain(optional)
    {
        let (sum, bytes) = hub.download(&revision, file, &temp.path().join(file)).await?;
        if file == "tokenizer_config.json"
            && let Some(lower) = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("do_lower_case").and_then(|d| d.as_bool()))
        {
            lowercase = lower;
        }
        sums.insert(file.to_owned(), sum);
    }

    let languages = request.languages.clone().unwrap_or_else(|| {
        if architecture == "xlm-roberta" {
            vec!["*".to_owned()]
        } else {
            vec!["en".to_owned()]
        }
    });
    let mut extra = BTreeMap::new();
    let mut provenance = toml::map::Map::new();
    provenance.insert("hub_id".into(), request.id.clone().into());
    provenance.insert("revision".into(), request.revision.clone().into());
    provenance.insert("sha".into(), revision.clone().into());
    provenance.insert("endpoint".into(), request.endpoint.clone().into());
    extra.insert("provenance".to_owned(), toml::Value::Table(provenance));
    let manifest = ModelManifest {
        name: folder.clone(),
        version: revision.chars().take(12).collect(),
        task: "sentiment".into(),
        architecture,
        labels,
        languages,
        max_length: request.max_length,
        lowercase,
        weights: "model.safetensors".into(),
        config: "config.json".into(),
        vocab: vocab.into(),
        merges: merges.map(str::to_owned),
        normalisation_version: 1,
        pooling: None,
        heads: BTreeMap::new(),
        precisions: BTreeMap::new(),
        files: sums,
        extra,
    };
    let manifest_path = temp.path().join("manifest.toml");
    let text = toml::to_string(&manifest).map_err(|e| HubError::Config(format!("cannot write manifest: {e}")))?;
    std::fs::write(&manifest_path, text).map_err(|source| HubError::Io {
        path: manifest_path,
        source,
    })?;
    let partial = temp.keep();
    std::fs::rename(&partial, &target).map_err(|source| {
        let _ = std::fs::remove_dir_all(&partial);
        HubError::Io {
            path: target.clone(),
            source,
        }
    })?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id2label(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn labels_map_case_insensitively_in_output_order() {
        let labels = map_labels(&id2label(&[("0", "POSITIVE"), ("1", "Negative"), ("2", "neu")])).unwrap();
        assert_eq!(labels, vec!["positive", "negative", "neutral"]);
    }

    #[test]
    fn generic_label_names_ask_for_labels() {
        let error = map_labels(&id2label(&[("0", "LABEL_0"), ("1", "LABEL_1"), ("2", "LABEL_2")])).unwrap_err();
        assert!(
            error.to_string().contains("--labels negative,neutral,positive"),
            "{error}"
        );
    }

    #[test]
    fn folder_names_refuse_paths() {
        assert_eq!(
            folder_name("cardiffnlp/twitter-roberta").unwrap(),
            "cardiffnlp--twitter-roberta"
        );
        assert!(folder_name("../etc").is_err());
        assert!(folder_name("a/b/c").is_err());
        assert!(folder_name("noslash").is_err());
    }
}
