//! Context around a task and the page itself: the author card (earlier tasks and how they
//! ended), "in reply to" showing the parent post, the queue's sentiment and date filters in
//! the address, `aria-current` on the nav, and the offline banner when the server is gone.

use serde_json::json;

use earshot::domain::now_millis;
use earshot::tasks::actions::Action;

use super::queue::{click, log_in, rows, site, task_of};
use super::workday::change_as;
use super::{Browser, Client, wait_for, wait_for_text};
use crate::support::fill::{complaints, poll_and_score};
use crate::support::line;

/// The views the nav marks `aria-current=page`, once the page has marked one (after login
/// the page sets it only when its first data has loaded).
async fn current_views(client: &Client) -> serde_json::Value {
    wait_for("a nav button marked aria-current", || async {
        let current = client
            .execute(
                "return [...document.querySelectorAll('nav button[aria-current=page]')].map((b) => b.dataset.view);",
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(current
            .as_array()
            .is_some_and(|views| !views.is_empty())
            .then_some(current))
    })
    .await
}

/// A feed line that answers the post `parent` (its platform id).
fn reply_line(id: &str, author: &str, text: &str, parent: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&line(id, author, text)).unwrap();
    value["in_reply_to"] = json!(parent);
    value.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_author_card_shows_earlier_tasks_and_the_parent_post_is_quoted() {
    let env = crate::support::TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    // @jo's first complaint is resolved; their next post (an answer to the first) is still
    // angry: the follow-up records "still unhappy", and the new post opens a new task.
    let first = task_of(&store, "@jo").await;
    change_as(&store, first.id, "bob", Action::Claim).await;
    change_as(&store, first.id, "bob", Action::Resolve).await;
    env.append(
        "acme-feed",
        &[reply_line(
            "50",
            "@jo",
            "@AcmeAir still no bag, this is terrible, refund now",
            "1",
        )],
    );
    poll_and_score(&env, 1).await;
    store.record_follow_ups(now_millis(), 0).await.unwrap();
    let earlier = store.task_detail(first.id).await.unwrap().task;
    assert_eq!(earlier.recovered, Some(false), "the follow-up was recorded");
    let again = store
        .list_tasks(&earshot::store::TaskFilter {
            author: Some("@jo".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id != first.id)
        .expect("a new task for @jo");
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            assert_eq!(
                current_views(&client).await,
                json!(["queue"]),
                "the nav says where we are"
            );
            rows(&client, 2).await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", again.id)).await;
            wait_for_text(
                &client,
                "#author-prior",
                "1 earlier task: 0 recovered, 1 still unhappy.",
            )
            .await;
            let listed = wait_for_text(&client, "#author-card ul.author-tasks", "still unhappy").await;
            assert!(listed.contains(&format!("Task #{}", first.id)), "{listed}");
            let quoted = wait_for_text(&client, "#detail .in-reply-to", "In reply to @jo:").await;
            assert!(
                quoted.contains("lost my bag, worst airline ever"),
                "the parent's text, not its id: {quoted}"
            );

            // A first contact says so.
            let max = task_of(&store, "@max").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", max.id)).await;
            wait_for_text(&client, "#author-prior", "First contact").await;

            click(&client, "nav button[data-view=mentions]").await;
            assert_eq!(current_views(&client).await, json!(["mentions"]));
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentiment_and_date_filters_stay_in_the_address_and_a_lost_server_shows_offline() {
    let env = crate::support::TestEnv::new();
    let site = site(&env, &complaints()).await;
    let site = std::sync::Arc::new(site);
    let served = site.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &served, "ann", "agent").await;
            rows(&client, 2).await;
            client
                .find("#filters select[name=sentiment]")
                .await
                .unwrap()
                .select_by_value("positive")
                .await
                .unwrap();
            wait_for_text(&client, "#tasks tbody", "No tasks match.").await;
            client
                .find("#filters select[name=sentiment]")
                .await
                .unwrap()
                .select_by_value("negative")
                .await
                .unwrap();
            wait_for_text(&client, "#tasks-count", "Showing 2 of 2").await;
            // Opened since tomorrow: none yet.
            let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
            client
                .execute(&format!(
                    "const field = document.querySelector('#filters input[name=since]');
                     field.value = '{tomorrow}'; field.dispatchEvent(new Event('change', {{ bubbles: true }}));"
                ))
                .await
                .unwrap();
            wait_for_text(&client, "#tasks-count", "Showing 0 of 0").await;
            let url = client.current_url().await.unwrap();
            let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            assert!(
                query.contains(&("sentiment".into(), "negative".into()))
                    && query.contains(&("since".into(), tomorrow.clone())),
                "{url}"
            );
            client.goto(url.as_str()).await.unwrap();
            wait_for_text(&client, "#tasks-count", "Showing 0 of 0").await;
            let kept = client
                .execute("const f = document.querySelector('#filters'); return [f.elements.sentiment.value, f.elements.since.value];")
                .await
                .unwrap();
            assert_eq!(kept, json!(["negative", tomorrow]));

            // The server goes away: the page says so instead of showing stale data silently.
            let banner = client.find("#offline").await.unwrap();
            assert!(!banner.is_displayed().await.unwrap());
            served.stop();
            wait_for("the offline banner", || async {
                let shown = client
                    .find("#offline")
                    .await
                    .map_err(|e| e.to_string())?
                    .is_displayed()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(shown.then_some(()))
            })
            .await;
            wait_for_text(&client, "#offline", "earshot cannot be reached").await;
        })
        .await;
}
