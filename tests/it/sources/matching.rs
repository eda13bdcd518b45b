//! Brand matching on a platform's real answer: possessives, hashtags, handles without `@`,
//! hyphen and glued variants, case and diacritics (`pipeline::matching`), through a Reddit
//! search served in its documented Listing shape.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::sources::{SourceEnv, reddit, stored_ids};

fn listing(titles: &[(&str, &str)]) -> serde_json::Value {
    let children: Vec<serde_json::Value> = titles
        .iter()
        .enumerate()
        .map(|(i, (id, title))| {
            json!({"kind": "t3", "data": {
                "id": id, "name": format!("t3_{id}"), "title": title, "selftext": "", "author": "jo",
                "created_utc": 1_795_000_900.0 - i as f64, "permalink": format!("/r/travel/comments/{id}/x/"),
                "score": 1, "num_comments": 0, "subreddit": "travel", "is_self": true
            }})
        })
        .collect();
    json!({"kind": "Listing", "data": {"after": null, "before": null, "dist": children.len(), "children": children}})
}

#[tokio::test]
async fn mentions_in_every_written_form_are_ingested_and_lookalikes_are_not() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "token_type": "bearer", "expires_in": 86400, "scope": "*"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(&[
            ("p1", "Is Acme Air's new baggage policy legit?"),
            ("p2", "Acme Air\u{2019}s app is down again"),
            ("p3", "never again #acmeairfail"),
            ("p4", "#AcmeAir lost my bag"),
            ("p5", "acme-air cancelled my flight"),
            ("p6", "ÁCME ÂIR kept us waiting"),
            ("p7", "AcmeAir support never answers"),
            ("u1", "Moving to acmeairville next week"),
            ("u2", "@acmeairfan posted a nice picture"),
        ])))
        .mount(&server)
        .await;
    let env = SourceEnv::new(reddit(&server.uri()));
    let pipeline = env.pipeline().await;
    let source = env.source();

    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!((first.n_new, first.n_unrelated), (7, 2));
    assert_eq!(
        stored_ids(&pipeline).await,
        ["t3_p1", "t3_p2", "t3_p3", "t3_p4", "t3_p5", "t3_p6", "t3_p7"]
    );
    assert_eq!(second.n_new, 0, "a second poll ingests nothing");
}
