//! The queue page in the browser: logging in, the order of the queue, claim → template
//! reply → resolve (persisted), the follow-up reminder, hostile post text, live updates and
//! keyboard shortcuts.

use std::sync::Arc;

use serde_json::json;

use earshot::domain::{TaskId, TaskStatus};
use earshot::store::{Store, TaskFilter};

use super::{Browser, Client, wait_for, wait_for_text};
use crate::support::TestApp;
use crate::support::fill::{PASSWORD, complaints, filled, poll_and_score};
use crate::support::{TestEnv, line};

/// The app over a store the real pipeline filled from `lines`; follow-ups are due at once.
pub(super) async fn site(env: &TestEnv, lines: &[String]) -> TestApp {
    let (store, settings) = filled(env, lines).await;
    let mut settings = (*settings).clone();
    settings.tasks.follow_up_secs = 0;
    TestApp::new(&store, &Arc::new(settings))
}

/// Logs in through the login page, starting from the queue's address.
pub(super) async fn log_in(client: &Client, site: &TestApp, username: &str, role: &str) {
    client.goto(&site.url("/")).await.unwrap();
    wait_for("the redirect to the login page", || async {
        let url = client.current_url().await.map_err(|e| e.to_string())?;
        Ok((url.path() == "/login").then_some(()))
    })
    .await;
    client
        .find("#username")
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    client
        .find("#password")
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client.find("#login-submit").await.unwrap().click().await.unwrap();
    wait_for_text(client, "#me", &format!("{username} ({role})")).await;
}

/// The queue's rows as (task id, text of each cell), once at least `min_rows` are shown.
pub(super) async fn rows(client: &Client, min_rows: usize) -> Vec<(TaskId, Vec<String>)> {
    wait_for(&format!("at least {min_rows} task rows"), || async {
        let mut rows = Vec::new();
        for row in client
            .find_all("#tasks tbody tr[data-id]")
            .await
            .map_err(|e| e.to_string())?
        {
            let id = row
                .attr("data-id")
                .await
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            let mut cells = Vec::new();
            for cell in row.find_all("td").await.map_err(|e| e.to_string())? {
                cells.push(cell.text().await.map_err(|e| e.to_string())?);
            }
            rows.push((id.parse::<TaskId>().map_err(|e| e.to_string())?, cells));
        }
        if rows.len() >= min_rows {
            Ok(Some(rows))
        } else {
            Err(format!("{} rows", rows.len()))
        }
    })
    .await
}

