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
    return { text: `✓ ${formatDuration(minutes)}`, state: "answered", title: `answered in ${formatDuration(minutes)}` };
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

// --- Offline: a visible banner while the server cannot be reached ----------------------

// Every request goes through here: a network failure (not an HTTP error) means earshot is
// unreachable; the next answer means it is back.
async function apiFetch(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    showOffline(true);
    throw error;
  }
  showOffline(false);
  return response;
}

function showOffline(offline) {
  const banner = $("#offline");
  if (!banner || banner.hidden === !offline) return;
  banner.hidden = !offline;
  document.body.classList.toggle("offline", offline);
}

async function getJson(path) {
  const response = await apiFetch(path, { headers: { accept: "application/json" } });
  if (response.status === 401) window.location.assign("/login");
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

let me = null;

// POSTs JSON with the session's CSRF token; returns [ok, body].
async function postJson(path, body) {
  const response = await apiFetch(path, {
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
  const text = `${stats.mentions} mentions · ${stats.tasks_active} active tasks · ${stats.pending} pending · ` +
    `${stats.unscored} unscored · ${stats.quarantined} quarantined`;
  $("#stats").textContent = text;
  $("#stats").title = text;
}

async function loadBrands() {
  const selects = [$("#filters select[name=brand]"), $("#mention-filters select[name=brand]"),
    $("#problem-filters select[name=brand]"), $("#template-form select[name=brand]"),
    $("#dashboard-filters select[name=brand]")];
  for (const brand of await getJson("/api/brands")) {
    brandNames.set(brand.id, brand.name);
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

const TASK_FILTERS = ["q", "brand", "status", "priority", "platform", "sentiment", "since", "until", "assignee",
  "unassigned", "due_within_mins", "sort", "follow_ups_due"];
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
  const row = el("tr", { "data-id": String(task.id), tabIndex: -1 }, el("td", { class: "check" }, check));
  row.addEventListener("click", () => openTask(task.id));
  row.addEventListener("keydown", (event) => {
    if (event.target !== row) return;
    if (event.key === "Enter") { event.preventDefault(); openTask(task.id); }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      moveSelection(event.key === "ArrowDown" ? 1 : -1);
    }
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
// Tasks a pushed update brought that are not shown yet (the "N new tasks" pill), by id.
let unseenTasks = new Set();

// Lists the page of tasks the filters select. Rows are patched by task id: a row that stays
// keeps its element, so its checkbox, focus and selection survive a refresh or live update.
// A `gentle` load (a pushed update, the periodic refresh, the reload after an action) never
// moves rows under the agent: shown rows are updated where they are, gone ones removed, and
// new tasks wait behind the "N new tasks" pill.
async function loadTasks(gentle) {
  const params = taskParams();
  if (!params.has("status")) params.set("status", "active");
  // Due follow-ups are resolved tasks, whatever the status filter says.
  if (params.has("follow_ups_due")) params.delete("status");
  params.set("limit", String(TASK_LIMIT));
  const request = ++tasksRequest;
  if (!gentle && !document.querySelector("#tasks tbody tr[data-id]")) $("#tasks-count").textContent = "Loading…";
  const response = await apiFetch(`/api/tasks?${params}`, { headers: { accept: "application/json" } });
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
  // With nothing shown there is nothing to keep in place.
  const keepOrder = gentle === true && existing.size > 0;
  const wanted = [];
  const unseen = new Set();
  for (const task of data.items) {
    const known = existing.get(task.id);
    if (!known && keepOrder) { unseen.add(task.id); continue; }
    const row = known || newTaskRow(task);
    existing.delete(task.id);
    while (row.cells.length > 1) row.lastChild.remove();
    row.append(...taskCells(task));
    row.className = `priority-${task.priority}`;
    row.classList.toggle("selected", task.id === selectedTask);
    row.classList.toggle("fresh", !keepOrder && unseenTasks.has(task.id));
    wanted.push(row);
  }
  for (const row of existing.values()) row.remove();
  for (const row of body.querySelectorAll("tr:not([data-id])")) row.remove();
  // Only rows out of place move (moving an element drops its focus); a gentle load moves none.
  if (!keepOrder) {
    wanted.forEach((row, index) => {
      if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
    });
  }
  unseenTasks = unseen;
  showUnseen();
  rovingFocus();
  if (wanted.length === 0) {
    body.append(el("tr", {}, el("td", { colSpan: 6, class: "muted" },
      data.total > 0 ? "No tasks on this page." : "No tasks match.")));
  }
  const first = data.items.length ? data.offset + 1 : 0;
  $("#tasks-count").textContent = `Showing ${wanted.length} of ${data.total}` +
    (wanted.length ? ` (${first}–${data.offset + wanted.length})` : "");
  showSelection();
  // The open task changed elsewhere (another agent, a new post): show its new state.
  const fresh = currentTask && data.items.find((t) => t.id === currentTask.id);
  if (fresh && fresh.updated_at_ms !== currentTask.updated_at_ms && !acting) {
    refreshOpenTask().catch(() => {});
  }
  $("#tasks-prev").disabled = data.offset === 0;
  $("#tasks-next").disabled = data.offset + data.items.length >= data.total;
  queueTotal = data.total;
  showTitle();
}

// --- New tasks: a pill instead of rows moving under the cursor ---------------------------

let queueTotal = 0;

// "4 new tasks" above the list while a pushed update's new tasks wait; clicking it shows them.
function showUnseen() {
  const pill = $("#new-tasks");
  const n = unseenTasks.size;
  pill.hidden = n === 0;
  pill.textContent = n === 1 ? "1 new task" : `${n} new tasks`;
  showTitle();
}

// The tab says how many new tasks wait, or how many the list holds.
function showTitle() {
  document.title = unseenTasks.size > 0
    ? `(${unseenTasks.size} new) earshot · response queue`
    : `(${queueTotal}) earshot · response queue`;
}

function showNewTasks() {
  loadTasks(false).then(() => {
    const fresh = document.querySelector("#tasks tbody tr.fresh");
    if (fresh) { fresh.scrollIntoView({ block: "nearest" }); }
  }).catch((error) => flash(`Cannot list tasks: ${error.message}`));
}

let currentTask = null;
// The open task's posts (their sentiment decides whether the apology is offered).
let currentPosts = [];
let templates = [];

// What an action is called in a sentence.
const ACTION_VERBS = { claim: "claim", assign: "assign", note: "add the note", reply: "record the reply",
  resolve: "resolve", dismiss: "dismiss", reopen: "reopen" };

// Set while this page's own action is on its way: the list reload it causes must not
// announce the change as someone else's.
let acting = false;

async function act(action) {
  if (!currentTask) return false;
  acting = true;
  try { return await actOnCurrent(action); } finally { acting = false; }
}

async function actOnCurrent(action) {
  if (!currentTask) return false;
  // A claim made on the first keystroke of a reply lands before anything else is sent.
  if (pendingClaim) await pendingClaim;
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
  await Promise.all([loadTasks(true), loadFollowUps()]);
  await showTask(currentTask.id);
  if (draft !== null && $("#reply-text")) $("#reply-text").value = draft;
  return ok;
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
  const replyText = el("textarea", { id: "reply-text", rows: 4, placeholder: "Reply text (type / for templates)",
    ariaLabel: "Reply text" });
  const picker = templatePicker(task, replyText);
  const reply = el("button", { type: "button", id: "reply" }, "Record reply (r)");
  const record = () => act({ action: "reply", text: replyText.value, template: picker.used() });
  reply.addEventListener("click", record);
  // A reply written on the platform, and the task done with it.
  const recordResolve = el("button", { type: "button", id: "record-resolve" }, "Record & resolve");
  recordResolve.addEventListener("click", async () => {
    if (await act({ action: "reply", text: replyText.value, template: picker.used() })) await act({ action: "resolve" });
  });
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
  autoClaimOnReply(task, replyText);
  const sending = sendControls(task, replyText, record);
  return el("div", { class: "actions" },
    buttons.length ? el("p", { class: "action-bar" }, ...buttons.flatMap((b) => [b, " "])) : null,
    assignRow,
    el("p", { class: "template-row" }, picker.select, " ", picker.offer), picker.search, replyText,
    el("p", { class: "reply-meta" }, sending.count, " ", sending.account),
    sending.hint,
    el("p", {}, sending.send, " ", sending.sendResolve, " ", sending.copy, " ", reply, " ", recordResolve),
    notes,
    el("p", {}, reason, " ", falseLabel, " ", reasonText, " ", dismiss));
}

// --- Auto-claim: starting a reply on an open task claims it --------------------------------

let pendingClaim = null;

// The first keystroke in the reply box of a task nobody has claims it for the agent, so two
// agents do not write to the same customer. The pane is not redrawn (the text stays); the
// task's version is updated in place, so the reply that follows is not a conflict.
function autoClaimOnReply(task, replyText) {
  if (task.status !== "open" || task.assignee !== null) return;
  const claim = async () => {
    const [ok, data] = await postJson(`/api/tasks/${encodeURIComponent(task.id)}/actions`,
      { action: "claim", expected_updated_at_ms: task.updated_at_ms });
    if (!ok) return;
    Object.assign(task, data);
    const state = $("#detail .task-state");
    if (state && currentTask === task) state.replaceWith(taskStateLine(task));
    flash(`Task #${task.id} is yours now: you started a reply.`);
    loadTasks(true).catch(() => {});
  };
  let started = false;
  const start = () => {
    if (started || replyText.value.trim() === "") return;
    started = true;
    acting = true;
    pendingClaim = claim().finally(() => { acting = false; pendingClaim = null; });
  };
  // Typing, or a template filled in.
  replyText.addEventListener("input", start);
  replyText.addEventListener("template-filled", start);
}

// --- Reply templates: picked from a list, searched with "/", the apology offered first -----

// The templates a task's reply can start from: its brand's stored ones, then the config's.
function templatesFor(task) {
  return templates.filter((t) => t.brand === null || t.brand === task.brand);
}

// The value a template has in the picker: a stored one's id, a config one's name.
function templateKey(t) {
  return t.id !== null ? `id:${t.id}` : t.name;
}

// Whether the customer's latest post reads negative.
function latestIsNegative() {
  const post = currentPosts.length ? currentPosts[currentPosts.length - 1] : null;
  const s = post && post.sentiment;
  return Boolean(s) && s.negative >= s.neutral && s.negative >= s.positive;
}

// The template list, the apology offered on a negative task (while the box is empty), and
// the search "/" opens in an empty reply box (Enter picks the first match, arrows move,
// Escape goes back to the text). A picked template is filled in by the server for this task.
function templatePicker(task, replyText) {
  const list = templatesFor(task);
  let used = null;
  const apology = latestIsNegative() ? list.find((t) => t.apology) : undefined;
  const offer = el("button", { type: "button", id: "apology-offer", hidden: !apology },
    apology ? `Start with the apology: ${apology.name}` : "");
  const fill = async (t) => {
    const [ok, data] = await postJson(`/api/tasks/${encodeURIComponent(task.id)}/reply-preview`,
      t.id !== null ? { template_id: t.id } : { template: t.name });
    if (!ok) { flash(`Could not fill in the template ${t.name}: ${data && data.error ? data.error : "no answer"}`); return; }
    replyText.value = data.text;
    used = t.name;
    offer.hidden = true;
    replyText.dispatchEvent(new Event("template-filled"));
    replyText.focus();
  };
  offer.addEventListener("click", () => fill(apology));
  const select = el("select", { id: "template", ariaLabel: "Reply template" }, el("option", { value: "" }, "Template…"),
    ...list.map((t) => el("option", { value: templateKey(t) }, t.apology ? `${t.name} (apology)` : t.name)));
  select.addEventListener("change", () => {
    const t = list.find((candidate) => templateKey(candidate) === select.value);
    if (t) fill(t);
  });
  const query = el("input", { id: "template-search", type: "search", placeholder: "Search templates",
    ariaLabel: "Search reply templates", autocomplete: "off" });
  const results = el("ul", { id: "template-results", role: "listbox", ariaLabel: "Matching templates" });
  const search = el("div", { class: "template-search", hidden: true }, query, results);
  let matches = [];
  let active = 0;
  const show = () => {
    const q = query.value.trim().toLowerCase();
    matches = list.filter((t) => !q || t.name.toLowerCase().includes(q) || t.text.toLowerCase().includes(q)).slice(0, 8);
    active = Math.min(active, Math.max(0, matches.length - 1));
    results.replaceChildren(...matches.map((t, index) => {
      const choose = el("button", { type: "button", class: "template-result" }, t.name);
      choose.addEventListener("click", () => pick(t));
      return el("li", { role: "option", class: index === active ? "active" : "", ariaSelected: String(index === active) },
        choose, el("span", { class: "muted" }, ` ${t.text.length > 90 ? `${t.text.slice(0, 90)}…` : t.text}`));
    }));
    if (matches.length === 0) results.append(el("li", { class: "muted" }, "No template matches."));
  };
  const pick = (t) => { search.hidden = true; query.value = ""; fill(t); };
  query.addEventListener("input", () => { active = 0; show(); });
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); if (matches[active]) pick(matches[active]); }
    if (event.key === "Escape") { event.preventDefault(); search.hidden = true; query.value = ""; replyText.focus(); }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = Math.max(0, Math.min(matches.length - 1, active + (event.key === "ArrowDown" ? 1 : -1)));
      show();
    }
  });
  replyText.addEventListener("keydown", (event) => {
    if (event.key !== "/" || replyText.value.trim() !== "" || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    search.hidden = false;
    active = 0;
    show();
    query.focus();
  });
  replyText.addEventListener("input", () => { offer.hidden = !apology || replyText.value.trim() !== ""; });
  return { select, offer, search, used: () => used };
}

// The Templates view (leads and admins): the brands' stored templates, written and changed
// here; the config's are listed, read-only.
async function loadTemplatesView() {
  templates = await getJson("/api/templates");
  const brandName = (id) => { const option = $(`#template-form select[name=brand] option[value="${CSS.escape(id)}"]`); return option ? option.textContent : id; };
  $("#template-list tbody").replaceChildren(...templates.map((t) => {
    const cells = [
      el("td", {}, t.brand ? brandName(t.brand) : "every brand"),
      el("td", { class: "template-name" }, t.name, t.apology ? el("div", { class: "muted" }, "apology: offered first on negative tasks") : null),
      el("td", { class: "template-text" }, t.text),
      el("td", {}, t.source === "config" ? "config file" : `${t.updated_by} · ${when(t.updated_at_ms)}`),
    ];
    const actions = el("td", {});
    if (t.id !== null && supervises()) {
      const edit = el("button", { type: "button", class: "edit-template", "data-id": String(t.id) }, "Edit");
      edit.addEventListener("click", () => editTemplate(t));
      const remove = el("button", { type: "button", class: "delete-template", "data-id": String(t.id) }, "Delete");
      remove.addEventListener("click", () => deleteTemplate(t));
      actions.append(edit, " ", remove);
    }
    return el("tr", { "data-template": t.id !== null ? String(t.id) : `config:${t.name}` }, ...cells, actions);
  }));
  if (templates.length === 0) {
    $("#template-list tbody").append(el("tr", {}, el("td", { colSpan: 5, class: "muted" }, "No templates yet.")));
  }
}

function editTemplate(t) {
  const form = $("#template-form");
  form.elements.id.value = String(t.id);
  form.elements.brand.value = t.brand;
  form.elements.name.value = t.name;
  form.elements.text.value = t.text;
  form.elements.apology.checked = t.apology;
  $("#template-save").textContent = "Save changes";
  form.elements.name.focus();
}

function resetTemplateForm() {
  const form = $("#template-form");
  form.reset();
  form.elements.id.value = "";
  $("#template-save").textContent = "Add template";
}

async function saveTemplate() {
  const form = $("#template-form");
  const id = form.elements.id.value;
  const body = { brand: form.elements.brand.value, name: form.elements.name.value, text: form.elements.text.value,
    apology: form.elements.apology.checked };
  const response = await apiFetch(id ? `/api/templates/${encodeURIComponent(id)}` : "/api/templates", {
    method: id ? "PUT" : "POST",
    headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": me ? me.csrf_token || "" : "" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) { flash(`Could not save the template: ${data && data.error ? data.error : `HTTP ${response.status}`}`); return; }
  flash(`Template "${data.name}" saved.`);
  resetTemplateForm();
  await loadTemplatesView();
}

async function deleteTemplate(t) {
  const response = await apiFetch(`/api/templates/${encodeURIComponent(t.id)}`, {
    method: "DELETE", headers: { "x-csrf-token": me ? me.csrf_token || "" : "" } });
  flash(response.ok ? `Template "${t.name}" deleted.` : `Could not delete the template: HTTP ${response.status}`);
  await loadTemplatesView();
}

// --- The lead dashboard: the weekly export's numbers for any week, drawn in the page -----

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Okabe–Ito colours: told apart with every common colour-vision deficiency.
const SENTIMENT_COLOURS = [["negative", "#D55E00"], ["neutral", "#56B4E9"], ["positive", "#009E73"], ["unscored", "#BBBBBB"]];

function responseTime(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms < 60000 ? `${Math.round(ms / 1000)}s` : formatDuration(Math.round(ms / 60000));
}

function attainment(breachRate) {
  return breachRate === null || breachRate === undefined ? "–" : percent(1 - breachRate);
}

function change(value, unit) {
  if (value === null || value === undefined) return "";
  const sign = value > 0 ? "+" : "";
  return ` (${sign}${Math.round(value)}${unit} on last week)`;
}

function dashboardParams() {
  const form = $("#dashboard-filters");
  const params = new URLSearchParams();
  if (form.elements.week.value) params.set("week", form.elements.week.value);
  if (form.elements.brand.value) params.set("brand", form.elements.brand.value);
  return params;
}

function fillDashboard(params) {
  const form = $("#dashboard-filters");
  form.elements.week.value = params.get("week") || "";
  form.elements.brand.value = params.get("brand") || "";
  if (form.elements.brand.selectedIndex < 0) form.elements.brand.selectedIndex = 0;
}

function rememberDashboard() {
  const params = dashboardParams();
  params.set("view", "dashboard");
  window.history.replaceState(null, "", `/?${params}`);
}

// One brand's week as stacked bars per day (negative, neutral, positive, unscored), on a
// scale shared by every brand so they compare at a glance.
function volumeChart(brand, days, max) {
  const width = 420, height = 160, left = 34, bottom = 22, bar = 36, gap = (width - left - 7 * bar) / 7;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + 8}`, class: "volume-chart", role: "img",
    "aria-label": `${brand}: mentions per day by sentiment` });
  const scale = (n) => (max > 0 ? (n / max) * (height - bottom - 8) : 0);
  chart.append(svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#66707a" }),
    svg("text", { x: left - 4, y: 12, "text-anchor": "end", class: "axis" }, max),
    svg("text", { x: left - 4, y: height - bottom, "text-anchor": "end", class: "axis" }, 0));
  days.forEach((day, i) => {
    const x = left + gap / 2 + i * (bar + gap);
    let y = height - bottom;
    for (const [name, colour] of SENTIMENT_COLOURS) {
      const n = day[name];
      if (!n) continue;
      const h = scale(n);
      y -= h;
      chart.append(svg("rect", { x, y, width: bar, height: h, fill: colour, class: "bar", "data-day": day.date, "data-sentiment": name },
        svg("title", {}, `${day.date}: ${n} ${name}`)));
    }
    const label = new Date(`${day.date}T12:00:00Z`).toLocaleDateString(undefined, { weekday: "short", timeZone: "UTC" });
    chart.append(svg("text", { x: x + bar / 2, y: height - 6, "text-anchor": "middle", class: "axis" }, label),
      svg("text", { x: x + bar / 2, y: Math.max(10, y - 3), "text-anchor": "middle", class: "total" }, day.mentions || ""));
  });
  return chart;
}

async function loadDashboard() {
  const params = dashboardParams();
  const data = await getJson(`/api/dashboard?${params}`);
  const form = $("#dashboard-filters");
  if (!form.elements.week.value) form.elements.week.value = data.week;
  $("#dashboard-note").textContent = `Week ${data.week} (${data.timezone}), the numbers of its weekly export; the backlog and breaches are now.`;
  $("#dash-breaches").textContent = String(data.breaches_now);
  $("#dash-backlog tbody").replaceChildren(...data.backlog.map((b) => el("tr", {}, el("td", {}, b.age), el("td", { class: "num" }, b.tasks))));
  const brands = data.summary.brands;
  const recovered = brands.reduce((sum, b) => sum + (b.week.recovered_customers || 0), 0);
  const resolved = brands.reduce((sum, b) => sum + b.week.tasks_resolved, 0);
  $("#dash-recovered").textContent = resolved ? percent(recovered / resolved) : "–";
  $("#dash-recovered-note").textContent = `${recovered} of ${resolved} tasks resolved this week: the author's next post was not negative.`;
  const max = Math.max(0, ...brands.flatMap((b) => b.days.map((d) => d.mentions)));
  const legend = el("p", { class: "legend" }, ...SENTIMENT_COLOURS.map(([name, colour]) => el("span", { class: `key key-${name}` },
    svg("svg", { width: 12, height: 12, "aria-hidden": "true" }, svg("rect", { width: 12, height: 12, fill: colour })), ` ${name}`)));
  $("#dash-charts").replaceChildren(legend, ...brands.map((b) => el("figure", { class: "brand-chart", "data-brand": b.brand },
    el("figcaption", {}, brandLabel(b.brand)), volumeChart(brandLabel(b.brand), b.days, max))));
  $("#dash-brands tbody").replaceChildren(...brands.map((b) => el("tr", { "data-brand": b.brand },
    el("td", {}, brandLabel(b.brand)),
    el("td", { class: "mentions" }, `${b.week.mentions}${change(b.change.mentions_pct, "%")}`),
    el("td", { class: "negative" }, `${percent(b.week.negative_share)}${change(b.change.negative_share_pts, " pts")}`),
    el("td", { class: "median" }, responseTime(b.week.median_first_response_ms)),
    el("td", { class: "p90" }, responseTime(b.week.p90_first_response_ms)),
    el("td", { class: "attainment" }, attainment(b.week.sla_breach_rate)),
    el("td", { class: "opened" }, b.week.tasks_opened),
    el("td", { class: "resolved" }, b.week.tasks_resolved),
    el("td", { class: "recovered" }, b.week.recovered_customers ?? "–"))));
  $("#dash-agents tbody").replaceChildren(...data.agents.map((a) => el("tr", { "data-agent": a.agent },
    el("td", {}, a.agent), el("td", {}, a.tasks_opened), el("td", {}, a.tasks_resolved),
    el("td", { class: "median" }, responseTime(a.median_first_response_ms)),
    el("td", { class: "p90" }, responseTime(a.p90_first_response_ms)),
    el("td", { class: "attainment" }, a.sla_attainment === null ? "–" : percent(a.sla_attainment)))));
  if (data.agents.length === 0) {
    $("#dash-agents tbody").append(el("tr", {}, el("td", { colSpan: 6, class: "muted" }, "No task had an SLA decided or was opened this week.")));
  }
  const lastWeek = new Map(data.previous.brands.map((b) => [b.brand, b.week.top_terms]));
  $("#dash-terms").replaceChildren(...brands.map((b) => {
    const before = lastWeek.get(b.brand) || [];
    const known = new Set(before.map((t) => t.term));
    return el("div", { class: "terms", "data-brand": b.brand }, el("h4", {}, brandLabel(b.brand)),
      el("div", { class: "term-lists" },
        el("ol", { class: "this-week", ariaLabel: "This week" }, ...b.week.top_terms.map((t) => el("li", {},
          `${t.term} (${t.count})`, known.has(t.term) ? null : el("span", { class: "new-term" }, " new")))),
        el("ol", { class: "last-week muted", ariaLabel: "Last week" }, ...before.map((t) => el("li", {}, `${t.term} (${t.count})`)))));
  }));
}

const brandNames = new Map();

function brandLabel(id) {
  return brandNames.get(id) || id;
}

// Sending from earshot: who the reply goes out as, the count in the platform's limit (with a
// warning when it is too long), Send and Send & resolve (Ctrl+Enter sends). Without a reply
// account, the right to send, or a write API on the platform, only "Record reply" stays and
// the reason is shown.
function sendControls(task, replyText, record) {
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
  // Counted as the platform counts, with the brand's reply account or, to be posted by hand,
  // against the platform's own limit; platforms without a known limit show no count.
  let hintText = hint.textContent;
  const recount = async () => {
    const ticket = ++counting;
    const [ok, data] = await postJson(`${base}/reply-check`, { text: replyText.value });
    if (ticket !== counting || !ok) return;
    count.textContent = `${data.count} / ${data.limit} ${data.unit}`;
    count.className = data.fits ? "muted" : "over";
    count.title = data.problem || "";
    send.disabled = sendResolve.disabled = !data.fits || replyText.value.trim() === "";
    hint.textContent = !data.fits ? `Too long: ${data.problem}. The platform would refuse it.`
      : (canSend ? "Send posts this reply as the brand; Record is for a reply written on the platform." : hintText);
  };
  replyText.addEventListener("template-filled", recount);
  let timer = null;
  replyText.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(recount, 200); });
  const doSend = async (resolve) => {
    if (!canSend || send.disabled) return;
    if (pendingClaim) await pendingClaim;
    acting = true;
    try {
      const [ok, data] = await postJson(`${base}/replies`,
        { text: replyText.value, resolve, expected_updated_at_ms: task.updated_at_ms });
      const draft = replyText.value;
      flash(ok ? `Task #${task.id}: reply queued; it is sent as ${account.dataset.handle || "the brand"} in a moment.`
        : `Could not send the reply: ${data && data.error ? data.error : "no answer"}`);
      await Promise.all([loadTasks(true), loadFollowUps()]);
      await showTask(task.id);
      if (!ok && $("#reply-text")) $("#reply-text").value = draft;
    } finally { acting = false; }
  };
  send.addEventListener("click", () => doSend(false));
  sendResolve.addEventListener("click", () => doSend(true));
  // Ctrl+Enter sends where earshot can post, else records the reply written on the platform.
  replyText.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    if (canSend) doSend(false); else if (replyText.value.trim() !== "") record();
  });
  getJson(`${base}/replies`).then((info) => {
    const a = info.account;
    canSend = a.can_send;
    account.dataset.handle = a.posts_as || "";
    if (a.posts_as) account.textContent = `posts as ${a.posts_as} on ${a.platform}`;
    if (a.account_error) account.append(el("span", { class: "error", id: "account-error" }, ` · account problem: ${a.account_error}`));
    if (canSend) {
      send.hidden = sendResolve.hidden = false;
    } else {
      copy.hidden = false;
      if (a.reason) hint.textContent = hintText = a.reason;
    }
    recount();
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
    else if (info.replies.some((r) => r.status === "sent" && r.sent_at_ms > Date.now() - 5000)) loadTasks(true).catch(() => {});
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

// --- The author card: their mentions and earlier tasks with how each ended ---------------

function authorCard(task) {
  const line = el("p", { class: "muted", id: "author-history" }, "Author history: loading…");
  const prior = el("p", { id: "author-prior" });
  const list = el("ul", { class: "author-tasks" });
  const card = el("section", { class: "author-card", id: "author-card", ariaLabel: "The author" },
    el("h3", {}, `About ${task.author_handle}`), prior, list, line);
  getJson(`/api/tasks/${encodeURIComponent(task.id)}/author-history`).then((h) => {
    line.textContent = `Last ${h.days} days: ${h.mentions} mentions, ${h.negative} negative, ${h.flagged} flagged.`;
    if (h.prior_tasks === 0) {
      prior.textContent = "First contact: no earlier tasks with this author.";
    } else {
      const unhappy = h.still_unhappy > 0 ? `, ${h.still_unhappy} still unhappy` : "";
      prior.textContent = `${h.prior_tasks} earlier ${h.prior_tasks === 1 ? "task" : "tasks"}: ${h.recovered} recovered${unhappy}.`;
      prior.className = h.still_unhappy > 0 ? "chronic" : "";
    }
    list.replaceChildren(...h.tasks.map((t) => el("li", { class: `outcome-${t.outcome.replace(" ", "-")}` },
      taskLink(t.id, null), ` · ${t.outcome} · opened ${when(t.opened_at_ms)} · `,
      el("span", { class: "muted" }, t.latest_text.length > 80 ? `${t.latest_text.slice(0, 80)}…` : t.latest_text))));
  }).catch(() => { line.textContent = "Author history unavailable."; });
  return card;
}

// "In reply to": the parent post (author and text) when earshot has it, else its platform id.
function inReplyTo(post) {
  if (!post.in_reply_to) return null;
  const parent = post.parent;
  if (!parent) return el("p", { class: "muted in-reply-to" }, `In reply to ${post.in_reply_to}`);
  return el("blockquote", { class: `quoted in-reply-to${parent.ours ? " ours" : ""}` },
    el("span", { class: "muted" }, parent.ours ? `In reply to our reply, sent by ${parent.author_handle}:` : `In reply to ${parent.author_handle}:`),
    el("span", { class: "quoted-text" }, parent.text));
}

// Priority, status, criticality, deadline and assignee in one line.
function taskStateLine(task) {
  return el("p", { class: "task-state" }, el("span", { class: `badge ${task.priority}` }, task.priority),
    ` ${statusText(task)} · criticality ${task.criticality.toFixed(0)} · due ${when(task.due_at_ms)} `, slaBadge(task),
    ` · assignee ${task.assignee || "none"}`);
}

async function showTask(id, notice) {
  selectedTask = id;
  const detail = await getJson(`/api/tasks/${encodeURIComponent(id)}`);
  // Another task was opened while this one loaded.
  if (selectedTask !== id) return;
  const task = detail.task;
  currentTask = task;
  currentPosts = detail.posts;
  const history = authorCard(task);
  // Each post: what the customer said and why it was flagged first; the numbers after.
  const posts = detail.posts.map((post) => el("article", { class: "post" },
    el("header", {}, el("strong", {}, post.author_name || post.author_handle), " ", post.author_handle,
      post.author_followers !== null ? ` · ${post.author_followers} followers` : "",
      ` · ${post.platform} · ${when(post.created_at_ms)}`),
    inReplyTo(post),
    el("p", { class: "post-text" }, post.text),
    post.quote_of || post.quoted_text
      ? el("blockquote", { class: "quoted" },
        el("span", { class: "muted" }, post.quoted_text ? "Quoting:" : `Quoting ${post.quote_of}`),
        post.quoted_text ? el("span", { class: "quoted-text" }, post.quoted_text) : null)
      : null,
    post.growth
      ? el("p", { class: "growth" }, `Engagement grew: ${post.growth.text} (total ${post.growth.from_total} → ${post.growth.to_total})`)
      : null,
    el("h4", { class: "why" }, `Why flagged: criticality ${post.criticality.toFixed(0)}`),
    el("ul", { class: "factors" }, ...post.factors.map((factor) =>
      el("li", {}, el("b", {}, `+${factor.points.toFixed(1)} ${factor.name}`), " ", factor.detail))),
    el("p", { class: "muted engagement" }, post.url ? safeLink(post.url, "Open original") : null, post.url ? " · " : "",
      `${post.likes} likes · ${post.reposts} reposts · ${post.replies} replies · ${post.quotes} quotes`),
    el("p", { class: "muted" }, post.sentiment
      ? `p(negative) ${post.sentiment.negative.toFixed(2)} · p(neutral) ${post.sentiment.neutral.toFixed(2)} · p(positive) ${post.sentiment.positive.toFixed(2)} · ${post.model}`
      : `unscored: ${post.sentiment_reason || "no score"}`),
    relabelControl(task.id, post)));
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
    taskStateLine(task),
    waiting(task) ? el("p", { class: "waiting", id: "waiting", title: `posted ${when(task.sla_started_at_ms)}` }, waiting(task)) : null,
    notice ? el("p", { class: "reminder", id: "task-changed" }, notice) : null,
    ...posts,
    repliesThread(task),
    followUp,
    detail.problem ? problemNotice(detail.problem) : null,
    actionPanel(task),
    history,
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
  const response = await apiFetch(`/api/mentions?${params}`, { headers: { accept: "application/json" } });
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
    if (view === "queue") await Promise.all([loadTasks(!full), loadFollowUps()]);
    if (view === "mentions" && full) await loadMentions();
    if (view === "problems") await loadProblems();
    if (view === "sources") await loadSources();
    if (view === "quarantine") await loadQuarantine();
    if (view === "channels") await loadChannels();
    if (view === "exports") await loadExports();
    if (view === "tuning") await loadTuning();
    if (view === "templates") await loadTemplatesView();
    if (view === "dashboard" && full) await loadDashboard();
  } catch (error) {
    $("#stats").textContent = `Cannot reach earshot: ${error.message}`;
    $("#stats").title = $("#stats").textContent;
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
  await loadTasks(true);
}

// j / k: the next or previous row gets the focus (scrolled into view) and opens.
function moveSelection(step) {
  const rows = [...document.querySelectorAll("#tasks tbody tr[data-id]")];
  if (rows.length === 0) return;
  const focused = rows.indexOf(document.activeElement);
  let index = focused >= 0 ? focused : rows.findIndex((r) => Number(r.dataset.id) === selectedTask);
  index = index < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, index + step));
  rows[index].scrollIntoView({ block: "nearest" });
  rovingFocus(rows[index]);
  rows[index].focus({ preventScroll: true });
  openTask(Number(rows[index].dataset.id));
}

