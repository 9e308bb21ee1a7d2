// The demo page: renders the server's snapshots (server-sent events) and posts each move.
// Everything people typed is put on the page as text (textContent), never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const rendered = {};  // region id -> the JSON it shows, so unchanged regions are left alone
let state = null;
let chosen = null;  // {group, thread} the person picked; null: follow the newest topic

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function say(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

async function post(path, body) {
  const options = { method: "POST" };
  if (body instanceof FormData) {
    options.body = body;
  } else {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  try {
    const response = await fetch(path, options);
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      say(answer.error || `The demo answered ${response.status}.`, true);
      return false;
    }
    say("");
    return true;
  } catch (error) {
    say("The demo is not answering: is it still running?", true);
    return false;
  }
}

// ---------------------------------------------------------------- text with entities

const TAGS = {
  bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  spoiler: "span", blockquote: "blockquote", expandable_blockquote: "blockquote",
};

function safeHref(href) {
  return /^https?:\/\//i.test(href || "") ? href : null;
}

function wrap(node, entity, text) {
  if (entity.type === "url" || entity.type === "text_link") {
    const href = safeHref(entity.type === "url"
      ? text.slice(entity.offset, entity.offset + entity.length) : entity.url);
    if (!href) return node;
    const link = el("a", { href, target: "_blank", rel: "noopener noreferrer" }, node);
    return link;
  }
  const tag = TAGS[entity.type];
  if (!tag) return node;
  const wrapper = el(tag, entity.type === "spoiler" ? { className: "spoiler" } : {}, node);
  return wrapper;
}

function rich(text, entities) {
  const box = el("div", { className: "text" });
  if (!entities || !entities.length) {
    box.textContent = text;
    return box;
  }
  const cuts = new Set([0, text.length]);
  for (const e of entities) {
    cuts.add(Math.min(text.length, e.offset));
    cuts.add(Math.min(text.length, e.offset + e.length));
  }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [start, end] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    for (const e of entities) {
      if (e.offset <= start && e.offset + e.length >= end) node = wrap(node, e, text);
    }
    box.append(node);
  }
  return box;
}

// ---------------------------------------------------------------- messages

function media(item) {
  if (!item) return null;
  if (!item.url) return el("p", { className: "file" }, `📎 ${item.name}`);
  if (item.kind === "photo" || item.kind === "picture") {
    const image = el("img", { src: item.url, alt: item.name, className: "photo" });
    image.addEventListener("load", () => {  // taller now: keep a chat that was at its end there
      const chat = image.closest(".chat");
      if (chat && chat.scrollHeight - chat.scrollTop - chat.clientHeight < image.height + 60) {
        chat.scrollTop = chat.scrollHeight;
      }
    });
    return image;
  }
  return el("a", { href: item.url, className: "file", target: "_blank", rel: "noopener" },
    `📎 ${item.name}`);
}

function message(m, press) {
  const item = el("li", { className: `msg ${m.side}` });
  item.dataset.id = m.id;
  if (m.service) {
    item.className = "msg service";
    item.textContent = m.service;
    return item;
  }
  if (m.sender && m.side !== "mine") item.append(el("p", { className: "sender" }, m.sender));
  if (m.reply_to) item.append(el("p", { className: "quote" }, m.reply_to));
  item.append(media(m.media) || "");
  if (m.text) item.append(rich(m.text, m.entities));
  const meta = [];
  if (m.pressed) meta.push("pressed a button");
  if (m.edited) meta.push("edited");
  if (m.by_bot) meta.push("sent by the bot for the account");
  if (m.read) meta.push("read ✓✓");
  if (m.failed) meta.push("not delivered");
  if (m.reactions && m.reactions.length) meta.push(m.reactions.join(" "));
  if (meta.length) item.append(el("p", { className: "meta" }, meta.join(" · ")));
  if (m.buttons && m.buttons.length) {
    const rows = el("div", { className: "buttons" });
    for (const row of m.buttons) {
      const line = el("div", { className: "row" });
      for (const b of row) {
        if (b.url) {
          const href = safeHref(b.url);
          line.append(href
            ? el("a", { href, target: "_blank", rel: "noopener", className: "button" }, b.text)
            : el("span", { className: "button" }, b.text));
        } else {
          const button = el("button", { type: "button" }, b.text);
          button.dataset.key = `${m.id}:${b.data}`;
          button.addEventListener("click", () => press(m.id, b.data));
          line.append(button);
        }
      }
      rows.append(line);
    }
    item.append(rows);
  }
  return item;
}

// Replace a region's content only when what it shows changed; keep the keyboard focus on
// the same button and the chat scrolled to the end when it was there.
function region(id, data, build) {
  const json = JSON.stringify(data);
  if (rendered[id] === json) return;
  rendered[id] = json;
  const node = $(id);
  const focused = node.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  const atEnd = node.scrollHeight - node.scrollTop - node.clientHeight < 40;
  node.replaceChildren(...build(data));
  if (focused) {
    const again = [...node.querySelectorAll("[data-key]")].find((b) => b.dataset.key === focused);
    if (again) again.focus();
  }
  if (node.classList.contains("chat") && (atEnd || !rendered[`${id}:seen`])) {
    node.scrollTop = node.scrollHeight;
  }
  rendered[`${id}:seen`] = "1";
}

