//! A queue an agent can live in all day: the list and the task never overlap on a desktop
//! and become one column with a full-screen task on a phone; ticked rows, the open task and
//! focus survive live updates; Enter in a filter searches without reloading and filters stay
//! in the address; paging shows the total and reaches every task; the action buttons follow
//! the task's state, and a refusal says which rule refused.

use serde_json::{Value, json};

use earshot::domain::{TaskStatus, now_millis};
use earshot::store::TaskFilter;
use earshot::tasks::actions::{Action, Actor, decide};

use super::queue::{click, log_in, press, rows, site, task_of};
use super::{Browser, Client, wait_for, wait_for_text};
use crate::support::fill::{complaints, poll_and_score};
use crate::support::{TestEnv, line};

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";

/// Sets the viewport and waits until the page has laid itself out at that width.
async fn viewport(client: &Client, width: u32, height: u32, mobile: bool) {
    client.viewport(width, height, mobile).await.unwrap();
    wait_for(&format!("a {width}×{height} viewport"), || async {
        let inner = client
            .execute("return [window.innerWidth, window.innerHeight];")
            .await
            .map_err(|e| e.to_string())?;
        if inner == json!([width, height]) {
            Ok(Some(()))
        } else {
            Err(format!("viewport {inner}"))
        }
    })
    .await;
}

/// The rectangles the layout checks need, measured in the page.
async fn layout(client: &Client) -> Value {
    client
        .execute(
            "const rect = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
               return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; };
             const cells = [...document.querySelectorAll('#tasks tr')].flatMap((tr) => [...tr.children])
               .filter((c) => c.getClientRects().length > 0);
             const back = document.querySelector('#back');
             return {
               table: rect(document.querySelector('#tasks')),
               detail: rect(document.querySelector('#detail')),
               cellsRight: Math.max(...cells.map((c) => c.getBoundingClientRect().right)),
               textCellsEllipsised: [...document.querySelectorAll('#tasks td.text')]
                 .every((c) => getComputedStyle(c).textOverflow === 'ellipsis' && c.scrollHeight <= c.clientHeight + 1),
               detailShown: document.querySelector('#detail').getClientRects().length > 0,
               backShown: back !== null && back.getClientRects().length > 0,
               listShown: document.querySelector('#tasks').getClientRects().length > 0,
               // Every shown badge inside its cell's content box (nothing clipped).
               badgesFit: [...document.querySelectorAll('#tasks td.priority .badge, #tasks td.sla-cell .sla')]
                 .filter((b) => b.getClientRects().length > 0)
                 .map((b) => { const cell = b.closest('td').getBoundingClientRect(); const r = b.getBoundingClientRect();
                   const pad = parseFloat(getComputedStyle(b.closest('td')).paddingRight);
                   return { text: b.textContent, width: r.width, room: cell.right - pad - r.left,
                     fits: r.left >= cell.left && r.right <= cell.right - pad + 0.5 }; }),
               // The header is one row: the user and Log out beside the title, not under it.
               header: rect(document.querySelector('body > header')),
               title: rect(document.querySelector('body > header h1')),
               logout: rect(document.querySelector('#logout')),
               // In the task: the post's text and why it was flagged, then the actions.
               postText: rect(document.querySelector('#detail .post-text')),
               why: rect(document.querySelector('#detail ul.factors')),
               actionBar: rect(document.querySelector('#detail .actions')),
               pageWidth: document.documentElement.scrollWidth,
               innerWidth: window.innerWidth,
               innerHeight: window.innerHeight,
             };",
        )
        .await
        .unwrap()
}

/// Every priority and SLA badge the layout measured is whole, none clipped by its column.
fn assert_badges_fit(at: &Value) {
    let badges = at["badgesFit"].as_array().unwrap();
    assert!(badges.len() >= 6, "the rows' badges were measured: {at}");
    assert!(
        badges.iter().all(|b| b["fits"] == true),
        "a badge is clipped by its column at {}px: {at}",
        at["innerWidth"]
    );
}

