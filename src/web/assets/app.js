// earshot queue page. Every value from the API is untrusted text: it is only ever placed
// with textContent, and only http(s) URLs become links; HTML is never parsed from data.
"use strict";

const $ = (selector) => document.querySelector(selector);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function safeLink(url, label) {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") {
      return el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer nofollow" }, label);
    }
  } catch (_) { /* not a URL */ }
  return el("span", { class: "muted" }, "(link withheld: not http/https)");
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : "–";
}

function isActive(task) {
  return ["open", "assigned", "responded"].includes(task.status);
}

// How long the customer has waited (the SLA clock starts at their post, sla_started_at_ms),
// until the first response; null once answered or closed.
function waiting(task) {
  if (task.first_response_at_ms !== null || !isActive(task)) return null;
  return `customer waiting ${formatDuration(Math.max(0, Math.round((Date.now() - task.sla_started_at_ms) / 60000)))}`;
}

// The SLA as the row shows it: answered (how fast, from the customer's post), overdue
// ("−2h"), due soon (amber: the last 30 minutes or the last quarter of the window) or in time
// (green). The title says how long the customer has waited.
function sla(task) {
  if (task.first_response_at_ms !== null) {
    const minutes = Math.max(0, Math.round((task.first_response_at_ms - task.sla_started_at_ms) / 60000));
    const text = `✓ answered in ${formatDuration(minutes)}`;
    return { text, state: "answered", title: text };
  }
  if (!isActive(task)) return { text: "–", state: "none" };
  const left = task.due_at_ms - Date.now();
  const minutes = Math.round(left / 60000);
  if (left < 0) return { text: `−${formatDuration(-minutes)}`, state: "overdue", title: `overdue by ${formatDuration(-minutes)} · ${waiting(task)}` };
  const window = Math.max(1, task.due_at_ms - task.sla_started_at_ms);
  const soon = minutes <= 30 || left / window <= 0.25;
  return { text: formatDuration(minutes), state: soon ? "soon" : "ok", title: `due ${when(task.due_at_ms)} · ${waiting(task)}` };
}

function slaBadge(task) {
  const s = sla(task);
  return el("span", { class: `sla ${s.state}`, title: s.title || "" }, s.text);
}

function formatDuration(minutes) {
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (response.status === 401) window.location.assign("/login");
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

let me = null;

// POSTs JSON with the session's CSRF token; returns [ok, body].
async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": me ? me.csrf_token || "" : "" },
    body: JSON.stringify(body || {}),
  });
  if (response.status === 401) window.location.assign("/login");
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  return [response.ok, data, response.status];
}

// A message about what just happened; it belongs to the view it was said in, so changing
// views clears it.
function flash(message) {
  const box = $("#flash");
  if (box) box.textContent = message;
}

let selectedTask = null;

async function loadStats() {
  const stats = await getJson("/api/stats");
  $("#stats").textContent =
    `${stats.mentions} mentions · ${stats.tasks_active} active tasks · ${stats.pending} pending · ` +
    `${stats.unscored} unscored · ${stats.quarantined} quarantined`;
}

async function loadBrands() {
  const selects = [$("#filters select[name=brand]"), $("#mention-filters select[name=brand]"),
    $("#problem-filters select[name=brand]")];
  for (const brand of await getJson("/api/brands")) {
    for (const select of selects) select.append(el("option", { value: brand.id }, brand.name));
  }
}

// "Is the customer happy now?": resolved tasks whose follow-up time has come and whose
// author has not posted again yet.
function followUpDue(task) {
  return task.status === "resolved" && task.recovered === null && task.follow_up_at_ms !== null &&
    task.follow_up_at_ms <= Date.now();
}

function statusText(task) {
  if (task.status !== "resolved") return task.status;
  if (task.recovered === true) return "resolved · recovered";
  if (task.recovered === false) return "resolved · still unhappy";
  return followUpDue(task) ? "resolved · follow-up due" : "resolved";
}

async function loadFollowUps() {
  const due = await getJson("/api/tasks?follow_ups_due=true&limit=1");
  const reminder = $("#follow-up-reminder");
  reminder.hidden = due.total === 0;
  $("#follow-up-count").textContent = due.total === 1
    ? "1 resolved task is due a follow-up: is the customer happy now?"
    : `${due.total} resolved tasks are due a follow-up: is the customer happy now?`;
}

function showFollowUps() {
  $("#filters select[name=status]").value = "";
  $("#filters select[name=follow_ups_due]").value = "true";
  searchTasks();
}

// --- The queue: filters and paging in the address, rows patched in place ----------------

const TASK_FILTERS = ["q", "brand", "status", "priority", "platform", "assignee", "unassigned", "due_within_mins", "sort", "follow_ups_due"];
// Filters whose default is not empty; the address leaves defaults out.
const TASK_DEFAULTS = { status: "active", sort: "urgency" };
const TASK_LIMIT = 50;
let taskOffset = 0;
// Ticked rows by task id: kept across refreshes, live updates and paging.
const checkedTasks = new Set();

// The queue's filters as API (and address) parameters; defaults (status active) left out
// of the address but sent to the API.
function taskParams() {
  const form = $("#filters");
  const params = new URLSearchParams();
  for (const name of TASK_FILTERS) {
    const value = form.elements[name].value.trim();
    if (name in TASK_DEFAULTS) {
      if (value !== TASK_DEFAULTS[name]) params.set(name, value);
    } else if (value) {
      params.set(name, value);
    }
  }
  if (taskOffset > 0) params.set("offset", String(taskOffset));
  return params;
}

function fillTaskFilters(params) {
  const form = $("#filters");
  for (const name of TASK_FILTERS) {
    const field = form.elements[name];
    field.value = params.has(name) ? params.get(name) : (TASK_DEFAULTS[name] || "");
    // A value the select does not offer falls back to its default.
    if (field.tagName === "SELECT" && field.selectedIndex < 0) field.selectedIndex = 0;
  }
  const offset = Number.parseInt(params.get("offset") || "0", 10);
  taskOffset = Number.isFinite(offset) && offset > 0 ? offset : 0;
}

// Keeps the queue's filters, page and open task in the address: bookmarkable, shareable,
// and kept by a reload.
function rememberTaskFilters(push) {
  const params = taskParams();
  if (selectedTask !== null) params.set("task", String(selectedTask));
  const query = params.toString();
  const url = query ? `/?${query}` : "/";
  if (url === `${window.location.pathname}${window.location.search}`) return;
  if (push) window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
}

function searchTasks() {
  taskOffset = 0;
  rememberTaskFilters(true);
  loadTasks().catch((error) => flash(`Cannot list tasks: ${error.message}`));
}

function pageTasks(step) {
  taskOffset = Math.max(0, taskOffset + step * TASK_LIMIT);
  rememberTaskFilters(true);
  loadTasks().catch((error) => flash(`Cannot list tasks: ${error.message}`));
}

function quickView(name) {
  const form = $("#filters");
  // A quick view replaces the filters and keeps the order.
  for (const field of TASK_FILTERS) if (field !== "sort") form.elements[field].value = TASK_DEFAULTS[field] || "";
  if (name === "mine" && me) form.elements.assignee.value = me.username;
  if (name === "unassigned") form.elements.unassigned.value = "true";
  if (name === "due") form.elements.due_within_mins.value = "30";
  if (name === "critical") form.elements.priority.value = "critical";
  searchTasks();
}