// ---------------------------------------------------------------- panes

// The answer to a pressed button shows for a while, as Telegram's toast does.
function notice(id, text) {
  if (rendered[id] === (text || "")) return;
  rendered[id] = text || "";
  const node = $(id);
  node.textContent = text || "";
  clearTimeout(node.timer);
  if (text) node.timer = setTimeout(() => { node.textContent = ""; }, 8000);
}

function renderTelegram(telegram) {
  $("telegram-who").textContent = telegram.customer;
  region("telegram-chat", telegram.messages, (messages) => {
    if (!messages.length) {
      const start = el("button", { type: "button", id: "telegram-start" }, "Start");
      start.dataset.key = "start";
      start.addEventListener("click", () => post("/api/telegram/message", { text: "/start" }));
      return [el("li", { className: "empty" }, "No messages yet. ", start)];
    }
    const press = (id, data) => post("/api/telegram/press", { message_id: id, data });
    return messages.map((m) => message(m, press));
  });
  notice("telegram-notice", telegram.notice);
  unread("bot", telegram.messages.length);
}

function renderBusiness(business) {
  $("business-who").textContent = business.customer;
  $("business-account").textContent = business.account;
  region("business-chat", business.messages, (messages) => {
    if (!messages.length) {
      return [el("li", { className: "empty" }, "No messages yet: write to the account below.")];
    }
    const press = (id, data) => post("/api/business/press", { message_id: id, data });
    return messages.map((m) => message(m, press));
  });
  notice("business-notice", business.notice);
  unread("business", business.messages.length);
}

// ---------------------------------------------------------------- the Telegram pane's tabs

const seen = {};  // tab -> how many messages its chat had when it was last shown

// A hidden chat that got new messages says so on its tab.
function unread(name, count) {
  const tab = $(`tab-${name}`);
  const selected = tab.getAttribute("aria-selected") === "true";
  if (selected || seen[name] === undefined || count < seen[name]) {
    seen[name] = count;
  }
  const fresh = count > seen[name];
  tab.classList.toggle("unread", fresh);
  tab.querySelector(".badge")?.remove();
  if (fresh) tab.append(el("span", { className: "badge" }, " (new)"));
}

function showTab(name) {
  for (const tab of document.querySelectorAll("#telegram [role=tab]")) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", selected ? "true" : "false");
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
  }
  const chat = $(name === "bot" ? "telegram-chat" : "business-chat");
  chat.scrollTop = chat.scrollHeight;
  if (state && state.ready) render(state);
}

function setupTabs() {
  const tabs = [...document.querySelectorAll("#telegram [role=tab]")];
  tabs.forEach((tab, i) => {
    const name = tab.id.replace("tab-", "");
    tab.addEventListener("click", () => showTab(name));
    tab.addEventListener("keydown", (event) => {  // arrows, Home and End move between tabs
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
      showTab(next.id.replace("tab-", ""));
      next.focus();
    });
  });
}

function renderViber(viber) {
  $("viber-who").textContent = viber.customer;
  region("viber-chat", viber.messages, (messages) => messages.map((m) => message(
    { ...m, sender: m.side === "bot" ? viber.bot : null }, null)));
  region("viber-keyboard", viber.keyboard, (buttons) => buttons.map((b, i) => {
    let node;
    if (b.url) {
      node = el("a", { href: safeHref(b.body) || "#", target: "_blank", rel: "noopener",
        className: "button" }, b.text);
    } else {
      node = el("button", { type: "button" }, b.text);
      node.addEventListener("click", () => post("/api/viber/press", { body: b.body }));
    }
    node.dataset.key = `${i}:${b.text}`;
    node.style.gridColumn = `span ${Math.max(1, Math.min(6, b.columns))}`;
    return node;
  }));
}

function currentGroup(operators) {
  const groupId = chosen ? chosen.group : Number($("group").value || operators.groups[0].id);
  return operators.groups.find((g) => g.id === groupId) || operators.groups[0];
}

function currentTopic(group) {
  if (chosen && chosen.group === group.id) {
    const found = group.topics.find((t) => t.id === chosen.thread);
    if (found) return found;
  }
  // follow the newest customer topic until the person picks one (General is listed first)
  return group.topics[1] || group.topics[0];
}