fn f(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("a number: {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_never_covers_the_list_on_a_desktop_and_is_a_full_screen_view_on_a_phone() {
    let env = TestEnv::new();
    let mut lines = complaints();
    // A long post without spaces: the kind of text that pushed the table under the detail.
    lines.push(line(
        "9",
        "@long_winded_customer_with_a_very_long_handle",
        &format!("@AcmeAir lost my bag, refund now {}", "AAAAAAAAAA".repeat(40)),
    ));
    let site = site(&env, &lines).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            viewport(&client, 1280, 800, false).await;
            log_in(&client, &site, "ann", "agent").await;
            rows(&client, 3).await;
            let long = task_of(&store, "@long_winded_customer_with_a_very_long_handle").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", long.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", long.id)).await;

            for (width, height) in [(1280, 800), (1440, 900), (1920, 1080)] {
                viewport(&client, width, height, false).await;
                let at = layout(&client).await;
                let (table, detail) = (&at["table"], &at["detail"]);
                assert!(
                    f(&table["right"]) <= f(&detail["left"]) && f(&at["cellsRight"]) <= f(&detail["left"]),
                    "at {width}×{height} the list ends before the task begins: {at}"
                );
                assert!(f(&table["width"]) > 400.0, "the list keeps room at {width}: {at}");
                assert!(f(&detail["right"]) <= f(&at["innerWidth"]), "the task fits: {at}");
                assert_eq!(
                    at["textCellsEllipsised"], true,
                    "long text is cut with an ellipsis: {at}"
                );
                assert_eq!(at["backShown"], false, "no Back button beside the list: {at}");
                assert_badges_fit(&at);
                let (title, logout) = (&at["title"], &at["logout"]);
                let middle = |r: &Value| (f(&r["top"]) + f(&r["bottom"])) / 2.0;
                assert!(
                    (middle(title) - middle(logout)).abs() < 6.0 && f(&logout["right"]) <= f(&at["innerWidth"]),
                    "at {width}×{height} Log out is on the title's row: {at}"
                );
                assert!(
                    f(&at["postText"]["top"]) < f(&at["actionBar"]["top"])
                        && f(&at["why"]["bottom"]) <= f(&at["actionBar"]["top"]),
                    "the post and why it was flagged come before the actions: {at}"
                );
                assert!(
                    f(&at["pageWidth"]) <= f(&at["innerWidth"]),
                    "no sideways scrolling: {at}"
                );
            }

            // A phone: one column; the open task is the whole screen, with a way back.
            viewport(&client, 390, 844, true).await;
            let at = layout(&client).await;
            assert_eq!(at["backShown"], true, "{at}");
            let detail = &at["detail"];
            assert_eq!(
                (f(&detail["left"]), f(&detail["top"])),
                (0.0, 0.0),
                "the task covers the screen: {at}"
            );
            assert_eq!(
                (f(&detail["width"]), f(&detail["height"])),
                (390.0, 844.0),
                "the task covers the screen: {at}"
            );
            click(&client, "#back").await;
            wait_for("the list again after Back", || async {
                let at = layout(&client).await;
                if at["listShown"] == true && at["detailShown"] == false {
                    Ok(Some(at))
                } else {
                    Err(at.to_string())
                }
            })
            .await;
            let at = layout(&client).await;
            assert!(f(&at["pageWidth"]) <= 390.0, "no sideways scrolling on a phone: {at}");
            assert!(f(&at["cellsRight"]) <= 390.0, "every shown cell fits: {at}");
            assert_badges_fit(&at);
            let url = client.current_url().await.unwrap();
            assert!(!url.as_str().contains("task="), "Back closes the task: {url}");
            // The list is usable: another task opens full screen.
            let shown = rows(&client, 2).await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", shown[1].0)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", shown[1].0)).await;
            assert_eq!(layout(&client).await["backShown"], true);
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticked_rows_the_open_task_and_focus_survive_a_pushed_update() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            let shown = rows(&client, 2).await;
            let (open, ticked) = (shown[0].0, shown[1].0);
            click(&client, &format!("#tasks tr[data-id=\"{open}\"]")).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{open}")).await;
            let checkbox = format!("#tasks input.bulk[data-id=\"{ticked}\"]");
            click(&client, &checkbox).await;
            // Marks the checkbox element and gives it the focus: a re-render would lose both.
            client
                .execute(&format!(
                    "const box = document.querySelector('{checkbox}');
                     box.dataset.marker = 'kept'; box.focus(); window.sameDocument = true;"
                ))
                .await
                .unwrap();

            env.append(
                "acme-feed",
                &[line(
                    "40",
                    "@newbie",
                    "Acme Air lost my luggage, terrible service, refund now",
                )],
            );
            let order = "return [...document.querySelectorAll('#tasks tbody tr[data-id]')].map((r) => r.dataset.id);";
            let before = client.execute(order).await.unwrap();
            poll_and_score(&env, 1).await;
            // The pushed update announces the new task; the rows stay where they were.
            wait_for_text(&client, "#new-tasks", "1 new task").await;
            assert_eq!(
                client.execute(order).await.unwrap(),
                before,
                "no row moved under the cursor"
            );

            let state = client
                .execute(&format!(
                    "const box = document.querySelector('#tasks input.bulk[data-id=\"{ticked}\"]');
                     return {{
                       checked: box.checked,
                       sameElement: box.dataset.marker === 'kept',
                       focused: document.activeElement === box,
                       selected: [...document.querySelectorAll('#tasks tr.selected')].map((r) => r.dataset.id),
                       sameDocument: window.sameDocument === true,
                     }};"
                ))
                .await
                .unwrap();
            assert_eq!(
                state,
                json!({
                    "checked": true,
                    "sameElement": true,
                    "focused": true,
                    "selected": [open.to_string()],
                    "sameDocument": true,
                })
            );
            wait_for_text(&client, "#detail h2", &format!("Task #{open}")).await;

            // Shown on request, in order; the ticked row is still the same, ticked element.
            click(&client, "#new-tasks").await;
            wait_for_text(&client, "#tasks tbody", "@newbie").await;
            let kept = client
                .execute(&format!(
                    "const box = document.querySelector('#tasks input.bulk[data-id=\"{ticked}\"]');
                     return [box.checked, box.dataset.marker === 'kept'];"
                ))
                .await
                .unwrap();
            assert_eq!(kept, json!([true, true]));

            // The ticked task is the one a bulk action takes, even after the update.
            wait_for_text(&client, ".bulk-bar", "Selected (1)").await;
            click(&client, "#bulk-claim").await;
            wait_for_text(&client, "#flash", "1 of 1 tasks: claim done").await;
            assert_eq!(
                store.task_detail(ticked).await.unwrap().task.assignee.as_deref(),
                Some("ann")
            );
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_in_a_filter_searches_without_reloading_and_the_address_keeps_the_filters() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            rows(&client, 2).await;
            client.execute("window.sameDocument = true;").await.unwrap();
            let jo = task_of(&store, "@jo").await;

            client
                .find("#filters input[name=q]")
                .await
                .unwrap()
                .send_keys(&format!("LOST MY BAG{ENTER}"))
                .await
                .unwrap();
            wait_for_text(&client, "#tasks-count", "Showing 1 of 1").await;
            let shown = rows(&client, 1).await;
            assert_eq!(shown.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [jo.id]);

            client
                .find("#filters input[name=assignee]")
                .await
                .unwrap()
                .send_keys(&format!("nobody{ENTER}"))
                .await
                .unwrap();
            wait_for_text(&client, "#tasks tbody", "No tasks match.").await;
            let same = client.execute("return window.sameDocument === true;").await.unwrap();
            assert_eq!(same, json!(true), "Enter did not reload the page");
            let url = client.current_url().await.unwrap();
            let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            assert!(
                query.contains(&("q".into(), "LOST MY BAG".into()))
                    && query.contains(&("assignee".into(), "nobody".into())),
                "the filters are in the address: {url}"
            );

            // A reload (or a shared link) shows the same view.
            client.goto(url.as_str()).await.unwrap();
            wait_for_text(&client, "#tasks-count", "Showing 0 of 0").await;
            let assignee = client
                .find("#filters input[name=assignee]")
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap();
            assert_eq!(assignee.as_deref(), Some("nobody"));

            // A quick view replaces the filters.
            click(&client, ".quick-views button[data-quick=unassigned]").await;
            wait_for_text(&client, "#tasks-count", "Showing 2 of 2").await;

            // Select all ticks every row of the page.
            click(&client, "#select-all").await;
            wait_for_text(&client, ".bulk-bar", "Selected (2)").await;

            // The order is the agent's choice, and kept in the address too.
            let max = task_of(&store, "@max").await;
            client
                .find("#filters select[name=sort]")
                .await
                .unwrap()
                .select_by_value("newest")
                .await
                .unwrap();
            wait_for("the newest task first", || async {
                let url = client.current_url().await.map_err(|e| e.to_string())?;
                let first = client
                    .find("#tasks tbody tr[data-id]")
                    .await
                    .map_err(|e| e.to_string())?
                    .attr("data-id")
                    .await
                    .map_err(|e| e.to_string())?;
                if url.as_str().contains("sort=newest") && first == Some(max.id.to_string()) {
                    Ok(Some(()))
                } else {
                    Err(format!("{url}, first row {first:?}"))
                }
            })
            .await;
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_shows_the_total_and_reaches_a_task_past_the_first_page() {
    let env = TestEnv::new();
    let lines: Vec<String> = (1..=55)
        .map(|i| {
            line(
                &format!("{}", 1000 + i),
                &format!("@traveller{i}"),
                &format!("@AcmeAir lost my bag on flight {i}, worst airline ever, refund now"),
            )
        })
        .collect();
    let site = site(&env, &lines).await;
    let store = site.store.clone();
    let second_page = store
        .list_tasks(&TaskFilter {
            statuses: TaskStatus::ALL.into_iter().filter(|s| s.is_active()).collect(),
            limit: 50,
            offset: 50,
            ..TaskFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(second_page.len(), 5, "55 tasks were opened");
    let last = second_page.last().unwrap().clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            wait_for_text(&client, "#tasks-count", "Showing 50 of 55 (1–50)").await;
            assert!(
                client
                    .find(&format!("#tasks tr[data-id=\"{}\"]", last.id))
                    .await
                    .is_err(),
                "the last task is not on the first page"
            );
            click(&client, "#tasks-next").await;
            wait_for_text(&client, "#tasks-count", "Showing 5 of 55 (51–55)").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", last.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", last.id)).await;
            let url = client.current_url().await.unwrap();
            let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            assert!(
                query.contains(&("offset".into(), "50".into()))
                    && query.contains(&("task".into(), last.id.to_string())),
                "the page and the task are in the address: {url}"
            );
            click(&client, "#tasks-prev").await;
            wait_for_text(&client, "#tasks-count", "Showing 50 of 55 (1–50)").await;

            // Search finds it from any page (by its text: "flight 5," is that post's alone).
            let number = last.author_handle.trim_start_matches("@traveller");
            client
                .find("#filters input[name=q]")
                .await
                .unwrap()
                .send_keys(&format!("flight {number},{ENTER}"))
                .await
                .unwrap();
            wait_for_text(&client, "#tasks-count", "Showing 1 of 1").await;
            wait_for_text(
                &client,
                &format!("#tasks tr[data-id=\"{}\"]", last.id),
                &last.author_handle,
            )
            .await;
        })
        .await;
}

