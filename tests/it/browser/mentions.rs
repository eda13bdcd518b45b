//! The Mentions view in the browser: searching the sweep with the filters kept in the
//! address, opening a task from a mention that was not flagged and finding it in the queue,
//! and hostile text staying text.

use serde_json::json;

use super::queue::{click, log_in, site};
use super::{Browser, wait_for, wait_for_text};
use crate::support::fill::complaints;
use crate::support::{TestEnv, line};

const HOSTILE: &str =
    "Acme Air <img src=x onerror=\"window.pwned = 'img'\"> <script>window.pwned = 'script'</script> ok";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_finds_a_missed_complaint_opens_a_task_and_sees_it_in_the_queue() {
    let env = TestEnv::new();
    let mut lines = complaints();
    lines.push(line("4", "@sam", "@AcmeAir where is gate B12? My flight is at 9"));
    lines.push(line("5", "@mallory", HOSTILE));
    let site = site(&env, &lines).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "lee", "lead").await;
            click(&client, "nav button[data-view=mentions]").await;
            wait_for_text(&client, "#mentions-count", "Showing 5 of 5").await;

            // Hostile text is shown as the text it is.
            wait_for("the hostile post as literal text", || async {
                for cell in client
                    .find_all("#mentions .mention-text")
                    .await
                    .map_err(|e| e.to_string())?
                {
                    let text = cell.prop("textContent").await.map_err(|e| e.to_string())?;
                    if text.as_deref() == Some(HOSTILE) {
                        return Ok(Some(()));
                    }
                }
                Err("not shown yet".into())
            })
            .await;
            let probe = client
                .execute(
                    "return { pwned: window.pwned === undefined ? null : String(window.pwned),
                              images: document.images.length,
                              elementsInPosts: document.querySelectorAll('#mentions .mention-text *').length };",
                )
                .await
                .unwrap();
            assert_eq!(probe, json!({ "pwned": null, "images": 0, "elementsInPosts": 0 }));

            // Search, with only what was not flagged.
            client
                .find("#mention-filters input[name=q]")
                .await
                .unwrap()
                .send_keys("GATE b12")
                .await
                .unwrap();
            click(&client, "#mention-search").await;
            wait_for_text(&client, "#mentions-count", "Showing 1 of 1").await;
            click(&client, "#mention-filters input[name=below_threshold]").await;
            wait_for("the filters in the address", || async {
                let url = client.current_url().await.map_err(|e| e.to_string())?;
                let query = url.query().unwrap_or_default().to_owned();
                Ok((query.contains("view=mentions")
                    && query.contains("q=GATE+b12")
                    && query.contains("below_threshold=true"))
                .then_some(()))
            })
            .await;
            let row = wait_for_text(&client, "#mentions tbody tr", "gate B12").await;
            assert!(row.contains("@sam") && row.contains("not flagged"), "{row}");

            // The filters survive a reload.
            let address = client.current_url().await.unwrap();
            client.goto(address.as_str()).await.unwrap();
            wait_for_text(&client, "#mentions-count", "Showing 1 of 1").await;
            let q = client
                .find("#mention-filters input[name=q]")
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap();
            assert_eq!(q.as_deref(), Some("GATE b12"));

            // "This needed an answer."
            click(&client, "#mentions button.open-task").await;
            let said = wait_for_text(&client, "#flash", "opened for @sam's post").await;
            let task_id: earshot::domain::TaskId = said
                .split('#')
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(|| panic!("a task id in {said:?}"));
            let detail = store.task_detail(task_id).await.unwrap();
            assert_eq!(detail.task.author_handle, "@sam");
            assert_eq!(detail.events[0].actor, "lee");
            wait_for_text(&client, "#mentions td.task", &format!("Task #{task_id} (open)")).await;
            assert!(
                client.find("#mentions button.open-task").await.is_err(),
                "the button is gone once the task exists"
            );

            // The link leads to the task in the queue.
            click(&client, "#mentions td.task a.task-link").await;
            wait_for_text(&client, "#detail h2", &format!("Task #{task_id}")).await;
            wait_for_text(&client, "#detail .post-text", "where is gate B12?").await;
            wait_for_text(&client, "#detail .events", "lee · opened").await;
            wait_for_text(&client, &format!("#tasks tr[data-id=\"{task_id}\"]"), "@sam").await;
        })
        .await;
}
