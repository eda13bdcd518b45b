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
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
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

async function loadTasks() {
  const params = new URLSearchParams(new FormData($("#filters")));
  for (const [key, value] of [...params]) if (!value) params.delete(key);
  const tasks = await getJson(`/api/tasks?${params}`);
  const body = $("#tasks tbody");
  body.replaceChildren(...tasks.map((task) => {
    const row = el("tr", { "data-id": String(task.id), class: `priority-${task.priority}` },
      el("td", {}, el("span", { class: `badge ${task.priority}` }, task.priority)),
      el("td", {}, slaLeft(task)),
      el("td", {}, task.brand),
      el("td", {}, task.platform),
      el("td", {}, task.author_handle),
      el("td", { class: "text" }, task.latest_text),
      el("td", {}, task.status));
    row.addEventListener("click", () => showTask(task.id));
    if (task.id === selectedTask) row.classList.add("selected");
    return row;
  }));
  if (tasks.length === 0) body.append(el("tr", {}, el("td", { colSpan: 7, class: "muted" }, "No tasks match.")));
}

async function showTask(id) {
  selectedTask = id;
  const detail = await getJson(`/api/tasks/${encodeURIComponent(id)}`);
  const task = detail.task;
  const posts = detail.posts.map((post) => el("article", { class: "post" },
    el("header", {}, el("strong", {}, post.author_name || post.author_handle), " ", post.author_handle,
      post.author_followers !== null ? ` · ${post.author_followers} followers` : "",
      ` · ${post.platform} · ${when(post.created_at_ms)}`),
    el("p", { class: "post-text" }, post.text),
    post.url ? safeLink(post.url, "Open original") : null,
    el("p", { class: "muted" }, post.sentiment
      ? `p(negative) ${post.sentiment.negative.toFixed(2)} · p(neutral) ${post.sentiment.neutral.toFixed(2)} · p(positive) ${post.sentiment.positive.toFixed(2)} · ${post.model}`
      : `unscored: ${post.sentiment_reason || "no score"}`),
    el("h4", {}, `Why flagged: criticality ${post.criticality.toFixed(0)}`),
    el("ul", { class: "factors" }, ...post.factors.map((factor) =>
      el("li", {}, el("b", {}, `+${factor.points.toFixed(1)} ${factor.name}`), " ", factor.detail)))));
  const events = el("ol", { class: "events" }, ...detail.events.map((event) =>
    el("li", {}, `${when(event.at_ms)} · ${event.actor} · ${event.kind}`)));
  $("#detail").replaceChildren(
    el("h2", {}, `Task #${task.id} · ${task.brand}`),
    el("p", {}, el("span", { class: `badge ${task.priority}` }, task.priority),
      ` ${task.status} · criticality ${task.criticality.toFixed(0)} · due ${when(task.due_at_ms)} (${slaLeft(task)})`),
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
    el("td", {}, when(s.last_success_at_ms)),
    el("td", { class: s.last_error ? "error" : "" }, s.last_error ? `${s.last_error} (${s.consecutive_failures}×)` : "–"),
    el("td", {}, s.last_poll_new ?? "–"), el("td", {}, s.total_new))));
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
    if (view === "queue") await loadTasks();
    if (view === "sources") await loadSources();
    if (view === "quarantine") await loadQuarantine();
  } catch (error) {
    $("#stats").textContent = `Cannot reach earshot: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => {
      view = button.dataset.view;
      document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b === button));
      for (const name of ["queue", "sources", "quarantine"]) $(`#${name}-view`).hidden = name !== view;
      refresh();
    });
  }
  $("#filters").addEventListener("change", () => loadTasks());
  await loadBrands().catch(() => {});
  await refresh();
  setInterval(refresh, 15000);
});