/// The ids of the action buttons the task pane offers.
async fn buttons(client: &Client) -> Vec<String> {
    let value = client
        .execute("return [...document.querySelectorAll('#detail .action-bar button')].map((b) => b.id);")
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

async fn wait_for_buttons(client: &Client, expected: &[&str]) {
    wait_for(&format!("the buttons {expected:?}"), || async {
        let shown = buttons(client).await;
        if shown == expected {
            Ok(Some(()))
        } else {
            Err(format!("buttons {shown:?}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_buttons_follow_the_task_state_and_a_refusal_names_the_rule() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "lee", "lead").await;
            let jo = task_of(&store, "@jo").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", jo.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", jo.id)).await;

            // Open: claim it (no Reopen, no Resolve yet).
            wait_for_buttons(&client, &["claim"]).await;
            let text = client.find("#detail").await.unwrap().text().await.unwrap();
            assert!(!text.contains("null") && !text.contains("undefined"), "{text}");
            click(&client, "#claim").await;
            wait_for_text(&client, "#flash", "claim done (assigned)").await;
            wait_for_buttons(&client, &["resolve"]).await;

            // Answered: the SLA stops counting and says how fast.
            client
                .find("#reply-text")
                .await
                .unwrap()
                .send_keys("Sorry about your bag, we are on it.")
                .await
                .unwrap();
            click(&client, "#reply").await;
            wait_for_text(&client, "#flash", "reply done (responded)").await;
            wait_for_text(&client, &format!("#tasks tr[data-id=\"{}\"] td.sla-cell", jo.id), "✓ ").await;

            // Resolved: only Reopen (a lead's), no Claim, no reply box.
            click(&client, "#resolve").await;
            wait_for_text(&client, "#flash", "resolve done (resolved)").await;
            wait_for_buttons(&client, &["reopen"]).await;
            assert!(
                client.find("#reply-text").await.is_err(),
                "no reply box on a resolved task"
            );
            let text = client.find("#detail").await.unwrap().text().await.unwrap();
            assert!(!text.contains("null") && !text.contains("undefined"), "{text}");

            // The claim shortcut on a resolved task: refused by a state rule, and it says so.
            press(&client, "c").await;
            let said = wait_for_text(&client, "#flash", "can be claimed").await;
            assert!(said.contains("is resolved") && !said.contains("someone else"), "{said}");
            assert!(!said.contains("resolveed") && !said.contains("claimed task"), "{said}");

            // The message belongs to this page: it does not follow to the next one.
            click(&client, "nav button[data-view=sources]").await;
            wait_for("the flash to clear", || async {
                let text = client
                    .find("#flash")
                    .await
                    .map_err(|e| e.to_string())?
                    .text()
                    .await
                    .map_err(|e| e.to_string())?;
                if text.is_empty() {
                    Ok(Some(()))
                } else {
                    Err(format!("flash {text:?}"))
                }
            })
            .await;

            click(&client, "nav button[data-view=queue]").await;
            click(&client, ".quick-views button[data-quick=active]").await;
            client
                .find("#filters select[name=status]")
                .await
                .unwrap()
                .select_by_value("resolved")
                .await
                .unwrap();
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", jo.id)).await;
            wait_for_buttons(&client, &["reopen"]).await;
            click(&client, "#reopen").await;
            wait_for_text(&client, "#flash", "reopen done (assigned)").await;
            wait_for_buttons(&client, &["resolve"]).await;
        })
        .await;
}

/// A change to a task as another user makes it, through the same rules as the API.
pub(super) async fn change_as(
    store: &std::sync::Arc<dyn earshot::store::Store>,
    task_id: earshot::domain::TaskId,
    who: &str,
    action: Action,
) {
    let task = store.task_detail(task_id).await.unwrap().task;
    let actor = Actor {
        name: who.to_owned(),
        role: earshot::auth::Role::Agent,
    };
    let change = decide(&task, &actor, &action, None, now_millis(), 0).unwrap();
    store.apply_task_change(change).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_task_shows_a_change_made_elsewhere_and_names_who_made_it() {
    let env = TestEnv::new();
    let site = site(&env, &complaints()).await;
    let store = site.store.clone();
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            let jo = task_of(&store, "@jo").await;
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", jo.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", jo.id)).await;

            // Bob claims it meanwhile: the pane shows it, and who.
            change_as(&store, jo.id, "bob", Action::Claim).await;
            wait_for_text(&client, "#task-changed", "Updated just now by bob (claimed)").await;
            wait_for_text(&client, "#detail .task-state", "assignee bob").await;

            // While Ann writes, a change only announces itself; her text stays.
            client
                .find("#reply-text")
                .await
                .unwrap()
                .send_keys("Sorry about the bag")
                .await
                .unwrap();
            change_as(
                &store,
                jo.id,
                "bob",
                Action::Note {
                    text: "calling the airport".into(),
                },
            )
            .await;
            wait_for_text(&client, "#task-changed", "Changed by bob (note) while you were writing").await;
            let kept = client.find("#reply-text").await.unwrap().prop("value").await.unwrap();
            assert_eq!(kept.as_deref(), Some("Sorry about the bag"));
            click(&client, "#show-changes").await;
            wait_for_text(&client, "#detail .events", "calling the airport").await;
        })
        .await;
}