// The row's cells after the checkbox, built fresh from the task.
function taskCells(task) {
  return [
    el("td", { class: "priority" }, el("span", { class: `badge ${task.priority}` }, task.priority)),
    el("td", { class: "sla-cell" }, slaBadge(task)),
    el("td", { class: "author", title: `${task.author_handle} · ${task.brand} · ${task.platform}` },
      el("div", { class: "handle" }, task.author_handle),
      el("div", { class: "muted" }, `${task.brand} · ${task.platform}`)),
    el("td", { class: "text", title: task.latest_text }, task.latest_text),
    el("td", { class: "status" }, el("div", {}, statusText(task)),
      el("div", { class: "muted assignee" }, task.assignee || "unassigned")),
  ];
}

function newTaskRow(task) {
  const check = el("input", { type: "checkbox", class: "bulk", "data-id": String(task.id),
    ariaLabel: `Select task #${task.id}` });
  check.checked = checkedTasks.has(task.id);
  check.addEventListener("click", (event) => event.stopPropagation());
  check.addEventListener("change", () => {
    if (check.checked) checkedTasks.add(task.id); else checkedTasks.delete(task.id);
    showSelection();
  });
  const row = el("tr", { "data-id": String(task.id), tabIndex: 0 }, el("td", { class: "check" }, check));
  row.addEventListener("click", () => openTask(task.id));
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === row) { event.preventDefault(); openTask(task.id); }
  });
  return row;
}

// The count of ticked tasks, and the select-all box ticked when every row on the page is.
function showSelection() {
  $("#selected-count").textContent = String(checkedTasks.size);
  const boxes = [...document.querySelectorAll("#tasks input.bulk")];
  $("#select-all").checked = boxes.length > 0 && boxes.every((box) => box.checked);
}

function selectAll(checked) {
  for (const box of document.querySelectorAll("#tasks input.bulk")) {
    box.checked = checked;
    if (checked) checkedTasks.add(Number(box.dataset.id)); else checkedTasks.delete(Number(box.dataset.id));
  }
  showSelection();
}

let tasksRequest = 0;

// Lists the page of tasks the filters select. Rows are patched by task id: a row that stays
// keeps its element, so its checkbox, focus and selection survive a refresh or live update.
async function loadTasks() {
  const params = taskParams();
  if (!params.has("status")) params.set("status", "active");
  // Due follow-ups are resolved tasks, whatever the status filter says.
  if (params.has("follow_ups_due")) params.delete("status");
  params.set("limit", String(TASK_LIMIT));
  const request = ++tasksRequest;
  const response = await fetch(`/api/tasks?${params}`, { headers: { accept: "application/json" } });
  if (response.status === 401) window.location.assign("/login");
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  // A newer request (another page, other filters) has been sent meanwhile: it wins.
  if (request !== tasksRequest) return;
  if (!response.ok) {
    $("#tasks-count").textContent = `Cannot list tasks: ${data && data.error ? data.error : `HTTP ${response.status}`}`;
    return;
  }
  const body = $("#tasks tbody");
  const existing = new Map([...body.querySelectorAll("tr[data-id]")].map((row) => [Number(row.dataset.id), row]));
  const wanted = [];
  for (const task of data.items) {
    const row = existing.get(task.id) || newTaskRow(task);
    existing.delete(task.id);
    while (row.cells.length > 1) row.lastChild.remove();
    row.append(...taskCells(task));
    row.className = `priority-${task.priority}`;
    row.classList.toggle("selected", task.id === selectedTask);
    wanted.push(row);
  }
  for (const row of existing.values()) row.remove();
  for (const row of body.querySelectorAll("tr:not([data-id])")) row.remove();
  // Only rows out of place move (moving an element drops its focus).
  wanted.forEach((row, index) => {
    if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
  });
  if (data.items.length === 0) {
    body.append(el("tr", {}, el("td", { colSpan: 6, class: "muted" },
      data.total > 0 ? "No tasks on this page." : "No tasks match.")));
  }
  const first = data.items.length ? data.offset + 1 : 0;
  $("#tasks-count").textContent = `Showing ${data.items.length} of ${data.total}` +
    (data.items.length ? ` (${first}–${data.offset + data.items.length})` : "");
  showSelection();
  // The open task changed elsewhere (another agent, a new post): show its new state.
  const fresh = currentTask && data.items.find((t) => t.id === currentTask.id);
  if (fresh && fresh.updated_at_ms !== currentTask.updated_at_ms && !acting) {
    refreshOpenTask().catch(() => {});
  }
  $("#tasks-prev").disabled = data.offset === 0;
  $("#tasks-next").disabled = data.offset + data.items.length >= data.total;
  document.title = `(${data.total}) earshot · response queue`;
}

let currentTask = null;
let templates = [];

// What an action is called in a sentence.
const ACTION_VERBS = { claim: "claim", assign: "assign", note: "add the note", reply: "record the reply",
  resolve: "resolve", dismiss: "dismiss", reopen: "reopen" };

// Set while this page's own action is on its way: the list reload it causes must not
// announce the change as someone else's.
let acting = false;

async function act(action) {
  if (!currentTask) return;
  acting = true;
  try { await actOnCurrent(action); } finally { acting = false; }
}

async function actOnCurrent(action) {
  const body = Object.assign({ expected_updated_at_ms: currentTask.updated_at_ms }, action);
  const [ok, data] = await postJson(`/api/tasks/${encodeURIComponent(currentTask.id)}/actions`, body);
  // A refused reply keeps its text for the next try.
  const draft = !ok && $("#reply-text") ? $("#reply-text").value : null;
  if (ok) {
    flash(`Task #${data.id}: ${action.action} done (${data.status}).`);
  } else {
    // The server says which rule refused it (a state rule, a role, or a change by someone else).
    flash(`Could not ${ACTION_VERBS[action.action] || action.action} task #${currentTask.id}: ` +
      `${data && data.error ? data.error : "no answer"}`);
  }
  await Promise.all([loadTasks(), loadFollowUps()]);
  await showTask(currentTask.id);
  if (draft !== null && $("#reply-text")) $("#reply-text").value = draft;
}

