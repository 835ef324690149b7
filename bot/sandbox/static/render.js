// Messages as DOM: text with its entities (bold, links, code...), photos, locations,
// contacts and inline keyboards. Everything a person or the bot wrote goes into text nodes;
// no HTML string is ever parsed, so HTML typed into a listing stays text.

const SAFE_LINK = /^(https?:|tg:|mailto:)/i;

// Only absolute http(s), tg and mailto links become links; anything else stays text.
function safeHref(url) {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return null;
  try {
    const parsed = new URL(url);
    return SAFE_LINK.test(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function link(href, actions) {
  const a = document.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.addEventListener("click", (event) => {
    if (href.startsWith("tg:")) event.preventDefault();  // no Telegram app here
    else if (actions?.confirmLink && !actions.confirmLink(href)) event.preventDefault();
  });
  return a;
}

// The element for one entity. `covered` is the whole text the entity covers (for URLs).
function entityElement(entity, covered, actions) {
  const make = (tag, className) => {
    const element = document.createElement(tag);
    if (className) element.className = className;
    return element;
  };
  switch (entity.type) {
    case "bold": return make("b");
    case "italic": return make("i");
    case "underline": return make("u");
    case "strikethrough": return make("s");
    case "code": return make("code");
    case "pre": return make("pre");
    case "blockquote": return make("blockquote");
    case "expandable_blockquote": {
      const quote = make("blockquote", "expandable");
      quote.addEventListener("click", () => quote.classList.toggle("expanded"));
      return quote;
    }
    case "spoiler": {
      const spoiler = make("span", "spoiler");
      spoiler.addEventListener("click", () => spoiler.classList.add("revealed"));
      return spoiler;
    }
    case "text_link": {
      const href = safeHref(entity.url || "");
      return href ? link(href, actions) : make("span", "link-refused");
    }
    case "url": {
      const href = safeHref(/^[a-z]+:/i.test(covered) ? covered : `http://${covered}`);
      return href ? link(href, actions) : make("span");
    }
    case "email": {
      const href = safeHref(`mailto:${covered}`);
      return href ? link(href, actions) : make("span");
    }
    case "bot_command": {
      const command = make("span", "command");
      command.tabIndex = 0;
      command.setAttribute("role", "button");
      command.addEventListener("click", () => actions?.command?.(covered));
      return command;
    }
    case "mention": case "text_mention": return make("span", "mention");
    case "hashtag": case "cashtag": return make("span", "hashtag");
    default: return make("span", `entity-${String(entity.type).replace(/[^a-z_]/g, "")}`);
  }
}

// Text + entities → a fragment. Offsets are UTF-16 code units, like JavaScript strings.
// Entities nest; one that ends inside another is closed and reopened around the rest.
export function renderText(text, entities, actions) {
  const root = document.createDocumentFragment();
  const spans = (entities || [])
    .filter((e) => e.length > 0 && e.offset >= 0 && e.offset + e.length <= text.length)
    .map((e) => ({ entity: e, start: e.offset, end: e.offset + e.length }))
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const points = [...new Set([0, text.length, ...spans.flatMap((s) => [s.start, s.end])])]
    .sort((a, b) => a - b);
  const stack = [];  // [{span, element}]
  const parent = () => (stack.length ? stack[stack.length - 1].element : root);
  const open = (span) => {
    const covered = text.slice(span.entity.offset, span.entity.offset + span.entity.length);
    const element = entityElement(span.entity, covered, actions);
    parent().appendChild(element);
    stack.push({ span, element });
  };
  for (let i = 0; i < points.length; i += 1) {
    const at = points[i];
    if (stack.some((item) => item.span.end === at)) {
      const reopen = [];
      while (stack.some((item) => item.span.end === at)) {
        const item = stack.pop();
        if (item.span.end !== at) reopen.push(item.span);
      }
      reopen.reverse().forEach(open);
    }
    spans.filter((s) => s.start === at).forEach(open);
    const next = points[i + 1];
    if (next !== undefined && next > at) parent().appendChild(document.createTextNode(text.slice(at, next)));
  }
  return root;
}

function timeOf(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function inlineKeyboard(message, actions) {
  const rows = message.reply_markup?.inline_keyboard;
  if (!rows?.length) return null;
  const keyboard = node("div", "inline-keyboard");
  for (const row of rows) {
    const line = node("div", "keyboard-row");
    for (const button of row) {
      const key = node("button", "inline-button", button.text);
      key.type = "button";
      if (button.callback_data !== undefined) {
        key.addEventListener("click", () => actions.press(message.id, button));
      } else if (button.url && safeHref(button.url)) {
        key.classList.add("url-button");
        key.title = button.url;
        key.addEventListener("click", () => window.open(safeHref(button.url), "_blank", "noopener,noreferrer"));
      } else if (button.copy_text) {
        key.addEventListener("click", () => actions.copy(button.copy_text.text));
      } else {
        key.disabled = true;
        key.title = "This kind of button needs a Telegram app";
      }
      line.appendChild(key);
    }
    keyboard.appendChild(line);
  }
  return keyboard;
}

function attachments(message, bubble, actions) {
  if (message.photo?.length) {
    const img = node("img", "photo");
    img.alt = message.caption || "photo";
    img.loading = "lazy";
    img.src = actions.fileUrl(message.photo[message.photo.length - 1]);
    bubble.appendChild(img);
  }
  if (message.document) {
    const doc = node("a", "document", `📄 ${message.document.file_name || "file"}`);
    doc.href = actions.fileUrl(message.document.file_id);
    doc.download = message.document.file_name || "file";
    bubble.appendChild(doc);
  }
  if (message.location) {
    const { latitude, longitude } = message.location;
    const place = actions.placeName?.(latitude, longitude);
    const card = node("div", "location-card", `📍 ${place ? `${place} · ` : ""}${latitude.toFixed(4)}, ${longitude.toFixed(4)}`);
    bubble.appendChild(card);
  }
  if (message.contact) {
    const c = message.contact;
    bubble.appendChild(node("div", "contact-card", `👤 ${[c.first_name, c.last_name].filter(Boolean).join(" ")} · ${c.phone_number}`));
  }
}

// One message: bubble (attachments, text, time, "edited") and its inline keyboard.
export function renderMessage(message, actions) {
  const wrapper = node("div", `message ${message.from_bot ? "from-bot" : "from-me"}`);
  wrapper.dataset.id = String(message.id);
  fillMessage(wrapper, message, actions);
  return wrapper;
}

// (Re)fill an existing message element in place: edits keep the element and its position.
export function fillMessage(wrapper, message, actions) {
  const bubble = node("div", "bubble");
  attachments(message, bubble, actions);
  const shown = message.text ?? message.caption ?? "";
  const entities = message.text != null ? message.entities : message.caption_entities;
  if (shown) {
    const text = node("div", "text");
    text.appendChild(renderText(shown, entities, actions));
    bubble.appendChild(text);
  }
  const meta = node("div", "meta");
  if (message.edit_date) meta.appendChild(node("span", "edited", "edited"));
  meta.appendChild(node("time", "", timeOf(message.edit_date || message.date)));
  bubble.appendChild(meta);
  const keyboard = inlineKeyboard(message, actions);
  wrapper.replaceChildren(...[bubble, keyboard].filter(Boolean));
  wrapper.classList.toggle("edited", Boolean(message.edit_date));
}
