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

function slaLeft(task) {
  if (!["open", "assigned", "responded"].includes(task.status)) return "–";
  const minutes = Math.round((task.due_at_ms - Date.now()) / 60000);
  if (minutes < 0) return `overdue ${formatDuration(-minutes)}`;
  return formatDuration(minutes);
}

function formatDuration(minutes) {
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  return `${Math.floor(minutes / 1440)}d`;
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
  const select = $("#filters select[name=brand]");
  for (const brand of await getJson("/api/brands")) {
    select.append(el("option", { value: brand.id }, brand.name));
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
  const due = await getJson("/api/tasks?follow_ups_due=true&limit=1000");
  const reminder = $("#follow-up-reminder");
  reminder.hidden = due.length === 0;
  $("#follow-up-count").textContent = due.length === 1
    ? "1 resolved task is due a follow-up: is the customer happy now?"
    : `${due.length} resolved tasks are due a follow-up: is the customer happy now?`;
}

function showFollowUps() {
  $("#filters select[name=status]").value = "";
  $("#filters select[name=follow_ups_due]").value = "true";
  loadTasks();
}

async function loadTasks() {
  const params = new URLSearchParams(new FormData($("#filters")));
  for (const [key, value] of [...params]) if (!value) params.delete(key);
  // Due follow-ups are resolved tasks, whatever the status filter says.
  if (params.has("follow_ups_due")) params.delete("status");
  const tasks = await getJson(`/api/tasks?${params}`);
  const body = $("#tasks tbody");
  body.replaceChildren(...tasks.map((task) => {
    const check = el("input", { type: "checkbox", class: "bulk", "data-id": String(task.id) });
    check.addEventListener("click", (event) => event.stopPropagation());
    const row = el("tr", { "data-id": String(task.id), class: `priority-${task.priority}` },
      el("td", {}, check),
      el("td", {}, el("span", { class: `badge ${task.priority}` }, task.priority)),
      el("td", {}, slaLeft(task)),
      el("td", {}, task.brand),
      el("td", {}, task.platform),
      el("td", {}, task.author_handle),
      el("td", { class: "text" }, task.latest_text),
      el("td", { class: "status" }, statusText(task)),
      el("td", {}, task.assignee || "–"));
    row.addEventListener("click", () => showTask(task.id));
    if (task.id === selectedTask) row.classList.add("selected");
    return row;
  }));
  if (tasks.length === 0) body.append(el("tr", {}, el("td", { colSpan: 9, class: "muted" }, "No tasks match.")));
}

let currentTask = null;
let templates = [];

async function act(action) {
  if (!currentTask) return;
  const body = Object.assign({ expected_updated_at_ms: currentTask.updated_at_ms }, action);
  const [ok, data, status] = await postJson(`/api/tasks/${encodeURIComponent(currentTask.id)}/actions`, body);
  if (ok) {
    flash(`Task #${data.id}: ${action.action} done (${data.status}).`);
  } else {
    flash(status === 409
      ? `Someone else changed task #${currentTask.id}, or it cannot be ${action.action}ed now: ${data && data.error}`
      : `Could not ${action.action}: ${data && data.error}`);
  }
  await Promise.all([loadTasks(), loadFollowUps()]);
  await showTask(currentTask.id);
}

function actionPanel(task) {
  const claim = el("button", { type: "button", id: "claim" }, "Claim (c)");
  claim.addEventListener("click", () => act({ action: "claim" }));
  const templateSelect = el("select", { id: "template" }, el("option", { value: "" }, "Template…"),
    ...templates.map((t) => el("option", { value: t.name }, t.name)));
  const replyText = el("textarea", { id: "reply-text", rows: 4, placeholder: "Reply text (copy this reply to the platform)" });
  templateSelect.addEventListener("change", async () => {
    if (!templateSelect.value) return;
    const [ok, data] = await postJson(`/api/tasks/${encodeURIComponent(task.id)}/reply-preview`, { template: templateSelect.value });
    if (ok) replyText.value = data.text;
  });
  const reply = el("button", { type: "button", id: "reply" }, "Record reply (r)");
  reply.addEventListener("click", () => act({ action: "reply", text: replyText.value, template: templateSelect.value || null }));
  const note = el("input", { id: "note-text", placeholder: "Note for the team" });
  const addNote = el("button", { type: "button", id: "add-note" }, "Add note");
  addNote.addEventListener("click", () => act({ action: "note", text: note.value }));
  const resolve = el("button", { type: "button", id: "resolve" }, "Resolve (e)");
  resolve.addEventListener("click", () => act({ action: "resolve" }));
  const reason = el("select", { id: "dismiss-reason" },
    ...["false_positive", "spam", "not_ours", "other"].map((r) => el("option", { value: r }, r.replace("_", " "))));
  // A false positive becomes a training example: with the sentiment it really has.
  const falseLabel = el("select", { id: "dismiss-label", title: "The post's real sentiment (kept as a training example)" },
    ...["neutral", "positive", "negative"].map((l) => el("option", { value: l }, `really ${l}`)));
  reason.addEventListener("change", () => { falseLabel.hidden = reason.value !== "false_positive"; });
  const reasonText = el("input", { id: "dismiss-text", placeholder: "Why (needed for other)" });
  const dismiss = el("button", { type: "button", id: "dismiss" }, "Dismiss (d)");
  dismiss.addEventListener("click", () => act(Object.assign(
    { action: "dismiss", reason: reason.value, text: reasonText.value || null },
    reason.value === "false_positive" ? { label: falseLabel.value } : {})));
  let assignRow = null;
  if (supervises()) {
    const assignee = el("input", { id: "assign-to", placeholder: "username", size: 12 });
    const assign = el("button", { type: "button", id: "assign" }, "Assign");
    assign.addEventListener("click", () => act({ action: "assign", to: assignee.value.trim() }));
    assignRow = el("p", {}, "Assign to ", assignee, " ", assign);
  }
  const reopen = el("button", { type: "button", id: "reopen" }, "Reopen");
  reopen.addEventListener("click", () => act({ action: "reopen" }));
  return el("div", { class: "actions" },
    el("p", {}, claim, " ", resolve, " ", reopen),
    assignRow,
    el("p", {}, templateSelect), replyText,
    el("p", { class: "muted" }, "earshot does not post: copy this reply to the platform, then record it here."),
    el("p", {}, reply),
    el("p", {}, note, " ", addNote),
    el("p", {}, reason, " ", falseLabel, " ", reasonText, " ", dismiss));
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

async function showTask(id) {
  selectedTask = id;
  const detail = await getJson(`/api/tasks/${encodeURIComponent(id)}`);
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
  $("#detail").replaceChildren(
    el("h2", {}, `Task #${task.id} · ${task.brand}`),
    el("p", {}, el("span", { class: `badge ${task.priority}` }, task.priority),
      ` ${task.status} · criticality ${task.criticality.toFixed(0)} · due ${when(task.due_at_ms)} (${slaLeft(task)})`,
      ` · assignee ${task.assignee || "none"}`),
    history,
    followUp,
    actionPanel(task),
    ...posts,
    el("h3", {}, "History"), events);
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

async function loadTuning() {
  const brands = await getJson("/api/brands");
  const rows = await Promise.all(brands.map(async (brand) => {
    const { suggestion } = await getJson(`/api/brands/${encodeURIComponent(brand.id)}/threshold-suggestion`);
    const target = `${Math.round(suggestion.target_precision * 100)}%`;
    const why = suggestion.threshold === null
      ? `${suggestion.n_reviewed} reviewed tasks: not enough to reach ${target} precision yet.`
      : `${suggestion.n_reviewed} reviewed (${suggestion.n_false_positive} false positives); at the suggestion ` +
        `${Math.round(suggestion.precision * 100)}% of flagged tasks were real (target ${target}) and ` +
        `${suggestion.n_relevant_kept} of ${suggestion.n_relevant} real ones would still be flagged.`;
    return el("tr", { "data-brand": brand.id },
      el("td", {}, brand.name), el("td", {}, brand.threshold),
      el("td", { class: "suggested" }, suggestion.threshold === null ? "–" : suggestion.threshold.toFixed(0)),
      el("td", {}, why));
  }));
  $("#thresholds tbody").replaceChildren(...rows);
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

async function refresh() {
  try {
    await loadStats();
    if (view === "queue") await Promise.all([loadTasks(), loadFollowUps()]);
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
  return [...document.querySelectorAll("input.bulk:checked")].map((c) => Number(c.dataset.id));
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
  await loadTasks();
}

function moveSelection(step) {
  const rows = [...document.querySelectorAll("#tasks tbody tr[data-id]")];
  if (rows.length === 0) return;
  let index = rows.findIndex((r) => Number(r.dataset.id) === selectedTask);
  index = index < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, index + step));
  showTask(Number(rows[index].dataset.id));
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
  document.addEventListener("keydown", onKey);
  liveUpdates();
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => {
      view = button.dataset.view;
      document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b === button));
      for (const b of document.querySelectorAll("nav button")) {
        $(`#${b.dataset.view}-view`).hidden = b.dataset.view !== view;
      }
      refresh();
    });
  }
  $("#filters").addEventListener("change", () => loadTasks());
  $("#show-follow-ups").addEventListener("click", showFollowUps);
  await loadBrands().catch(() => {});
  await refresh();
  setInterval(refresh, 15000);
});