function renderOperators(operators) {
  $("operator-who").textContent = `· you are ${operators.operator}`;
  const choice = $("group-choice");
  choice.hidden = operators.groups.length < 2;
  region("group", operators.groups.map((g) => [g.id, g.title]), (groups) => groups.map(
    ([id, title]) => el("option", { value: String(id) }, title)));
  const group = currentGroup(operators);
  $("group").value = String(group.id);
  const topic = currentTopic(group);
  region("topics", group.topics.map((t) => [t.id, t.name, t.color, t.closed, t.id === topic.id]),
    (topics) => topics.map(([id, name, color, closed, selected]) => {
      const button = el("button", { type: "button" },
        el("span", { className: "dot", ariaHidden: "true" }), name,
        closed ? el("small", {}, " (closed)") : null);
      button.querySelector(".dot").style.background = color;
      button.dataset.thread = id;
      button.dataset.key = `topic:${id}`;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
      button.addEventListener("click", () => {
        chosen = { group: group.id, thread: id };
        render(state);
      });
      return el("li", {}, button);
    }));
  $("topic-title").textContent = topic.name + (topic.closed ? " (closed)" : "");
  $("operator-form").dataset.thread = topic.id;
  $("operator-form").dataset.group = group.id;
  const press = (id, data) => post("/api/operator/press", { group: group.id, message_id: id, data });
  region("topic-chat", [group.id, topic.id, topic.messages], ([, , messages]) => messages.length
    ? messages.map((m) => message(m, press))
    : [el("li", { className: "empty" }, topic.id ? "No messages." : "Alerts, /stats and /queue answers land here.")]);
  notice("operator-notice", operators.notice);
  region("commands", operators.commands, (commands) => commands.map((c) => {
    const button = el("button", { type: "button", title: c.description }, c.command.trim());
    button.dataset.key = `command:${c.command}`;
    button.addEventListener("click", () => {
      const box = $("operator-text");
      box.value = c.command;
      box.focus();
    });
    return button;
  }));
  region("operator-commands", operators.commands, (commands) => commands.map(
    (c) => el("option", { value: c.command.trim() }, c.description)));
}

function renderClock(clock) {
  $("clock-now").textContent = `${clock.local} (${clock.zone})`;
  const open = $("clock-open");
  open.textContent = clock.open ? "open: operators at work" : "closed: offline replies";
  open.className = clock.open ? "open" : "closed";
  $("clock-hours").textContent = `Working hours: ${clock.hours}`;
}

function render(snapshot) {
  state = snapshot;
  if (!snapshot || !snapshot.ready) return;
  renderClock(snapshot.clock);
  renderTelegram(snapshot.telegram);
  renderBusiness(snapshot.business);
  renderViber(snapshot.viber);
  renderOperators(snapshot.operators);
  document.body.dataset.ready = "yes";
}

// ---------------------------------------------------------------- forms

function onSubmit(id, send) {
  $(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    await send(event.currentTarget);
  });
}

function textForm(formId, inputId, path, extra) {
  onSubmit(formId, async (form) => {
    const box = $(inputId);
    if (!box.value.trim()) return;
    if (await post(path, { text: box.value, ...(extra ? extra(form) : {}) })) box.value = "";
  });
}

function fileForm(formId, inputId, path) {
  onSubmit(formId, async () => {
    const input = $(inputId);
    if (!input.files.length) {
      say("Choose a file first.", true);
      return;
    }
    const data = new FormData();
    data.append("file", input.files[0]);
    if (await post(path, data)) input.value = "";
  });
}

function setup() {
  textForm("telegram-form", "telegram-text", "/api/telegram/message");
  textForm("viber-form", "viber-text", "/api/viber/message");
  textForm("operator-form", "operator-text", "/api/operator/message", (form) => ({
    group: Number(form.dataset.group),
    thread: Number(form.dataset.thread) || null,
  }));
  fileForm("telegram-upload", "telegram-file", "/api/telegram/file");
  fileForm("viber-upload", "viber-file", "/api/viber/file");
  textForm("business-form", "business-text", "/api/business/message");
  fileForm("business-upload", "business-file", "/api/business/file");
  textForm("owner-form", "owner-text", "/api/business/owner");
  setupTabs();
  for (const button of document.querySelectorAll(".new-customer")) {
    button.addEventListener("click", async () => {
      if (await post(`/api/${button.dataset.channel}/new-customer`, {})) {
        say("A new customer: their first message opens a new topic.");
      }
    });
  }
  for (const button of document.querySelectorAll("#clock [data-minutes]")) {
    button.addEventListener("click", () => post("/api/clock", { minutes: Number(button.dataset.minutes) }));
  }
  onSubmit("clock-jump", () => post("/api/clock", {
    weekday: $("jump-day").value, time: $("jump-time").value,
  }));
  $("group").addEventListener("change", () => {
    chosen = { group: Number($("group").value), thread: null };
    render(state);
  });
  const events = new EventSource("/events");
  events.addEventListener("state", (event) => {
    if ($("status").dataset.lost) {
      delete $("status").dataset.lost;
      say("");
    }
    render(JSON.parse(event.data));
  });
  events.addEventListener("error", () => {
    $("status").dataset.lost = "yes";
    say("Lost the connection to the demo; trying again…", true);
  });
}

document.addEventListener("DOMContentLoaded", setup);