// Only the actions the task's state and the caller's role allow.
function actionPanel(task) {
  const active = isActive(task);
  const mine = me !== null && task.assignee === me.username;
  const buttons = [];
  if (active && !mine) {
    const claim = el("button", { type: "button", id: "claim" }, "Claim (c)");
    claim.addEventListener("click", () => act({ action: "claim" }));
    buttons.push(claim);
  }
  if (task.status === "assigned" || task.status === "responded") {
    const resolve = el("button", { type: "button", id: "resolve" }, "Resolve (e)");
    resolve.addEventListener("click", () => act({ action: "resolve" }));
    buttons.push(resolve);
  }
  if (!active && supervises()) {
    const reopen = el("button", { type: "button", id: "reopen" }, "Reopen");
    reopen.addEventListener("click", () => act({ action: "reopen" }));
    buttons.push(reopen);
  }
  const note = el("input", { id: "note-text", placeholder: "Note for the team", ariaLabel: "Note for the team" });
  const addNote = el("button", { type: "button", id: "add-note" }, "Add note");
  addNote.addEventListener("click", () => act({ action: "note", text: note.value }));
  const notes = el("p", {}, note, " ", addNote);
  if (!active) {
    return el("div", { class: "actions" },
      buttons.length ? el("p", { class: "action-bar" }, ...buttons.flatMap((b) => [b, " "])) : null,
      notes);
  }
  const templateSelect = el("select", { id: "template", ariaLabel: "Reply template" }, el("option", { value: "" }, "Template…"),
    ...templates.map((t) => el("option", { value: t.name }, t.name)));
  const replyText = el("textarea", { id: "reply-text", rows: 4, placeholder: "Reply text",
    ariaLabel: "Reply text" });
  templateSelect.addEventListener("change", async () => {
    if (!templateSelect.value) return;
    const [ok, data] = await postJson(`/api/tasks/${encodeURIComponent(task.id)}/reply-preview`, { template: templateSelect.value });
    if (ok) replyText.value = data.text;
  });
  const reply = el("button", { type: "button", id: "reply" }, "Record reply (r)");
  reply.addEventListener("click", () => act({ action: "reply", text: replyText.value, template: templateSelect.value || null }));
  const reason = el("select", { id: "dismiss-reason", ariaLabel: "Dismiss reason" },
    ...["false_positive", "spam", "not_ours", "other"].map((r) => el("option", { value: r }, r.replace("_", " "))));
  // A false positive becomes a training example: with the sentiment it really has.
  const falseLabel = el("select", { id: "dismiss-label", title: "The post's real sentiment (kept as a training example)" },
    ...["neutral", "positive", "negative"].map((l) => el("option", { value: l }, `really ${l}`)));
  reason.addEventListener("change", () => { falseLabel.hidden = reason.value !== "false_positive"; });
  const reasonText = el("input", { id: "dismiss-text", placeholder: "Why (needed for other)", ariaLabel: "Why dismissed" });
  const dismiss = el("button", { type: "button", id: "dismiss" }, "Dismiss (d)");
  dismiss.addEventListener("click", () => act(Object.assign(
    { action: "dismiss", reason: reason.value, text: reasonText.value || null },
    reason.value === "false_positive" ? { label: falseLabel.value } : {})));
  let assignRow = null;
  if (supervises()) {
    const assignee = el("input", { id: "assign-to", placeholder: "username", size: 12, ariaLabel: "Assign to" });
    const assign = el("button", { type: "button", id: "assign" }, "Assign");
    assign.addEventListener("click", () => act({ action: "assign", to: assignee.value.trim() }));
    assignRow = el("p", {}, "Assign to ", assignee, " ", assign);
  }
  const sending = sendControls(task, replyText);
  return el("div", { class: "actions" },
    buttons.length ? el("p", { class: "action-bar" }, ...buttons.flatMap((b) => [b, " "])) : null,
    assignRow,
    el("p", {}, templateSelect), replyText,
    el("p", { class: "reply-meta" }, sending.count, " ", sending.account),
    sending.hint,
    el("p", {}, sending.send, " ", sending.sendResolve, " ", sending.copy, " ", reply),
    notes,
    el("p", {}, reason, " ", falseLabel, " ", reasonText, " ", dismiss));
}

// Sending from earshot: who the reply goes out as, the count in the platform's limit (with a
// warning when it is too long), Send and Send & resolve (Ctrl+Enter sends). Without a reply
// account, the right to send, or a write API on the platform, only "Record reply" stays and
// the reason is shown.
function sendControls(task, replyText) {
  const account = el("span", { id: "reply-account", class: "muted" }, "");
  const count = el("span", { id: "reply-count", class: "muted" }, "");
  const hint = el("p", { id: "send-hint", class: "muted" },
    "earshot does not post here: copy this reply to the platform, then record it.");
  const send = el("button", { type: "button", id: "send-reply", hidden: true }, "Send reply (Ctrl+Enter)");
  const sendResolve = el("button", { type: "button", id: "send-resolve", hidden: true }, "Send & resolve");
  // Where earshot cannot post: copy the reply, open the original (the post's link), record it.
  const copy = el("button", { type: "button", id: "copy-reply", hidden: true }, "Copy reply");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(replyText.value);
      flash("Reply copied: paste it on the platform (Open original), then record it here.");
    } catch (_) {
      replyText.select();
      flash("Select-all done: copy the reply with Ctrl+C, post it on the platform, then record it here.");
    }
  });
  const base = `/api/tasks/${encodeURIComponent(task.id)}`;
  let canSend = false;
  let counting = 0;
  const recount = async () => {
    if (!canSend) return;
    const ticket = ++counting;
    const [ok, data] = await postJson(`${base}/reply-check`, { text: replyText.value });
    if (ticket !== counting || !ok) return;
    count.textContent = `${data.count} / ${data.limit} ${data.unit}`;
    count.className = data.fits ? "muted" : "over";
    count.title = data.problem || "";
    send.disabled = sendResolve.disabled = !data.fits || replyText.value.trim() === "";
    hint.textContent = data.fits ? "Send posts this reply as the brand; Record is for a reply written on the platform."
      : `Too long: ${data.problem}. The platform would refuse it.`;
  };
  let timer = null;
  replyText.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(recount, 200); });
  const doSend = async (resolve) => {
    if (!canSend || send.disabled) return;
    acting = true;
    try {
      const [ok, data] = await postJson(`${base}/replies`,
        { text: replyText.value, resolve, expected_updated_at_ms: task.updated_at_ms });
      const draft = replyText.value;
      flash(ok ? `Task #${task.id}: reply queued; it is sent as ${account.dataset.handle || "the brand"} in a moment.`
        : `Could not send the reply: ${data && data.error ? data.error : "no answer"}`);
      await Promise.all([loadTasks(), loadFollowUps()]);
      await showTask(task.id);
      if (!ok && $("#reply-text")) $("#reply-text").value = draft;
    } finally { acting = false; }
  };
  send.addEventListener("click", () => doSend(false));
  sendResolve.addEventListener("click", () => doSend(true));
  replyText.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); doSend(false); }
  });
  getJson(`${base}/replies`).then((info) => {
    const a = info.account;
    canSend = a.can_send;
    account.dataset.handle = a.posts_as || "";
    if (a.posts_as) account.textContent = `posts as ${a.posts_as} on ${a.platform}`;
    if (a.account_error) account.append(el("span", { class: "error", id: "account-error" }, ` · account problem: ${a.account_error}`));
    if (canSend) {
      send.hidden = sendResolve.hidden = false;
      recount();
    } else {
      copy.hidden = false;
      if (a.reason) hint.textContent = a.reason;
    }
  }).catch(() => { copy.hidden = false; hint.textContent = "Reply account unavailable; record the reply instead."; });
  return { account, count, hint, send, sendResolve, copy };
}

// The task's replies from earshot, in its thread: queued, sent with a link to the published
// reply, or failed with the platform's reason and Retry. A queued reply is looked at again
// every two seconds until it is sent or fails.
function repliesThread(task) {
  const box = el("section", { id: "replies" });
  const base = `/api/tasks/${encodeURIComponent(task.id)}`;
  const load = async () => {
    if (selectedTask !== task.id || !document.body.contains(box)) return;
    let info;
    try { info = await getJson(`${base}/replies`); } catch (_) { return; }
    box.replaceChildren(...info.replies.map((r) => {
      const status = r.status === "sent"
        ? el("span", { class: "reply-status sent" }, "sent ", r.url ? safeLink(r.url, "view the reply") : "")
        : r.status === "failed"
          ? el("span", { class: "reply-status failed" }, `failed: ${r.error || "no reason given"} `, retryButton(r))
          : el("span", { class: "reply-status queued" }, r.in_doubt ? "sending (checking the platform)…" : "queued…");
      return el("article", { class: "post reply", "data-reply": String(r.id) },
        el("header", {}, el("strong", {}, `Reply by ${r.requested_by}`), ` · ${a11yWhen(r)}`),
        el("p", { class: "post-text" }, r.text),
        el("p", {}, status));
    }));
    if (info.replies.some((r) => r.status === "queued")) setTimeout(load, 2000);
    else if (info.replies.some((r) => r.status === "sent" && r.sent_at_ms > Date.now() - 5000)) loadTasks().catch(() => {});
  };
  // After the pane is in the page (the check above stops polls of a pane no longer shown).
  Promise.resolve().then(load);
  return box;
}

