//! JSONL import: the conformance every source passes, over a file of the documented post shape.

use earshot::domain::Platform;

use super::conformance::assert_source_conforms;
use crate::support::Table;
use crate::support::sources::SourceEnv;

/// The lines one batch at a time, then nothing past the cursor's offset.
#[tokio::test]
async fn jsonl_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mentions.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"platform":"x","id":"1","author":"@jo","text":"Acme Air lost my bag","created_at":"2026-11-20T10:00:00Z"}"#,
            "\n",
            r#"{"platform":"x","id":"2","author":"@kim","text":"Acme Air refund please","created_at":"2026-11-20T11:00:00Z"}"#,
            "\n",
        ),
    )
    .unwrap();
    let env = SourceEnv::new(
        Table::new()
            .set("type", "jsonl")
            .set("path", file.display().to_string())
            .set("batch_lines", 1),
    );

    assert_source_conforms(&env, None, Platform::X, &["1", "2"]).await;
}
