// The people switcher: everyone in the sandbox, who "I" am in this tab, and creating someone.

import { api } from "./api.js";

// Telegram languages to choose from: the bot's catalogs and every other EU language, plus the
// neighbours the bot serves. The bot answers unknown ones in its default language.
export const LANGUAGES = [
  ["en", "English"], ["fr", "Français"], ["de", "Deutsch"], ["bg", "Български"],
  ["hr", "Hrvatski"], ["cs", "Čeština"], ["da", "Dansk"], ["nl", "Nederlands"],
  ["et", "Eesti"], ["fi", "Suomi"], ["el", "Ελληνικά"], ["hu", "Magyar"], ["ga", "Gaeilge"],
  ["it", "Italiano"], ["lv", "Latviešu"], ["lt", "Lietuvių"], ["lb", "Lëtzebuergesch"],
  ["mt", "Malti"], ["pl", "Polski"], ["pt", "Português"], ["ro", "Română"],
  ["sk", "Slovenčina"], ["sl", "Slovenščina"], ["es", "Español"], ["sv", "Svenska"],
  ["sq", "Shqip"], ["mk", "Македонски"], ["sr", "Српски"], ["sr-Latn", "Srpski (latinica)"],
  ["bs", "Bosanski"], ["uk", "Українська"], ["tr", "Türkçe"], ["ka", "ქართული"],
  ["nb", "Norsk bokmål"], ["nn", "Norsk nynorsk"], ["is", "Íslenska"],
];

const ROLE_BADGES = { municipality: "🏛", organisation: "💼", volunteer: "🤝" };

function initials(name) {
  const words = name.replace(/^Demo · /, "").split(/\s+/).filter((w) => /\p{L}/u.test(w));
  const ends = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return ends.map((w) => w.match(/\p{L}/u)[0].toUpperCase()).join("") || "?";
}

function colour(id) {
  const hues = [12, 38, 140, 200, 262, 320, 90];
  return `hsl(${hues[id % hues.length]} 55% 52%)`;
}

export class People {
  constructor({ onBecome }) {
    this.list = document.getElementById("people-list");
    this.onBecome = onBecome;
    this.people = [];
    this.demo = { people: [], bot_languages: [] };
    this.unread = new Map();
    this.current = null;
    this.form = document.getElementById("new-person-form");
    this.wireForm();
  }

  wireForm() {
    const select = document.getElementById("new-language");
    for (const [code, name] of LANGUAGES) {
      select.appendChild(new Option(`${name} (${code})`, code));
    }
    document.getElementById("new-person").addEventListener("click", () => {
      this.form.hidden = !this.form.hidden;
      if (!this.form.hidden) document.getElementById("new-name").focus();
    });
    document.getElementById("new-person-cancel").addEventListener("click", () => { this.form.hidden = true; });
    this.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = document.getElementById("new-name").value.trim();
      if (!name) return;
      const created = await api.createUser(name, select.value);
      this.form.hidden = true;
      this.form.reset();
      await this.load();
      this.become(created.id);
    });
  }

  // Mark the languages the bot has catalogs for, once the demo status tells which.
  markBotLanguages(codes) {
    // The bot names a catalog as Babel does (sr_Latn), Telegram as BCP 47 does (sr-Latn).
    const tag = (code) => code.replace("_", "-").toLowerCase();
    const spoken = codes.map(tag);
    for (const option of document.getElementById("new-language").options) {
      const known = spoken.includes(tag(option.value));
      option.textContent = option.textContent.replace(/ · the bot speaks it$/, "") + (known ? " · the bot speaks it" : "");
    }
  }

  async load() {
    this.people = await api.users();
    this.render();
    return this.people;
  }

  setDemo(demo) {
    this.demo = demo;
    this.markBotLanguages(demo.bot_languages || []);
    this.render();
  }

  find(id) {
    return this.people.find((p) => p.id === id) || null;
  }

  become(id) {
    this.current = id;
    this.unread.delete(id);
    this.render();
    this.onBecome(this.find(id));
  }

  noteUnread(id) {
    if (id === this.current) return;
    this.unread.set(id, (this.unread.get(id) || 0) + 1);
    this.render();
  }

  render() {
    const roles = new Map(this.demo.people.map((p) => [p.id, p]));
    const items = this.people.map((person) => {
      const item = document.createElement("li");
      item.className = "person" + (person.id === this.current ? " current" : "");
      item.dataset.userId = String(person.id);
      const button = document.createElement("button");
      button.type = "button";
      const avatar = document.createElement("span");
      avatar.className = "avatar";
      avatar.style.background = colour(person.id);
      avatar.textContent = initials(person.first_name);
      const name = document.createElement("span");
      name.className = "person-name";
      name.textContent = person.first_name;
      const detail = document.createElement("span");
      detail.className = "person-detail muted";
      const demo = roles.get(person.id);
      detail.textContent = [person.language_code, demo && ROLE_BADGES[demo.role],
        demo?.admin && "admin", demo && !demo.ready && "setting up…"].filter(Boolean).join(" · ");
      button.append(avatar, name, detail);
      const count = this.unread.get(person.id);
      if (count) {
        const badge = document.createElement("span");
        badge.className = "unread";
        badge.textContent = String(count);
        button.appendChild(badge);
      }
      button.addEventListener("click", () => this.become(person.id));
      item.appendChild(button);
      return item;
    });
    this.list.replaceChildren(...items);
  }
}