function a11yWhen(reply) {
  return reply.sent_at_ms ? `published ${when(reply.sent_at_ms)}` : `written ${when(reply.created_at_ms)}`;
}

function retryButton(reply) {
  const retry = el("button", { type: "button", class: "retry-reply", "data-reply": String(reply.id) }, "Retry");
  retry.addEventListener("click", async () => {
    const [ok, data] = await postJson(`/api/replies/${encodeURIComponent(reply.id)}/retry`, {});
    flash(ok ? "Reply queued again." : `Could not retry: ${data && data.error ? data.error : "no answer"}`);
    if (currentTask) await showTask(currentTask.id);
  });
  return retry;
}

// "The model got this one wrong": the reviewer's label is kept as a training example.
function relabelControl(taskId, post) {
  const select = el("select", { class: "relabel", "data-post": String(post.post_id) },
    ...["negative", "neutral", "positive"].map((label) => el("option", { value: label }, label)));
  if (post.sentiment) {
    const s = post.sentiment;
    select.value = s.negative >= s.neutral && s.negative >= s.positive ? "negative"
      : (s.positive > s.neutral ? "positive" : "neutral");
  }
  const save = el("button", { type: "button", class: "save-label", "data-post": String(post.post_id) }, "Save label");
  save.addEventListener("click", async () => {
    const [ok, data] = await postJson(
      `/api/tasks/${encodeURIComponent(taskId)}/posts/${encodeURIComponent(post.post_id)}/label`, { label: select.value });
    flash(ok ? `Post labelled ${select.value}: kept as a training example.` : `Could not label: ${data && data.error}`);
    if (ok) await showTask(taskId);
  });
  return el("p", { class: "muted" }, "Sentiment is really ", select, " ", save);
}

// Opens a task from the list: shown in the detail pane (full screen on a narrow window),
// remembered in the address.
function openTask(id) {
  if (selectedTask !== id) flash("");
  selectedTask = id;
  rememberTaskFilters(false);
  return showTask(id).catch(() => flash(`Task #${id} not found.`));
}

function closeTask() {
  document.body.classList.remove("detail-open");
  const row = document.querySelector(`#tasks tr[data-id="${CSS.escape(String(selectedTask))}"]`);
  selectedTask = null;
  currentTask = null;
  $("#detail").replaceChildren(el("p", { class: "muted" }, "Select a task to see its posts and why it was flagged."));
  document.querySelectorAll("#tasks tr.selected").forEach((r) => r.classList.remove("selected"));
  rememberTaskFilters(false);
  if (row) row.focus();
}

// Re-reads the open task after a change made elsewhere and says who made it. While the
// agent is writing (reply or note text, a field focused) the pane is left alone and only
// the notice appears, so nothing typed is lost.
async function refreshOpenTask() {
  const id = currentTask.id;
  const detail = await getJson(`/api/tasks/${encodeURIComponent(id)}`);
  if (!currentTask || currentTask.id !== id || detail.task.updated_at_ms === currentTask.updated_at_ms) return;
  const last = detail.events[detail.events.length - 1];
  const who = last ? `${last.actor} (${last.kind})` : "someone";
  const byMe = last && me && last.actor === me.username;
  const focused = document.activeElement;
  const writing = ["#reply-text", "#note-text", "#dismiss-text", "#assign-to"].some((css) => {
    const field = $(css);
    return field && field.value.trim() !== "";
  }) || (focused && $("#detail").contains(focused) && focused.matches("input, textarea, select"));
  if (!writing) {
    await showTask(id, byMe ? null : `Updated just now by ${who}.`);
    return;
  }
  const notice = $("#task-changed") || el("p", { class: "reminder", id: "task-changed" });
  const reload = el("button", { type: "button", id: "show-changes" }, "Show the new state");
  reload.addEventListener("click", () => showTask(id));
  notice.replaceChildren(`Changed by ${who} while you were writing: your text is kept; `, reload,
    " (sending now would be refused as a conflict).");
  if (!notice.isConnected) $("#detail h2").after(notice);
}

async function showTask(id, notice) {
  selectedTask = id;
  const detail = await getJson(`/api/tasks/${encodeURIComponent(id)}`);
  // Another task was opened while this one loaded.
  if (selectedTask !== id) return;
  const task = detail.task;
  currentTask = task;
  const history = el("p", { class: "muted", id: "author-history" }, "Author history: loading…");
  getJson(`/api/tasks/${encodeURIComponent(id)}/author-history`).then((h) => {
    history.textContent = `Author history (${h.days} days): ${h.mentions} mentions, ${h.negative} negative, ${h.flagged} flagged.`;
  }).catch(() => { history.textContent = "Author history unavailable."; });
  const posts = detail.posts.map((post) => el("article", { class: "post" },
    el("header", {}, el("strong", {}, post.author_name || post.author_handle), " ", post.author_handle,
      post.author_followers !== null ? ` · ${post.author_followers} followers` : "",
      ` · ${post.platform} · ${when(post.created_at_ms)}`),
    post.in_reply_to ? el("p", { class: "muted in-reply-to" }, `In reply to ${post.in_reply_to}`) : null,
    el("p", { class: "post-text" }, post.text),
    post.quote_of || post.quoted_text
      ? el("blockquote", { class: "quoted" },
        el("span", { class: "muted" }, post.quoted_text ? "Quoting:" : `Quoting ${post.quote_of}`),
        post.quoted_text ? el("span", { class: "quoted-text" }, post.quoted_text) : null)
      : null,
    post.url ? safeLink(post.url, "Open original") : null,
    el("p", { class: "muted engagement" },
      `${post.likes} likes · ${post.reposts} reposts · ${post.replies} replies · ${post.quotes} quotes`),
    post.growth
      ? el("p", { class: "growth" }, `Engagement grew: ${post.growth.text} (total ${post.growth.from_total} → ${post.growth.to_total})`)
      : null,
    el("p", { class: "muted" }, post.sentiment
      ? `p(negative) ${post.sentiment.negative.toFixed(2)} · p(neutral) ${post.sentiment.neutral.toFixed(2)} · p(positive) ${post.sentiment.positive.toFixed(2)} · ${post.model}`
      : `unscored: ${post.sentiment_reason || "no score"}`),
    relabelControl(task.id, post),
    el("h4", {}, `Why flagged: criticality ${post.criticality.toFixed(0)}`),
    el("ul", { class: "factors" }, ...post.factors.map((factor) =>
      el("li", {}, el("b", {}, `+${factor.points.toFixed(1)} ${factor.name}`), " ", factor.detail)))));
  const events = el("ol", { class: "events" }, ...detail.events.map((event) =>
    el("li", {}, `${when(event.at_ms)} · ${event.actor} · ${event.kind}`,
      event.detail && typeof event.detail.text === "string" ? el("div", { class: "event-text" }, event.detail.text) : null)));
  let followUp = null;
  if (task.status === "resolved") {
    followUp = el("p", { id: "follow-up", class: followUpDue(task) ? "reminder" : "muted" },
      task.recovered === null
        ? (followUpDue(task)
          ? `Follow-up due since ${when(task.follow_up_at_ms)}: is the customer happy now?`
          : `Follow-up on ${when(task.follow_up_at_ms)}: is the customer happy now?`)
        : `The author's next post was ${task.next_post_sentiment || "unscored"}: ` +
          (task.recovered ? "recovered." : "still unhappy."));
  }
  const back = el("button", { type: "button", id: "back", class: "back" }, "← Back to the queue");
  back.addEventListener("click", closeTask);
  document.body.classList.add("detail-open");
  // replaceChildren would print a null child as the text "null": leave absent parts out.
  $("#detail").replaceChildren(...[
    back,
    el("h2", {}, `Task #${task.id} · ${task.brand}`),
    el("p", { class: "task-state" }, el("span", { class: `badge ${task.priority}` }, task.priority),
      ` ${statusText(task)} · criticality ${task.criticality.toFixed(0)} · due ${when(task.due_at_ms)} `, slaBadge(task),
      ` · assignee ${task.assignee || "none"}`),
    waiting(task) ? el("p", { class: "waiting", id: "waiting", title: `posted ${when(task.sla_started_at_ms)}` }, waiting(task)) : null,
    notice ? el("p", { class: "reminder", id: "task-changed" }, notice) : null,
    detail.problem ? problemNotice(detail.problem) : null,
    history,
    followUp,
    actionPanel(task),
    ...posts,
    repliesThread(task),
    el("h3", {}, "History"), events].filter((part) => part !== null));
  // The problem's known-issue message is the reply offered first.
  const replyBox = $("#reply-text");
  if (replyBox && !replyBox.value && detail.problem && detail.problem.reply_text) replyBox.value = detail.problem.reply_text;
  document.querySelectorAll("#tasks tr.selected").forEach((row) => row.classList.remove("selected"));
  const row = document.querySelector(`#tasks tr[data-id="${CSS.escape(String(id))}"]`);
  if (row) row.classList.add("selected");
}

