// The web chat: talk to the bot as any person of the sandbox. The chat is read from the user
// API and kept current by the server-sent event stream; every change is applied in place
// (new messages appended, edits re-rendered in the same element, deletions removed).

import { api, BOT } from "./api.js";
import { locationPicker, placeName } from "./location.js";
import { People } from "./people.js";
import { fillMessage, renderMessage } from "./render.js";

const $ = (id) => document.getElementById(id);
const messagesBox = $("messages");
const picker = locationPicker();

const state = {
  me: null,           // the person this tab talks as
  rendered: new Map(), // message id → {element, signature}
  seenAnswers: new Set(),
  chat: null,
  keyboardHidden: false,
  generation: null,
  bot: null,          // the bot's username (events of other bots are ignored)
};

// --- feedback --------------------------------------------------------------------------------

let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

function showAlert(text) {
  $("alert-text").textContent = text;
  $("alert-dialog").showModal();
}

async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    toast(`⚠ ${error.message}`);
    return null;
  }
}

let typingTimer = null;
function setStatus(text) {
  $("chat-status").textContent = text;
}
function showTyping() {
  setStatus("typing…");
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => setStatus("bot"), 5000);
}

// --- what the buttons do -----------------------------------------------------------------------

const actions = {
  fileUrl: api.fileUrl,
  placeName,
  press: (messageId, button) => attempt(async () => {
    const key = messagesBox.querySelector(`.message[data-id="${messageId}"]`);
    key?.classList.add("pending");
    await api.pressData(state.me.id, messageId, button.callback_data);
  }),
  command: (command) => send(() => api.sendText(state.me.id, command)),
  copy: (text) => attempt(async () => {
    await navigator.clipboard.writeText(text);
    toast("Copied");
  }),
  confirmLink: () => true,
};

async function send(action) {
  if (!state.me) {
    toast("Choose or create a person first");
    return;
  }
  $("commands-menu").hidden = true;
  await attempt(action);
}

// --- the chat ----------------------------------------------------------------------------------

function clearChat() {
  state.rendered.clear();
  state.seenAnswers.clear();
  state.chat = null;
  messagesBox.replaceChildren();
  $("reply-keyboard").hidden = true;
  $("keyboard-toggle").hidden = true;
}

function applyMessages(messages) {
  const present = new Set();
  let added = false;
  for (const message of messages) {
    present.add(message.id);
    const signature = JSON.stringify(message);
    const known = state.rendered.get(message.id);
    if (known) {
      if (known.signature !== signature) {
        fillMessage(known.element, message, actions);  // an edit: same element, same place
        known.signature = signature;
      }
      known.element.classList.remove("pending");
      continue;
    }
    const element = renderMessage(message, actions);
    const later = [...state.rendered.keys()].filter((id) => id > message.id).sort((a, b) => a - b)[0];
    messagesBox.insertBefore(element, later ? state.rendered.get(later).element : null);
    state.rendered.set(message.id, { element, signature });
    added = true;
  }
  for (const [id, { element }] of state.rendered) {
    if (!present.has(id)) {  // deleted by the bot
      element.remove();
      state.rendered.delete(id);
    }
  }
  if (added) messagesBox.scrollTop = messagesBox.scrollHeight;
}

function applyReplyKeyboard(rows) {
  const box = $("reply-keyboard");
  $("keyboard-toggle").hidden = !rows;
  box.hidden = !rows || state.keyboardHidden;
  if (!rows) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(...rows.map((row) => {
    const line = document.createElement("div");
    line.className = "keyboard-row";
    for (const button of row) {
      const label = typeof button === "string" ? button : button.text;
      const key = document.createElement("button");
      key.type = "button";
      key.className = "reply-button";
      key.textContent = label;
      if (button.request_location) {
        key.addEventListener("click", () => picker.open((point) =>
          send(() => api.tapReplyButton(state.me.id, label, point))));
      } else if (button.request_users || button.request_chat || button.request_poll || button.web_app) {
        key.disabled = true;
        key.title = "This button needs a Telegram app";
      } else {
        key.addEventListener("click", () => send(() => api.tapReplyButton(state.me.id, label)));
      }
      line.appendChild(key);
    }
    return line;
  }));
}

function applyCommands(commands) {
  const menu = $("commands-menu");
  $("commands-button").hidden = !commands.length;
  menu.replaceChildren(...commands.map(({ command, description }) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const name = document.createElement("b");
    name.textContent = `/${command}`;
    const text = document.createElement("span");
    text.textContent = description;
    button.append(name, text);
    button.addEventListener("click", () => send(() => api.sendText(state.me.id, `/${command}`)));
    item.appendChild(button);
    return item;
  }));
}

function applyAnswers(answers, first) {
  for (const answer of answers) {
    if (state.seenAnswers.has(answer.callback_query_id)) continue;
    state.seenAnswers.add(answer.callback_query_id);
    if (first || !answer.text) continue;
    if (answer.show_alert) showAlert(answer.text);
    else toast(answer.text);
  }
}