// Roving focus: one row of the list is in the Tab order (the focused or open one, else the
// first); arrows and j/k move between rows.
function rovingFocus(current) {
  const rows = [...document.querySelectorAll("#tasks tbody tr[data-id]")];
  const target = current || rows.find((r) => r === document.activeElement) ||
    rows.find((r) => Number(r.dataset.id) === selectedTask) || rows[0];
  for (const row of rows) row.tabIndex = row === target ? 0 : -1;
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
    "/": () => { if (view === "queue") $("#filters input[name=q]").focus(); },
  };
  const handler = keys[event.key];
  if (handler) { event.preventDefault(); handler(); }
}

function liveUpdates() {
  if (!window.EventSource) return;
  const source = new EventSource("/api/events");
  // The stream broke (the server stopped or the network went): look now, so the offline
  // banner shows at once; the stream reconnects by itself.
  source.addEventListener("error", () => { loadStats().catch(() => {}); });
  source.addEventListener("tasks", () => {
    if (view === "queue") Promise.all([loadTasks(true), loadFollowUps()]).catch(() => {});
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  try {
    me = await getJson("/api/me");
    $("#me").textContent = `${me.username} (${me.role})`;
    templates = await getJson("/api/templates");
  } catch (_) { return; }
  $("nav button[data-view=tuning]").hidden = !supervises();
  $("nav button[data-view=templates]").hidden = !supervises();
  $("nav button[data-view=dashboard]").hidden = !supervises();
  $("#dashboard-filters").addEventListener("submit", (event) => event.preventDefault());
  $("#dashboard-filters").addEventListener("change", () => {
    rememberDashboard();
    loadDashboard().catch((error) => flash(`Cannot load the dashboard: ${error.message}`));
  });
  $("#template-form").addEventListener("submit", (event) => { event.preventDefault(); saveTemplate(); });
  $("#template-cancel").addEventListener("click", resetTemplateForm);
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
      else if (view === "dashboard") rememberDashboard();
      else window.history.replaceState(null, "", `/?view=${encodeURIComponent(view)}`);
      refresh(true);
    });
  }
  // Enter in a field searches; it never submits the form (which would reload the page).
  $("#filters").addEventListener("submit", (event) => { event.preventDefault(); searchTasks(); });
  $("#filters").addEventListener("change", searchTasks);
  $("#tasks-prev").addEventListener("click", () => pageTasks(-1));
  $("#tasks-next").addEventListener("click", () => pageTasks(1));
  $("#new-tasks").addEventListener("click", showNewTasks);
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
  window.addEventListener("offline", () => showOffline(true));
  window.addEventListener("online", () => refresh(false));
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
  if (view === "dashboard") fillDashboard(params);
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
  // One column on narrow windows: the problem opens below the list, so bring it into view.
  if (window.matchMedia("(max-width: 1023px)").matches) $("#problem-detail").scrollIntoView({ block: "start" });
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