async function loadSources() {
  const sources = await getJson("/api/sources");
  $("#sources tbody").replaceChildren(...sources.map((s) => el("tr", {},
    el("td", {}, s.source), el("td", {}, s.brand), el("td", {}, s.kind),
    sourceHealthCell(s),
    el("td", {}, when(s.last_success_at_ms)),
    el("td", { class: s.last_error ? "error" : "" }, s.last_error ? `${s.last_error} (${s.consecutive_failures}×)` : "–"),
    el("td", {}, s.last_poll_new ?? "–"), el("td", {}, s.total_new))));
  // The brands' reply accounts: who earshot posts as, and a revoked token or rate limit.
  const accounts = await getJson("/api/reply-accounts");
  $("#reply-accounts tbody").replaceChildren(...accounts.map((a) => el("tr", { "data-account": a.account },
    el("td", {}, a.account), el("td", {}, a.posts_as),
    el("td", { class: a.last_error ? "error" : "" }, a.last_error
      ? (a.last_error_kind === "unauthorized" ? "credentials refused" : a.last_error_kind || "failing")
      : (a.last_success_at_ms ? "ok" : "not used yet")),
    el("td", {}, when(a.last_success_at_ms)),
    el("td", { class: a.last_error ? "error" : "" }, a.last_error || "–"))));
}

function sourceHealthCell(s) {
  if (!s.active) return el("td", { class: "muted" }, "inactive");
  if (s.consecutive_failures > 0 && s.last_error_kind === "unauthorized") {
    return el("td", { class: "error" }, "credentials rejected: fix the token in the config");
  }
  if (s.consecutive_failures > 0) return el("td", { class: "error" }, `failing (${s.last_error_kind || "error"})`);
  if (s.silent) return el("td", { class: "error" }, `silent: ${s.silent}`);
  return el("td", {}, s.last_success_at_ms ? "ok" : "not polled yet");
}

async function loadChannels() {
  const channels = await getJson("/api/channels");
  $("#channels tbody").replaceChildren(...channels.map((c) => {
    let enable = null;
    if (c.disabled && supervises()) {
      enable = el("button", { type: "button", class: "enable-channel", "data-channel": c.name }, "Turn back on");
      enable.addEventListener("click", async () => {
        const [ok, data] = await postJson(`/api/channels/${encodeURIComponent(c.name)}/enable`, {});
        flash(ok ? `Channel ${c.name} is on again; ${data.pending} waiting alerts go out on the next delivery run.`
          : `Could not turn ${c.name} on: ${data && data.error}`);
        await loadChannels();
      });
    }
    return el("tr", { "data-channel": c.name },
      el("td", {}, c.name), el("td", {}, c.kind),
      c.disabled
        ? el("td", { class: "error state" }, `off since ${when(c.disabled_at_ms)}: ${c.disabled_reason || "permanent failure"}`)
        : el("td", { class: "state" }, "on, delivering"),
      el("td", {}, c.pending), el("td", {}, c.held), el("td", {}, c.sent), el("td", {}, c.dead),
      el("td", { class: c.last_error ? "error" : "" }, c.last_error || "–"),
      el("td", {}, enable));
  }));
  if (channels.length === 0) {
    $("#channels tbody").append(el("tr", {}, el("td", { colSpan: 9, class: "muted" }, "No alert channels are configured.")));
  }
}

// A run lists its files relative to the exports folder (`<week>/<name>`); the download
// route takes the week and the name. Names come from a fixed pattern; encode them anyway.
function exportLink(week, file) {
  const name = file.slice(file.lastIndexOf("/") + 1);
  return el("a", { href: `/api/exports/${encodeURIComponent(week)}/${encodeURIComponent(name)}`, class: "export-file" }, name);
}

