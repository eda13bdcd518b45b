//! Reply accounts in config (`[[brands.reply_accounts]]`): validated by `check-config`,
//! redacted by `print-config`; `earshot accounts test` proves the credentials with a read call
//! and prints who earshot posts as.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Table, TestEnv};

fn earshot(config: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_earshot"));
    command
        .env_remove("EARSHOT_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .arg("--config")
        .arg(config);
    command
}

#[test]
fn check_config_reports_each_bad_reply_account_with_its_path() {
    let env = TestEnv::new();
    let path = env.path().join("earshot.toml");
    env.config()
        .reply_account(
            "acme",
            Table::new()
                .set("platform", "mastodon")
                .set("base_url", "ftp://brand.social")
                .set("access_token", Table::new().set("env", "EARSHOT_TEST_MASTODON_TOKEN"))
                .set("visibility", "everyone"),
        )
        .reply_account(
            "acme",
            Table::new()
                .set("platform", "mastodon")
                .set("base_url", "https://brand.social")
                .set("access_token", Table::new().set("env", "EARSHOT_TEST_MASTODON_TOKEN")),
        )
        .reply_account(
            "acme",
            Table::new()
                .set("platform", "reddit")
                .set("username", "AcmeAir")
                .set("client_id", "c")
                .set("client_secret", "s")
                .set("user_agent", "ua"),
        )
        .write(&path);

    let output = earshot(&path)
        .env("EARSHOT_TEST_MASTODON_TOKEN", "tok")
        .arg("check-config")
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    for expected in [
        "brands[0].reply_accounts[0].base_url: must be an http(s) URL",
        "brands[0].reply_accounts[0].visibility: must be one of public, unlisted, private, direct",
        "brands[0].reply_accounts[1].platform: a second mastodon account",
        "brands[0].reply_accounts[2].password: give either password (script app) or refresh_token (web app)",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
}

#[test]
fn a_platform_without_a_write_api_is_not_a_reply_account_and_a_missing_secret_is_named() {
    let env = TestEnv::new();
    let path = env.path().join("earshot.toml");
    let check = |account: Table| {
        env.config().reply_account("acme", account).write(&path);
        let output = earshot(&path)
            .env_remove("EARSHOT_TEST_UNSET_BSKY")
            .arg("check-config")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    let hn = check(Table::new().set("platform", "hackernews"));
    let unset = check(
        Table::new()
            .set("platform", "bluesky")
            .set("identifier", "acme.bsky.social")
            .set("app_password", Table::new().set("env", "EARSHOT_TEST_UNSET_BSKY")),
    );

    assert!(
        hn.contains("brands[0].reply_accounts[0].platform: unknown variant `hackernews`"),
        "{hn}"
    );
    assert!(
        unset.contains("environment variable EARSHOT_TEST_UNSET_BSKY is not set"),
        "{unset}"
    );
}

#[test]
fn print_config_shows_where_secrets_come_from_never_their_values() {
    let env = TestEnv::new();
    let path = env.path().join("earshot.toml");
    env.config()
        .reply_account(
            "acme",
            Table::new()
                .set("platform", "x")
                .set("username", "AcmeAir")
                .set("client_id", "x-client")
                .set("client_secret", "inline-x-secret")
                .set("refresh_token", Table::new().set("env", "EARSHOT_TEST_X_REFRESH")),
        )
        .write(&path);

    let output = earshot(&path)
        .env("EARSHOT_TEST_X_REFRESH", "the-refresh-token-value")
        .arg("print-config")
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("[[brands.reply_accounts]]"), "{stdout}");
    assert!(stdout.contains("EARSHOT_TEST_X_REFRESH"), "{stdout}");
    assert!(stdout.contains("<redacted>"), "{stdout}");
    assert!(!stdout.contains("the-refresh-token-value") && !stdout.contains("inline-x-secret"));
}

#[tokio::test]
async fn accounts_test_prints_who_earshot_posts_as_and_records_a_revoked_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .and(header("authorization", "Bearer good-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "42", "username": "acme", "acct": "acme", "display_name": "Acme Air"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .and(header("authorization", "Bearer revoked-token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "The access token is invalid"})))
        .mount(&server)
        .await;
    let env = TestEnv::new();
    let path = env.path().join("earshot.toml");
    env.config()
        .reply_account(
            "acme",
            Table::new()
                .set("platform", "mastodon")
                .set("base_url", server.uri())
                .set("access_token", Table::new().set("env", "EARSHOT_TEST_MASTODON")),
        )
        .write(&path);

    let ok = earshot(&path)
        .env("EARSHOT_TEST_MASTODON", "good-token")
        .args(["accounts", "test", "--brand", "acme", "--platform", "mastodon"])
        .output()
        .unwrap();
    let revoked = earshot(&path)
        .env("EARSHOT_TEST_MASTODON", "revoked-token")
        .args(["accounts", "test", "--brand", "acme", "--platform", "mastodon"])
        .output()
        .unwrap();
    let no_api = earshot(&path)
        .env("EARSHOT_TEST_MASTODON", "good-token")
        .args(["accounts", "test", "--brand", "acme", "--platform", "hackernews"])
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let host = url::Url::parse(&server.uri()).unwrap().host_str().unwrap().to_owned();
    assert!(
        stdout.contains(&format!("earshot will post for Acme Air on mastodon as @acme@{host}.")),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&revoked.stderr);
    assert!(!revoked.status.success());
    assert!(stderr.contains("The access token is invalid"), "{stderr}");
    assert!(!stderr.contains("revoked-token"), "the token never shows: {stderr}");
    assert!(
        String::from_utf8_lossy(&no_api.stderr).contains("hackernews has no write API"),
        "{}",
        String::from_utf8_lossy(&no_api.stderr)
    );
    let store = earshot::app::open_store(&env.settings()).await.unwrap();
    let health = store.account_health().await.unwrap();
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].handle.as_deref(), Some(format!("@acme@{host}").as_str()));
    assert!(
        health[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("The access token is invalid"),
        "{health:?}"
    );
}