async function refresh() {
  const me = state.me;
  if (!me) return;
  const chat = await attempt(() => api.chat(me.id));
  if (!chat || state.me !== me) return;
  const first = state.chat === null;
  state.chat = chat;
  applyMessages(chat.messages);
  applyReplyKeyboard(chat.reply_keyboard);
  applyCommands(chat.commands || []);
  applyAnswers(chat.callback_answers || [], first);
  $("start-button").hidden = chat.messages.length > 0;
  $("empty-chat").hidden = true;
  document.body.dataset.blocked = chat.blocked ? "yes" : "no";
}

let refreshing = null;
let again = false;
function scheduleRefresh() {
  if (refreshing) {
    again = true;  // coalesce bursts of events into one more fetch
    return;
  }
  refreshing = refresh().finally(() => {
    refreshing = null;
    if (again) {
      again = false;
      scheduleRefresh();
    }
  });
}

function become(person) {
  clearChat();
  state.me = person;
  document.body.classList.remove("people-open");
  $("me").textContent = person ? `${person.first_name} · ${person.language_code || "?"}` : "";
  $("empty-chat").hidden = Boolean(person);
  $("start-button").hidden = true;
  if (person) {
    window.history.replaceState(null, "", `#user=${person.id}`);
    localStorage.setItem("sandbox.me", String(person.id));
    scheduleRefresh();
  }
}

const people = new People({ onBecome: become });

// Someone new appeared (demo seeding creates several at once): read the list once for all.
let peopleTimer = null;
function loadPeopleSoon() {
  if (peopleTimer) return;
  peopleTimer = setTimeout(() => {
    peopleTimer = null;
    people.load();
  }, 250);
}

// --- live updates --------------------------------------------------------------------------------

function listen() {
  // From now on; after a reconnection the chat and the people are read again instead.
  const stream = api.events();
  stream.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.bot !== state.bot) return;  // another bot's chats
    if (!people.find(event.user_id)) loadPeopleSoon();
    if (state.me && event.user_id === state.me.id) {
      if (event.kind === "action") showTyping();
      else {
        if (event.from_bot && event.kind === "new") setStatus("bot");
        scheduleRefresh();
      }
    } else if (event.from_bot && event.kind === "new") {
      people.noteUnread(event.user_id);
    }
  };
  stream.onerror = () => setStatus("reconnecting…");
  stream.onopen = () => {
    setStatus("bot");
    people.load();
    scheduleRefresh();
  };
}

async function watchDemo() {
  const demo = await api.demo().catch(() => null);
  if (demo) {
    const status = {
      none: "", starting: "Demo world: starting…", seeding: "Demo world: people are signing up…",
      resetting: "Demo world: resetting…", ready: "Demo world ready.",
      partial: `Demo world: ${demo.problems.length} could not sign up.`,
    }[demo.status] ?? demo.status;
    $("demo-status").textContent = status;
    document.body.dataset.demo = demo.status;
    if (state.generation !== null && demo.generation !== state.generation) {
      become(null);  // a reset: everyone is new
      await people.load();
    }
    state.generation = demo.generation;
    people.setDemo(demo);
    if (demo.status === "seeding" || demo.status === "starting") await people.load();
  }
  const busy = !demo || ["starting", "seeding", "resetting"].includes(demo.status);
  setTimeout(watchDemo, busy ? 1000 : 5000);
}

// --- the composer ---------------------------------------------------------------------------------

function wireComposer() {
  const text = $("text");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = text.value.trim();
    if (!typed) return;
    text.value = "";
    send(() => api.sendText(state.me.id, typed));
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("attach-button").addEventListener("click", () => $("photo-input").click());
  $("photo-input").addEventListener("change", () => {
    const file = $("photo-input").files[0];
    $("photo-input").value = "";
    if (!file) return;
    const caption = text.value.trim();
    text.value = "";
    send(() => api.sendPhoto(state.me.id, file, caption));
  });
  $("location-button").addEventListener("click", () =>
    picker.open((point) => send(() => api.sendLocation(state.me.id, point.latitude, point.longitude))));
  $("start-button").addEventListener("click", () => send(() => api.sendText(state.me.id, "/start")));
  $("commands-button").addEventListener("click", () => { $("commands-menu").hidden = !$("commands-menu").hidden; });
  $("keyboard-toggle").addEventListener("click", () => {
    state.keyboardHidden = !state.keyboardHidden;
    applyReplyKeyboard(state.chat?.reply_keyboard ?? null);
  });
  $("show-people").addEventListener("click", () => document.body.classList.toggle("people-open"));
  const reset = $("reset-demo");
  let armed = null;
  reset.addEventListener("click", async () => {
    if (!armed) {
      reset.textContent = "Click again to reset";
      armed = setTimeout(() => { armed = null; reset.textContent = "Reset demo"; }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    reset.textContent = "Reset demo";
    await attempt(() => api.resetDemo());
  });
}

async function main() {
  wireComposer();
  const [bots] = await Promise.all([api.bots().catch(() => []), people.load()]);
  const bot = bots.find((b) => b.username === BOT?.replace(/^@/, "")) || bots[0];
  if (bot) {
    state.bot = bot.username;
    $("bot-name").textContent = bot.first_name;
  }
  const wanted = Number(new URLSearchParams(window.location.hash.slice(1)).get("user")
    || localStorage.getItem("sandbox.me"));
  if (people.find(wanted)) people.become(wanted);
  else become(null);
  listen();
  watchDemo();
}

main();