async function loadExports() {
  const runs = await getJson("/api/exports?limit=100");
  $("#exports tbody").replaceChildren(...runs.map((r) => el("tr", { "data-run": String(r.id) },
    el("td", {}, r.week), el("td", {}, r.scope), el("td", {}, r.trigger),
    el("td", { class: r.status === "failed" ? "error" : "" }, r.error ? `${r.status}: ${r.error}` : r.status),
    el("td", {}, r.n_rows ?? "–"), el("td", {}, when(r.finished_at_ms)),
    el("td", { class: "files" }, ...r.files.flatMap((file) => [exportLink(r.week, file), " "])))));
  if (runs.length === 0) {
    $("#exports tbody").append(el("tr", {}, el("td", { colSpan: 7, class: "muted" },
      "No exports yet: the weekly job writes one after each week, or run earshot export --week.")));
  }
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

// Expected recall (share of known complaints that become tasks) and precision at a threshold.
function expectedAt(point) {
  return point ? `recall ${percent(point.recall)} · precision ${percent(point.precision)}` : "–";
}

async function loadTuning() {
  const brands = await getJson("/api/brands");
  const rows = await Promise.all(brands.map(async (brand) => {
    const { suggestion: s } = await getJson(`/api/brands/${encodeURIComponent(brand.id)}/threshold-suggestion`);
    return el("tr", { "data-brand": brand.id },
      el("td", {}, brand.name), el("td", {}, brand.threshold),
      el("td", { class: "expected-now" }, s.enough ? expectedAt(s.current) : "–"),
      el("td", { class: "suggested" }, s.threshold === null ? "–" : s.threshold.toFixed(0)),
      el("td", { class: "expected-suggested" }, expectedAt(s.suggested)),
      el("td", { class: "message" }, s.message,
        el("div", { class: "muted" }, `${s.n_reviewed} reviewed: ${s.n_complaints} complaints ` +
          `(${s.n_missed} missed by the threshold), ${s.n_false_positive} false positives`)));
  }));
  $("#thresholds tbody").replaceChildren(...rows);
}

// --- Mentions: everything, flagged or not, for a lead's sweep --------------------------

const MENTION_FILTERS = ["q", "brand", "platform", "sentiment", "below_threshold", "sort"];
const MENTION_LIMIT = 50;
let mentionOffset = 0;

// The filters as API (and address) parameters; defaults left out.
function mentionParams() {
  const form = $("#mention-filters");
  const params = new URLSearchParams();
  for (const name of MENTION_FILTERS) {
    const field = form.elements[name];
    if (field.type === "checkbox") {
      if (field.checked) params.set(name, "true");
    } else if (field.value.trim() && !(name === "sort" && field.value === "criticality")) {
      params.set(name, field.value.trim());
    }
  }
  if (mentionOffset > 0) params.set("offset", String(mentionOffset));
  return params;
}

function fillMentionFilters(params) {
  const form = $("#mention-filters");
  for (const name of MENTION_FILTERS) {
    const field = form.elements[name];
    const value = params.get(name) || "";
    if (field.type === "checkbox") field.checked = value === "true";
    else field.value = value || (name === "sort" ? "criticality" : "");
  }
  const offset = Number.parseInt(params.get("offset") || "0", 10);
  mentionOffset = Number.isFinite(offset) && offset > 0 ? offset : 0;
}

// Keeps the view and its filters in the address, so a sweep can be bookmarked, shared and
// gone back to.
function rememberMentionFilters(push) {
  const params = mentionParams();
  params.set("view", "mentions");
  const url = `/?${params}`;
  if (push) window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
}

function taskLink(id, status) {
  return el("a", { href: `/?task=${encodeURIComponent(id)}`, class: "task-link" },
    status ? `Task #${id} (${status})` : `Task #${id}`);
}

function sentimentText(m) {
  if (!m.sentiment) return "not scored yet";
  if (m.sentiment.status !== "scored") return `unscored: ${m.sentiment.reason || "no score"}`;
  const p = m.sentiment[m.sentiment.label];
  const text = typeof p === "number" ? `${m.sentiment.label} ${p.toFixed(2)}` : m.sentiment.label;
  if (typeof m.sentiment.complaint !== "number") return text;
  const severity = m.sentiment.complaint >= 0.5 && m.sentiment.severity ? `, ${m.sentiment.severity}` : "";
  return `${text} · complaint ${m.sentiment.complaint.toFixed(2)}${severity}`;
}

async function openTaskFromMention(m, cell, button) {
  button.disabled = true;
  const [ok, data] = await postJson(`/api/mentions/${encodeURIComponent(m.mention_id)}/task`, {});
  if (!ok) {
    button.disabled = false;
    flash(`Could not open a task from ${m.author_handle}'s post: ${data && data.error}`);
    return;
  }
  const said = {
    opened: `Task #${data.task_id} opened for ${m.author_handle}'s post.`,
    joined: `${m.author_handle} already had an open conversation: the post joined task #${data.task_id}.`,
    existing: `This post already has task #${data.task_id}.`,
  };
  flash(said[data.outcome] || `Task #${data.task_id}.`);
  const prefix = { opened: "Opened: ", joined: "Joined: ", existing: "" };
  cell.replaceChildren(el("span", { class: "opened" }, prefix[data.outcome] || ""), taskLink(data.task_id, data.task.status));
}

function mentionTaskCell(m) {
  const cell = el("td", { class: "task" });
  if (m.task_id !== null) {
    cell.append(taskLink(m.task_id, m.task_status));
    if (m.reviewer_opened) cell.append(el("div", { class: "muted" }, `opened by ${m.reviewer_opened.by}`));
  } else if (!m.assessed) {
    cell.append(el("span", { class: "muted" }, "being scored"));
  } else {
    const button = el("button", { type: "button", class: "open-task", "data-mention": String(m.mention_id),
      title: "This needed an answer: open a task (kept as a missed complaint)" }, "Open task");
    button.addEventListener("click", () => openTaskFromMention(m, cell, button));
    cell.append(button);
  }
  return cell;
}

function mentionRow(m) {
  const factors = m.factors.map((f) => `+${f.points.toFixed(1)} ${f.name}: ${f.detail}`).join("\n");
  return el("tr", { "data-mention": String(m.mention_id), class: m.flagged ? "flagged" : "" },
    el("td", { class: "criticality", title: factors },
      m.criticality === null ? "–" : m.criticality.toFixed(0),
      el("div", { class: "muted" }, m.flagged ? "flagged" : (m.assessed ? "not flagged" : ""))),
    el("td", { class: "sentiment" }, sentimentText(m)),
    el("td", {}, m.brand),
    el("td", {}, m.platform),
    el("td", { class: "author" }, m.author_handle,
      m.author_name ? el("div", { class: "muted" }, m.author_name) : null,
      m.author_followers !== null ? el("div", { class: "muted" }, `${m.author_followers} followers`) : null),
    el("td", { class: "post-cell" }, el("div", { class: "mention-text" }, m.text),
      m.url ? safeLink(m.url, "Open original") : null),
    el("td", {}, when(m.created_at_ms)),
    mentionTaskCell(m));
}

async function loadMentions() {
  const params = mentionParams();
  params.set("limit", String(MENTION_LIMIT));
  const response = await fetch(`/api/mentions?${params}`, { headers: { accept: "application/json" } });
  if (response.status === 401) window.location.assign("/login");
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  const body = $("#mentions tbody");
  if (!response.ok) {
    $("#mentions-count").textContent = `Cannot list mentions: ${data && data.error ? data.error : `HTTP ${response.status}`}`;
    body.replaceChildren();
    return;
  }
  body.replaceChildren(...data.items.map(mentionRow));
  if (data.items.length === 0) {
    body.append(el("tr", {}, el("td", { colSpan: 8, class: "muted" }, "No mentions match.")));
  }
  const first = data.items.length ? data.offset + 1 : 0;
  $("#mentions-count").textContent = `Showing ${data.items.length} of ${data.total}` +
    (data.items.length ? ` (${first}–${data.offset + data.items.length})` : "");
  $("#mentions-prev").disabled = data.offset === 0;
  $("#mentions-next").disabled = data.offset + data.items.length >= data.total;
}

function searchMentions() {
  mentionOffset = 0;
  rememberMentionFilters(true);
  loadMentions();
}

function pageMentions(step) {
  mentionOffset = Math.max(0, mentionOffset + step * MENTION_LIMIT);
  rememberMentionFilters(true);
  loadMentions();
}

function supervises() {
  return me !== null && (me.role === "lead" || me.role === "admin");
}

async function loadQuarantine() {
  const items = await getJson("/api/quarantine");
  $("#quarantine tbody").replaceChildren(...items.map((q) => el("tr", {},
    el("td", {}, when(q.received_at_ms)), el("td", {}, q.source), el("td", {}, q.location),
    el("td", {}, q.reason), el("td", {}, el("code", {}, q.raw)))));
}

let view = "queue";

// Reloads the current view; the periodic refresh (`full` false) leaves the mentions list
// alone, so the rows a lead is reading do not move under them.
async function refresh(full) {
  try {
    await loadStats();
    if (view === "queue") await Promise.all([loadTasks(), loadFollowUps()]);
    if (view === "mentions" && full) await loadMentions();
    if (view === "problems") await loadProblems();
    if (view === "sources") await loadSources();
    if (view === "quarantine") await loadQuarantine();
    if (view === "channels") await loadChannels();
    if (view === "exports") await loadExports();
    if (view === "tuning") await loadTuning();
  } catch (error) {
    $("#stats").textContent = `Cannot reach earshot: ${error.message}`;
  }
}

function selectedIds() {
  return [...checkedTasks];
}

async function bulk(action) {
  const ids = selectedIds();
  if (ids.length === 0) { flash("Select tasks first."); return; }
  const [ok, data] = await postJson("/api/tasks/bulk", { ids, action });
  if (ok) {
    const failed = data.filter((r) => !r.ok);
    flash(`${data.length - failed.length} of ${data.length} tasks: ${action.action} done.` +
      (failed.length ? ` Failed: ${failed.map((r) => `#${r.id} (${r.error})`).join(", ")}` : ""));
  } else {
    flash(`Bulk ${action.action} failed: ${data && data.error}`);
  }
  if (ok) {
    checkedTasks.clear();
    document.querySelectorAll("input.bulk:checked").forEach((c) => { c.checked = false; });
    showSelection();
  }
  await loadTasks();
}

function moveSelection(step) {
  const rows = [...document.querySelectorAll("#tasks tbody tr[data-id]")];
  if (rows.length === 0) return;
  let index = rows.findIndex((r) => Number(r.dataset.id) === selectedTask);
  index = index < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, index + step));
  rows[index].scrollIntoView({ block: "nearest" });
  openTask(Number(rows[index].dataset.id));
}

function onKey(event) {
  const tag = event.target && event.target.tagName;
  if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = {
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    c: () => act({ action: "claim" }),
    r: () => { const box = $("#reply-text"); if (box) box.focus(); },
    e: () => act({ action: "resolve" }),
    d: () => { const box = $("#dismiss-reason"); if (box) box.focus(); },
    "?": () => { const help = $("#help"); help.hidden = !help.hidden; },
  };
  const handler = keys[event.key];
  if (handler) { event.preventDefault(); handler(); }
}

function liveUpdates() {
  if (!window.EventSource) return;
  const source = new EventSource("/api/events");
  source.addEventListener("tasks", () => {
    if (view === "queue") Promise.all([loadTasks(), loadFollowUps()]).catch(() => {});
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  try {
    me = await getJson("/api/me");
    $("#me").textContent = `${me.username} (${me.role})`;
    templates = await getJson("/api/templates");
  } catch (_) { return; }
  $("nav button[data-view=tuning]").hidden = !supervises();
  $("#logout").addEventListener("click", async () => {
    await postJson("/api/logout", {});
    window.location.assign("/login");
  });
  $("#bulk-claim").addEventListener("click", () => bulk({ action: "claim" }));
  $("#bulk-resolve").addEventListener("click", () => bulk({ action: "resolve" }));
  $("#bulk-dismiss").addEventListener("click", () => bulk({ action: "dismiss", reason: $("#bulk-reason").value }));
  $("#bulk-assign-box").hidden = !supervises();
  $("#bulk-assign").addEventListener("click", () => bulk({ action: "assign", to: $("#bulk-assign-to").value.trim() }));
  $("#select-all").addEventListener("change", () => selectAll($("#select-all").checked));
  document.addEventListener("keydown", onKey);
  for (const button of document.querySelectorAll(".quick-views button")) {
    button.addEventListener("click", () => quickView(button.dataset.quick));
  }
  liveUpdates();
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => {
      showView(button.dataset.view);
      flash("");
      if (view === "mentions") rememberMentionFilters(false);
      else if (view === "queue") rememberTaskFilters(false);
      else window.history.replaceState(null, "", `/?view=${encodeURIComponent(view)}`);
      refresh(true);
    });
  }
  // Enter in a field searches; it never submits the form (which would reload the page).
  $("#filters").addEventListener("submit", (event) => { event.preventDefault(); searchTasks(); });
  $("#filters").addEventListener("change", searchTasks);
  $("#tasks-prev").addEventListener("click", () => pageTasks(-1));
  $("#tasks-next").addEventListener("click", () => pageTasks(1));
  $("#show-follow-ups").addEventListener("click", showFollowUps);
  $("#mention-filters").addEventListener("submit", (event) => { event.preventDefault(); searchMentions(); });
  for (const field of document.querySelectorAll("#mention-filters select, #mention-filters input[type=checkbox]")) {
    field.addEventListener("change", searchMentions);
  }
  $("#mentions-prev").addEventListener("click", () => pageMentions(-1));
  $("#mentions-next").addEventListener("click", () => pageMentions(1));
  window.addEventListener("popstate", () => { flash(""); applyLocation(); refresh(true); });
  await loadBrands().catch(() => {});
  applyLocation();
  await refresh(true);
  setInterval(() => refresh(false), 15000);
});