pub(super) async fn task_of(store: &Arc<dyn Store>, author: &str) -> earshot::store::TaskRow {
    store
        .list_tasks(&TaskFilter {
            limit: 1000,
            ..TaskFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.author_handle == author)
        .unwrap_or_else(|| panic!("a task for {author}"))
}

/// Clicks what `css` matches. The page re-renders lists when data arrives (a refresh, a
/// live update), which can replace the element between finding and clicking it: then the
/// fresh one is found and clicked.
pub(super) async fn click(client: &Client, css: &str) {
    wait_for(&format!("a click on {css}"), || async {
        let element = client.find(css).await.map_err(|e| e.to_string())?;
        match element.click().await {
            Ok(()) => Ok(Some(())),
            Err(error) if error.code == "stale element reference" => Err(error.to_string()),
            Err(error) => panic!("clicking {css}: {error}"),
        }
    })
    .await;
}

/// Types keys as if on the page itself (not into a field), for the keyboard shortcuts.
pub(super) async fn press(client: &Client, keys: &str) {
    client.find("body").await.unwrap().send_keys(keys).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_logs_in_claims_replies_with_a_template_and_resolves() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;

            // The queue is in the store's order: priority first, then the nearest deadline.
            let expected: Vec<TaskId> = store
                .list_tasks(&TaskFilter {
                    statuses: TaskStatus::ALL.into_iter().filter(|s| s.is_active()).collect(),
                    limit: 200,
                    ..TaskFilter::default()
                })
                .await
                .unwrap()
                .iter()
                .map(|t| t.id)
                .collect();
            assert!(expected.len() >= 2, "the complaints opened tasks: {expected:?}");
            let shown = rows(&client, expected.len()).await;
            assert_eq!(shown.iter().map(|(id, _)| *id).collect::<Vec<_>>(), expected);
            let ranks: Vec<usize> = shown
                .iter()
                .map(|(_, cells)| {
                    ["critical", "high", "medium", "low"]
                        .iter()
                        .position(|p| *p == cells[1])
                        .unwrap_or_else(|| panic!("a priority badge: {cells:?}"))
                })
                .collect();
            assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "most urgent first: {shown:?}");

            // Claim @jo's task.
            let jo = task_of(&store, "@jo").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", jo.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", jo.id)).await;
            wait_for_text(&client, "#detail .post-text", "lost my bag").await;
            click(&client, "#claim").await;
            wait_for_text(&client, "#detail", "assignee ann").await;
            wait_for_text(&client, "#flash", "claim done (assigned)").await;

            // Reply with the template; its placeholders are filled for this task and agent.
            client
                .find("#template")
                .await
                .unwrap()
                .select_by_value("apology")
                .await
                .unwrap();
            let filled_text = "Hi @jo, we are sorry about this. ann from Acme Air will sort it out here on x.";
            wait_for("the template filled into the reply box", || async {
                let value = client
                    .find("#reply-text")
                    .await
                    .map_err(|e| e.to_string())?
                    .prop("value")
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                if value == filled_text {
                    Ok(Some(()))
                } else {
                    Err(format!("value {value:?}"))
                }
            })
            .await;
            click(&client, "#reply").await;
            wait_for_text(&client, "#flash", "reply done (responded)").await;
            wait_for_text(&client, "#detail .events", filled_text).await;

            // Resolve with the keyboard shortcut.
            press(&client, "e").await;
            wait_for_text(&client, "#flash", "resolve done (resolved)").await;
            wait_for_text(&client, "#detail", "resolved").await;

            // The store has it, with who did what.
            let detail = store.task_detail(jo.id).await.unwrap();
            assert_eq!(detail.task.status, TaskStatus::Resolved);
            assert_eq!(detail.task.assignee.as_deref(), Some("ann"));
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
            assert_eq!(detail.events[2].detail["text"], filled_text);
            assert_eq!(detail.events[2].detail["template"], "apology");

            // The follow-up is due at once here: the queue reminds, and shows the task on demand.
            wait_for_text(&client, "#follow-up-count", "1 resolved task is due a follow-up").await;
            wait_for_text(&client, "#follow-up", "is the customer happy now?").await;
            click(&client, "#show-follow-ups").await;
            wait_for("only the resolved task to be listed", || async {
                let shown = client
                    .find_all("#tasks tbody tr[data-id]")
                    .await
                    .map_err(|e| e.to_string())?;
                let mut ids = Vec::new();
                for row in shown {
                    ids.push(
                        row.attr("data-id")
                            .await
                            .map_err(|e| e.to_string())?
                            .unwrap_or_default(),
                    );
                }
                if ids == [jo.id.to_string()] {
                    Ok(Some(()))
                } else {
                    Err(format!("rows {ids:?}"))
                }
            })
            .await;
            wait_for_text(&client, "#tasks tbody td.status", "resolved · follow-up due").await;
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_post_text_renders_as_literal_text() {
    let env = TestEnv::new();
    let hostile = "@AcmeAir lost my bag, worst airline ever, refund now \
        <script>window.pwned = 'script'; alert('script')</script> \
        <img src=x onerror=\"window.pwned = 'img'; alert('img')\"> \
        <a href=\"javascript:window.pwned='anchor'\">click me</a> javascript:alert(document.cookie)";
    let mut post: serde_json::Value = serde_json::from_str(&line("66", "@mallory", hostile)).unwrap();
    post["url"] = json!("javascript:window.pwned='url'");
    post["quote_of"] = json!("1234");
    post["quoted_text"] = json!("<img src=x onerror=\"window.pwned = 'quote'\"> quoted <b>bold</b>");
    let site = site(&env, &[post.to_string()]).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            let task = task_of(&store, "@mallory").await;
            rows(&client, 1).await;
            wait_for("the post's text in the queue row", || async {
                let cell = client.find("#tasks tbody td.text").await.map_err(|e| e.to_string())?;
                let text = cell
                    .prop("textContent")
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                if text == hostile {
                    Ok(Some(()))
                } else {
                    Err(format!("cell {text:?}"))
                }
            })
            .await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", task.id)).await;
            let shown = wait_for_text(&client, "#detail .post-text", "<img src=x onerror=").await;
            for literal in [
                "<script>window.pwned = 'script'; alert('script')</script>",
                "<a href=\"javascript:window.pwned='anchor'\">click me</a>",
                "javascript:alert(document.cookie)",
            ] {
                assert!(shown.contains(literal), "{literal:?} is shown as text: {shown:?}");
            }

            let quoted = wait_for_text(&client, "#detail .quoted-text", "quoted").await;
            assert_eq!(
                quoted,
                "<img src=x onerror=\"window.pwned = 'quote'\"> quoted <b>bold</b>"
            );

            // No dialog opened, no injected code ran, no element came from the post.
            assert!(
                client.alert_text().await.is_err_and(|e| e.code == "no such alert"),
                "a JavaScript dialog is open"
            );
            let probe = client
                .execute(
                    "return {
                       pwned: window.pwned === undefined ? null : String(window.pwned),
                       scripts: [...document.scripts].map((s) => s.getAttribute('src')),
                       images: document.images.length,
                       javascriptLinks: [...document.querySelectorAll('a')]
                         .filter((a) => /^\\s*javascript:/i.test(a.getAttribute('href') || '')).length,
                       linksInPosts: document.querySelectorAll('.post-text *, .quoted-text *, #tasks td.text *').length,
                     };",
                )
                .await
                .unwrap();
            assert_eq!(
                probe,
                json!({
                    "pwned": null,
                    "scripts": ["/assets/app.js"],
                    "images": 0,
                    "javascriptLinks": 0,
                    "linksInPosts": 0,
                }),
            );
            // The javascript: URL of the post was dropped, so there is no "Open original" link.
            assert!(client.find("#detail a").await.is_err(), "no link to a javascript: URL");
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_after_the_page_loaded_appears_without_reload() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    let n_before = store
        .list_tasks(&TaskFilter {
            statuses: vec![TaskStatus::Open],
            limit: 200,
            ..TaskFilter::default()
        })
        .await
        .unwrap()
        .len();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            rows(&client, n_before).await;
            // A marker that a reload would wipe.
            client.execute("window.sameDocument = true;").await.unwrap();

            env.append(
                "acme-feed",
                &[line(
                    "40",
                    "@newbie",
                    "Acme Air lost my luggage, terrible service, refund now",
                )],
            );
            poll_and_score(&env, 1).await;
            assert!(
                store
                    .list_tasks(&TaskFilter {
                        limit: 200,
                        ..TaskFilter::default()
                    })
                    .await
                    .unwrap()
                    .iter()
                    .any(|t| t.author_handle == "@newbie"),
                "the new post opened a task"
            );

            // The new task waits behind a pill (and in the tab's title) instead of moving
            // the rows; clicking the pill shows it.
            wait_for_text(&client, "#new-tasks", "1 new task").await;
            let title = client.execute("return document.title;").await.unwrap();
            assert!(title.as_str().unwrap().starts_with("(1 new) "), "{title}");
            let body = client.find("#tasks tbody").await.unwrap().text().await.unwrap();
            assert!(
                !body.contains("@newbie"),
                "not shown before the pill is clicked: {body}"
            );
            click(&client, "#new-tasks").await;
            wait_for_text(&client, "#tasks tbody tr.fresh", "@newbie").await;
            let after = client
                .execute("return [document.querySelector('#new-tasks').hidden, document.title];")
                .await
                .unwrap();
            assert_eq!(after[0], json!(true), "the pill is gone once they are shown: {after}");
            assert!(!after[1].as_str().unwrap().contains("new"), "{after}");
            let same = client.execute("return window.sameDocument === true;").await.unwrap();
            assert_eq!(same, json!(true), "the page was not reloaded");
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_shortcuts_move_through_the_queue_and_claim() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "bob", "agent").await;
            let shown = rows(&client, 2).await;
            let (first, second) = (shown[0].0, shown[1].0);

            press(&client, "j").await;
            wait_for_text(&client, "#detail h2", &format!("Task #{first}")).await;
            // Roving focus: the row j moved to has the focus and is the list's one Tab stop.
            let focus = client
                .execute(
                    "return [document.activeElement.dataset.id,
                             [...document.querySelectorAll('#tasks tbody tr[tabindex=\"0\"]')].map((r) => r.dataset.id)];",
                )
                .await
                .unwrap();
            assert_eq!(focus, json!([first.to_string(), [first.to_string()]]));
            press(&client, "j").await;
            wait_for_text(&client, "#detail h2", &format!("Task #{second}")).await;
            press(&client, "k").await;
            wait_for_text(&client, "#detail h2", &format!("Task #{first}")).await;
            wait_for("the selected row to be highlighted", || async {
                let row = client
                    .find("#tasks tbody tr.selected")
                    .await
                    .map_err(|e| e.to_string())?;
                let id = row.attr("data-id").await.map_err(|e| e.to_string())?;
                if id == Some(first.to_string()) {
                    Ok(Some(()))
                } else {
                    Err(format!("selected {id:?}"))
                }
            })
            .await;

            press(&client, "c").await;
            wait_for_text(&client, "#detail", "assignee bob").await;
            assert_eq!(
                store.task_detail(first).await.unwrap().task.assignee.as_deref(),
                Some("bob")
            );

            let help = client.find("#help").await.unwrap();
            assert!(!help.is_displayed().await.unwrap());
            press(&client, "?").await;
            wait_for("the shortcut help", || async {
                let shown = client
                    .find("#help")
                    .await
                    .map_err(|e| e.to_string())?
                    .is_displayed()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(shown.then_some(()))
            })
            .await;

            // Typing in a field is not a shortcut: an "e" in the note box resolves nothing.
            press(&client, "r").await;
            let focused = client.active_element().await.unwrap().attr("id").await.unwrap();
            assert_eq!(focused.as_deref(), Some("reply-text"), "r focuses the reply box");
            client.find("#note-text").await.unwrap().send_keys("e").await.unwrap();
            click(&client, "#add-note").await;
            // A resolve sent by the key would have made this note stale (409) or gone first.
            wait_for_text(&client, "#flash", "note done (assigned)").await;
            let detail = store.task_detail(first).await.unwrap();
            assert_eq!(detail.task.status, TaskStatus::Assigned);
            let last = detail.events.last().unwrap();
            assert_eq!((last.kind.as_str(), &last.detail["text"]), ("note", &json!("e")));
        })
        .await;
}
