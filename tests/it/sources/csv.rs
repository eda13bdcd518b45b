//! CSV import: configurable columns, BOM, quoting, bad rows quarantined by line, and a cursor
//! that makes re-running idempotent and reads only what was appended.

use earshot::domain::Platform;
use std::io::Write;

use earshot::sources::SourceError;

use super::conformance::assert_source_conforms;
use crate::support::Table;
use crate::support::sources::{SourceEnv, stored_ids};

fn env(file: &std::path::Path, extra: Table) -> SourceEnv {
    SourceEnv::new(
        Table::new()
            .set("type", "csv")
            .set("path", file.display().to_string())
            .merge(extra),
    )
}

const REVIEWS: &str = "\u{feff}Review ID,Reviewer,Posted,Headline,Body,Link\n\
r1,@jo,2026-11-20 09:00:00,Awful,\"Acme Air lost my bag, twice\",https://reviews.example/r1\n\
r2,@kim,2026-11-20T10:00:00Z,,\"Acme Air crew,\n\"\"lovely\"\" people\",https://reviews.example/r2\n\
r3,@max,not a date,Bad,Acme Air delay,https://reviews.example/r3\n\
r4,@lee,2026-11-20,too,few\n\
,@ann,2026-11-20,No id,Acme Air,https://reviews.example/r5\n";

fn columns() -> Table {
    Table::new().set(
        "columns",
        Table::new()
            .set("id", "Review ID")
            .set("author", "Reviewer")
            .set("created_at", "Posted")
            .set("title", "Headline")
            .set("text", "Body")
            .set("url", "Link"),
    )
}

#[tokio::test]
async fn rows_map_through_the_configured_columns_and_bad_rows_are_quarantined_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reviews.csv");
    std::fs::write(&file, REVIEWS).unwrap();

    let batch = env(&file, columns()).source().poll(None).await.unwrap();

    let ids: Vec<&str> = batch.posts.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2"], "the BOM does not hide the first column");
    assert_eq!(batch.posts[0].text, "Awful\n\nAcme Air lost my bag, twice");
    assert_eq!(batch.posts[0].created_at, 1_795_165_200_000);
    assert_eq!(batch.posts[0].url.as_deref(), Some("https://reviews.example/r1"));
    assert_eq!(batch.posts[0].platform, earshot::domain::Platform::Other);
    assert_eq!(
        batch.posts[1].text, "Acme Air crew,\n\"lovely\" people",
        "quoted newline and quotes"
    );
    let bad: Vec<(&str, &str)> = batch
        .quarantined
        .iter()
        .map(|q| (q.location.as_str(), q.raw.as_str()))
        .collect();
    assert_eq!(
        bad,
        [
            (
                "line 5",
                "r3,@max,not a date,Bad,Acme Air delay,https://reviews.example/r3"
            ),
            ("line 6", "r4,@lee,2026-11-20,too,few"),
            ("line 7", ",@ann,2026-11-20,No id,Acme Air,https://reviews.example/r5"),
        ],
        "line numbers count the header and the quoted newline"
    );
    assert!(batch.quarantined[0].reason.contains("not a date"));
    assert!(batch.quarantined[1].reason.contains("5 fields, the header has 6"));
    assert!(batch.quarantined[2].reason.contains("external id is empty"));
}

#[tokio::test]
async fn rerunning_adds_nothing_and_appended_rows_are_read_once_complete() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mentions.csv");
    std::fs::write(
        &file,
        "id,author,created_at,text,platform\n1,@jo,1795165200,Acme Air lost my bag,reddit\n",
    )
    .unwrap();
    let env = env(&file, Table::new());
    let pipeline = env.pipeline().await;

    let first = pipeline.poll_source(env.source().as_ref()).await.unwrap();
    let again = pipeline.poll_source(env.source().as_ref()).await.unwrap();
    let mut handle = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    write!(handle, "2,@kim,1795165300,Acme Air refund please,x\n3,@max,17951654").unwrap();
    let appended = pipeline.poll_source(env.source().as_ref()).await.unwrap();
    writeln!(handle, "00,Acme Air still waiting,").unwrap();
    let completed = pipeline.poll_source(env.source().as_ref()).await.unwrap();

    assert_eq!((first.n_fetched, first.n_new), (1, 1));
    assert_eq!(again.n_fetched, 0, "the cursor is past the first row");
    assert_eq!(
        (appended.n_fetched, appended.n_new),
        (1, 1),
        "the unfinished last row waits"
    );
    assert_eq!((completed.n_fetched, completed.n_new), (1, 1));
    assert_eq!(stored_ids(&pipeline).await, ["1", "2", "3"]);
}

#[tokio::test]
async fn a_header_without_a_required_column_is_a_malformed_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "id;author;text\n1;@jo;Acme Air\n").unwrap();

    let error = env(&file, Table::new().set("delimiter", ";"))
        .source()
        .poll(None)
        .await
        .unwrap_err();

    match error {
        SourceError::Malformed { reason, raw } => {
            assert!(reason.contains("no column \"created_at\""), "{reason}");
            assert_eq!(raw, b"id;author;text", "the header row");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// The conformance every source passes (see `conformance`): the rows, then nothing past the
/// cursor's offset.
#[tokio::test]
async fn csv_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mentions.csv");
    std::fs::write(
        &file,
        "id,author,created_at,text\n1,@jo,1795165200,Acme Air lost my bag\n2,@kim,1795165300,Acme Air refund please\n",
    )
    .unwrap();

    assert_source_conforms(
        &env(&file, Table::new().set("batch_rows", 1)),
        None,
        Platform::Other,
        &["1", "2"],
    )
    .await;
}