function showView(name) {
  view = document.querySelector(`nav button[data-view="${CSS.escape(name)}"]`) ? name : "queue";
  for (const b of document.querySelectorAll("nav button")) {
    b.classList.toggle("active", b.dataset.view === view);
    if (b.dataset.view === view) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
    $(`#${b.dataset.view}-view`).hidden = b.dataset.view !== view;
  }
}

// The address says what to show: `?view=mentions&q=…` a sweep with its filters, `?task=N`
// that task in the queue (the Mentions view links there).
function applyLocation() {
  const params = new URLSearchParams(window.location.search);
  if (params.get("view") === "mentions") {
    fillMentionFilters(params);
    showView("mentions");
    return;
  }
  showView(params.get("view") || "queue");
  if (view === "problems") {
    const problem = Number.parseInt(params.get("problem") || "", 10);
    if (Number.isFinite(problem) && problem > 0) showProblem(problem).catch(() => flash(`Problem #${problem} not found.`));
    return;
  }
  if (view !== "queue") return;
  fillTaskFilters(params);
  const task = Number.parseInt(params.get("task") || "", 10);
  if (Number.isFinite(task) && task > 0) {
    selectedTask = task;
    showTask(task).catch(() => flash(`Task #${task} not found.`));
  } else if (selectedTask !== null) {
    closeTask();
  }
}

// ---- Recurring problems ------------------------------------------------------------------
// The Problems view: complaints grouped by cause (computed by the server's problems jobs),
// ranked by unanswered tasks and growth. A lead writes the known-issue message, answers every
// unanswered task of a problem with it (one reply per task, through the reply outbox), and
// once the cause is fixed offers everyone in it a follow-up.

let selectedProblem = null;

// A 14-day sparkline as inline SVG (built with DOM calls; no markup is parsed).
function sparkline(counts) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 84;
  const height = 20;
  const max = Math.max(1, ...counts);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `complaints per day over 14 days: ${counts.join(", ")}`);
  const step = width / Math.max(1, counts.length);
  counts.forEach((count, i) => {
    const bar = document.createElementNS(ns, "rect");
    const h = Math.max(count > 0 ? 2 : 0, Math.round((count / max) * (height - 2)));
    bar.setAttribute("x", String(i * step + 0.5));
    bar.setAttribute("y", String(height - h));
    bar.setAttribute("width", String(Math.max(1, step - 1.5)));
    bar.setAttribute("height", String(h));
    bar.setAttribute("class", i === counts.length - 1 ? "spark today" : "spark");
    svg.append(bar);
  });
  return svg;
}

function problemParams() {
  const params = new URLSearchParams();
  for (const field of document.querySelectorAll("#problem-filters select")) {
    if (field.value) params.set(field.name, field.value);
  }
  return params;
}

