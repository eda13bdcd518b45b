//! The Problems view in the browser: a lead finds the problem, writes the known-issue message,
//! answers its unanswered tasks in one action (each reply sent on its own by the reply
//! worker, exactly once), and an agent opening one of its tasks finds the message in the
//! reply box.

use super::queue::{click, log_in};
use super::{Browser, wait_for_text};
use crate::support::TestApp;
use crate::support::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_answers_a_problem_with_its_known_issue_message_and_agents_see_it_offered() {
    // One reply per Mastodon task of the problem, each sent once.
    let server = super::send::mastodon_reply_server(4).await;
    let env = TestEnv::new();
    let (store, settings, tasks) = crate::problems::problem_with_tasks_at(&env, &server.uri()).await;
    let site = TestApp::new(&store, &settings);
    let worker = crate::support::replies::sender(&store, &settings);
    let first_task = tasks[0];
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "lee", "lead").await;
            click(&client, "nav button[data-view=problems]").await;
            wait_for_text(&client, "#problems tbody", "login").await;
            wait_for_text(&client, "#problems tbody tr td:nth-child(4)", "5").await;
            click(&client, "#problems tbody tr[data-id] td.problem-label").await;
            wait_for_text(&client, "#problem-detail", "Example posts").await;
            wait_for_text(&client, "#problem-answer", "Answer 5 unanswered tasks").await;

            let message = client.find("#problem-message").await.unwrap();
            message
                .send_keys("Sorry {author}: the app login is failing since 07:10, a fix is due by noon.")
                .await
                .unwrap();
            click(&client, "#problem-save").await;
            wait_for_text(&client, "#flash", "saved").await;

            click(&client, "#problem-answer").await;
            let flash = wait_for_text(&client, "#flash", "replies queued").await;
            assert!(flash.contains("4 replies queued, 1 skipped"), "{flash}");
            assert!(flash.contains("no reddit reply account"), "{flash}");

            // The reply worker sends them, one per task.
            let report = worker.send_due(earshot::domain::now_millis()).await.unwrap();
            assert_eq!(report.n_sent, 4, "{report:?}");
            let again = worker.send_due(earshot::domain::now_millis()).await.unwrap();
            assert_eq!(again.n_sent, 0, "nothing is sent twice");

            // An agent opening a task of the problem finds the message offered, filled in.
            click(&client, "#logout").await;
            log_in(&client, &site, "ann", "agent").await;
            client.goto(&site.url(&format!("/?task={first_task}"))).await.unwrap();
            wait_for_text(&client, "#task-problem", "login").await;
            let offered = crate::browser::wait_for("the message in the reply box", || async {
                let value = client
                    .find("#reply-text")
                    .await
                    .map_err(|e| e.to_string())?
                    .prop("value")
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                Ok((!value.is_empty()).then_some(value))
            })
            .await;
            assert!(
                offered.starts_with("Sorry ") && offered.contains("the app login is failing"),
                "{offered}"
            );
        })
        .await;
}
