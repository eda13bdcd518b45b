//! Reply templates in the browser: a lead writes one in the Templates view; on a negative
//! task the agent is offered it first (the apology), "/" in an empty reply box searches the
//! templates (Enter picks), the count follows the platform's limit, Ctrl+Enter records the
//! reply where earshot cannot post, and "Record & resolve" does both.

use earshot::domain::TaskStatus;

use super::queue::{click, log_in, rows, site, task_of};
use super::{Browser, Client, wait_for, wait_for_text};
use crate::support::TestEnv;
use crate::support::fill::complaints;

/// WebDriver's Enter and Control keys.
const ENTER: &str = "\u{E007}";
const CONTROL: &str = "\u{E009}";

async fn reply_box(client: &Client, expected: &str) {
    wait_for(&format!("the reply box to hold {expected:?}"), || async {
        let value = client
            .find("#reply-text")
            .await
            .map_err(|e| e.to_string())?
            .prop("value")
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        if value == expected {
            Ok(Some(()))
        } else {
            Err(format!("value {value:?}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_s_template_is_offered_searched_with_slash_and_sent_with_ctrl_enter() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            // The lead writes the brand's apology in the Templates view.
            log_in(&client, &site, "lee", "lead").await;
            click(&client, "nav button[data-view=templates]").await;
            wait_for_text(&client, "#template-list", "every brand").await;
            let form = "#template-form";
            client
                .find(&format!("{form} input[name=name]"))
                .await
                .unwrap()
                .send_keys("We're on it")
                .await
                .unwrap();
            client
                .find(&format!("{form} textarea[name=text]"))
                .await
                .unwrap()
                .send_keys("Hi {first_name}, I'm so sorry. {agent} from {brand} is on it.")
                .await
                .unwrap();
            click(&client, &format!("{form} input[name=apology]")).await;
            click(&client, "#template-save").await;
            wait_for_text(&client, "#flash", "Template \"We're on it\" saved.").await;
            wait_for_text(&client, "#template-list", "offered first on negative tasks").await;
            let stored = store.reply_templates(None).await.unwrap();
            assert_eq!(
                stored
                    .iter()
                    .map(|t| (t.brand.as_str(), t.name.as_str(), t.apology, t.updated_by.as_str()))
                    .collect::<Vec<_>>(),
                [("acme", "We're on it", true, "lee")]
            );
            click(&client, "#logout").await;

            // The agent opens a negative task: the apology is offered; one click fills it in.
            log_in(&client, &site, "ann", "agent").await;
            rows(&client, 2).await;
            let jo = task_of(&store, "@jo").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", jo.id)).await;
            wait_for_text(&client, "#apology-offer", "Start with the apology: We're on it").await;
            click(&client, "#apology-offer").await;
            reply_box(&client, "Hi jo, I'm so sorry. ann from Acme Air is on it.").await;
            // Counted as X counts (no reply account: posted by hand), against its limit.
            wait_for_text(&client, "#reply-count", "48 / 280 characters").await;

            // "/" in an empty box searches the templates; Enter takes the first match.
            client
                .execute("const box = document.querySelector('#reply-text'); box.value = ''; box.focus();")
                .await
                .unwrap();
            client.find("#reply-text").await.unwrap().send_keys("/").await.unwrap();
            let focused = client.active_element().await.unwrap().attr("id").await.unwrap();
            assert_eq!(focused.as_deref(), Some("template-search"), "/ opens the search");
            client
                .find("#template-search")
                .await
                .unwrap()
                .send_keys("sort it")
                .await
                .unwrap();
            wait_for_text(&client, "#template-results li.active", "apology").await;
            let listed = client.find_all("#template-results li").await.unwrap().len();
            assert_eq!(listed, 1, "only the template whose text matches");
            client
                .find("#template-search")
                .await
                .unwrap()
                .send_keys(ENTER)
                .await
                .unwrap();
            let config_text = "Hi @jo, we are sorry about this. ann from Acme Air will sort it out here on x.";
            reply_box(&client, config_text).await;

            // Ctrl+Enter records it (earshot cannot post here), claiming the task on the way.
            client
                .find("#reply-text")
                .await
                .unwrap()
                .send_keys(&format!("{CONTROL}{ENTER}{CONTROL}"))
                .await
                .unwrap();
            wait_for_text(&client, "#flash", "reply done (responded)").await;
            let detail = store.task_detail(jo.id).await.unwrap();
            assert_eq!(detail.task.status, TaskStatus::Responded);
            assert_eq!(detail.task.assignee.as_deref(), Some("ann"), "replying claimed it");
            let reply = detail.events.iter().find(|e| e.kind == "replied").unwrap();
            assert_eq!(
                (&reply.detail["text"], &reply.detail["template"]),
                (&serde_json::json!(config_text), &serde_json::json!("apology"))
            );

            // Record & resolve: a reply written on the platform, and the task done.
            let max = task_of(&store, "@max").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", max.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", max.id)).await;
            client
                .find("#reply-text")
                .await
                .unwrap()
                .send_keys("Sorry about the cancellation, DM us your booking.")
                .await
                .unwrap();
            // Starting a reply on an open task claimed it, and the text stayed.
            wait_for_text(&client, "#flash", "is yours now: you started a reply").await;
            wait_for_text(&client, "#detail .task-state", "assignee ann").await;
            reply_box(&client, "Sorry about the cancellation, DM us your booking.").await;
            click(&client, "#record-resolve").await;
            wait_for_text(&client, "#flash", "resolve done (resolved)").await;
            let detail = store.task_detail(max.id).await.unwrap();
            assert_eq!(detail.task.status, TaskStatus::Resolved);
            assert!(
                detail.task.first_response_at_ms.is_some(),
                "the reply was recorded first"
            );
            let kinds: Vec<(&str, &str)> = detail
                .events
                .iter()
                .map(|e| (e.kind.as_str(), e.actor.as_str()))
                .collect();
            assert_eq!(
                kinds,
                [
                    ("opened", "earshot"),
                    ("claimed", "ann"),
                    ("replied", "ann"),
                    ("resolved", "ann")
                ]
            );
        })
        .await;
}