async function loadProblems() {
  const data = await getJson(`/api/problems?${problemParams()}`);
  const rows = data.problems.map((p) => {
    const row = el("tr", { "data-id": p.id, tabIndex: 0 },
      el("td", { class: "problem-label" }, el("strong", {}, p.label),
        el("div", { class: "muted" }, `${p.brand} · ${p.platforms.join(", ")}`)),
      el("td", {}, sparkline(p.daily)),
      el("td", { class: p.growth > 0 ? "num growing" : "num" }, `${p.n_last_day}`, p.growth > 0 ? ` (+${p.growth})` : ""),
      el("td", { class: p.n_unanswered > 0 ? "num unanswered" : "num" }, `${p.n_unanswered}`),
      el("td", { class: "num" }, `${p.n_complaints}`),
      el("td", {}, el("span", { class: `pstatus ${p.status}` }, p.status), p.owner ? el("div", { class: "muted" }, p.owner) : null));
    row.addEventListener("click", () => showProblem(p.id));
    row.addEventListener("keydown", (event) => { if (event.key === "Enter") showProblem(p.id); });
    if (p.id === selectedProblem) row.classList.add("selected");
    return row;
  });
  $("#problems tbody").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colSpan: 6, class: "muted" },
      `No recurring problems yet (a problem is listed once it holds ${data.min_complaints} complaints).`))]));
}

function problemTaskRow(task) {
  return el("li", { class: "problem-task" }, taskLink(task.id, task.status),
    ` · ${task.priority} · ${task.platform} · ${task.author}`,
    task.first_response_at_ms === null && ["open", "assigned", "responded"].includes(task.status)
      ? el("span", { class: "unanswered" }, " · unanswered") : "");
}

async function patchProblem(id, body) {
  const response = await fetch(`/api/problems/${encodeURIComponent(id)}`, {
    method: "PATCH",
    headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": me ? me.csrf_token || "" : "" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  return [response.ok, data];
}

async function answerProblem(id, body, what) {
  const [ok, data] = await postJson(`/api/problems/${encodeURIComponent(id)}/answer`, body);
  if (!ok) { flash(`${what} failed: ${data && data.error}`); return; }
  const skipped = data.skipped.map((s) => `#${s.task_id}: ${s.reason}`).join("; ");
  flash(`${what}: ${data.queued.length} replies queued` + (data.skipped.length ? `, ${data.skipped.length} skipped (${skipped})` : "") + ".");
  await showProblem(id);
}

function problemLeadControls(p, unanswered, active) {
  const status = el("select", { id: "problem-status", ariaLabel: "Problem status" },
    ...["new", "acknowledged", "fixed"].map((s) => el("option", { value: s, selected: s === p.status }, s)));
  const owner = el("input", { id: "problem-owner", value: p.owner || "", size: 12, placeholder: "owner", ariaLabel: "Owner" });
  const note = el("textarea", { id: "problem-note", rows: 2, placeholder: "Note: cause, who is fixing it, ETA", ariaLabel: "Note" });
  note.value = p.note || "";
  const message = el("textarea", { id: "problem-message", rows: 3, ariaLabel: "Known-issue message",
    placeholder: "Known-issue message, e.g. We know the app login is failing since 07:10; a fix is expected by noon. Sorry, {author}." });
  message.value = p.message || "";
  const save = el("button", { type: "button", id: "problem-save" }, "Save");
  save.addEventListener("click", async () => {
    const [ok, data] = await patchProblem(p.id, { status: status.value, owner: owner.value, note: note.value, message: message.value });
    flash(ok ? `Problem #${p.id} saved.` : `Saving failed: ${data && data.error}`);
    if (ok) { await showProblem(p.id); await loadProblems(); }
  });
  const answer = el("button", { type: "button", id: "problem-answer", disabled: unanswered === 0 },
    `Answer ${unanswered} unanswered task${unanswered === 1 ? "" : "s"} with the message`);
  answer.addEventListener("click", () => answerProblem(p.id, { scope: "unanswered" }, "Bulk answer"));
  const parts = [
    el("h3", {}, "What the team knows"),
    el("p", {}, el("label", {}, "Status ", status), " ", el("label", {}, "Owner ", owner)),
    note,
    el("label", { htmlFor: "problem-message" }, "Known-issue message (offered first on every task of this problem; ",
      el("code", {}, "{author}"), ", ", el("code", {}, "{brand}"), ", ", el("code", {}, "{agent}"), ", ",
      el("code", {}, "{platform}"), " are filled in)"),
    message,
    el("p", {}, save, " ", answer),
  ];
  if (p.status === "fixed") {
    const followUp = el("textarea", { id: "problem-follow-up", rows: 2, ariaLabel: "Follow-up message" });
    followUp.value = "Good news, {author}: the problem is fixed now. Thanks for your patience, and sorry again.";
    const send = el("button", { type: "button", id: "problem-follow-up-send", disabled: active === 0 },
      `Send the follow-up to ${active} customer${active === 1 ? "" : "s"} with an active task`);
    send.addEventListener("click", () => answerProblem(p.id, { scope: "active", text: followUp.value }, "Follow-up"));
    parts.push(el("h3", {}, "Fixed: tell the customers"), followUp, el("p", {}, send));
  }
  return parts;
}

async function showProblem(id) {
  selectedProblem = id;
  const p = await getJson(`/api/problems/${encodeURIComponent(id)}`);
  if (selectedProblem !== id) return;
  const active = p.tasks.filter((t) => ["open", "assigned", "responded"].includes(t.status));
  const unanswered = active.filter((t) => t.first_response_at_ms === null).length;
  const parts = [
    el("h2", {}, `Problem #${p.id} · ${p.brand}`),
    el("p", { class: "problem-terms" }, ...p.terms.map((t) => el("span", { class: "term" }, t))),
    el("p", { class: "muted" }, `${p.n_complaints} complaints since ${when(p.first_seen_at_ms)}, last ${when(p.last_seen_at_ms)} · ` +
      `${p.n_last_day} in the last 24 h · ${unanswered} unanswered of ${active.length} active tasks · status ${p.status}`),
    ...(supervises() ? problemLeadControls(p, unanswered, active.length)
      : [p.message ? el("p", { class: "reminder" }, `Known-issue message: ${p.message}`) : null]),
    el("h3", {}, "Example posts"),
    ...p.examples.map((e) => el("article", { class: "post" },
      el("header", {}, el("strong", {}, e.author), ` · ${e.platform} · ${when(e.created_at_ms)}`,
        ...(e.task_id ? [" · ", taskLink(e.task_id, "")] : [])),
      el("p", { class: "post-text" }, e.text), e.url ? safeLink(e.url, "Open original") : null)),
    el("h3", {}, `Tasks (${p.tasks.length})`),
    el("ul", { class: "problem-tasks" }, ...p.tasks.map(problemTaskRow)),
  ].filter((part) => part !== null);
  $("#problem-detail").replaceChildren(...parts);
  document.querySelectorAll("#problems tr.selected").forEach((row) => row.classList.remove("selected"));
  const row = document.querySelector(`#problems tr[data-id="${CSS.escape(String(id))}"]`);
  if (row) row.classList.add("selected");
}

document.addEventListener("DOMContentLoaded", () => {
  const form = $("#problem-filters");
  if (!form) return;
  form.addEventListener("submit", (event) => { event.preventDefault(); loadProblems().catch(() => {}); });
  for (const field of form.querySelectorAll("select")) field.addEventListener("change", () => loadProblems().catch(() => {}));
});

// In a task: the recurring problem it belongs to, with a link to it.
function problemNotice(problem) {
  const link = el("a", { href: `/?view=problems&problem=${encodeURIComponent(problem.id)}`, id: "task-problem" },
    `problem #${problem.id}: ${problem.label}`);
  return el("p", { class: "reminder problem-notice" }, "Part of a recurring ", link, ` (${problem.status})`,
    problem.reply_text ? ". Its known-issue message is in the reply box." : ". No known-issue message yet.");
}
