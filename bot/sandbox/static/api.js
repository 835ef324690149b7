// The sandbox user API (/sandbox/api/...), as used by the web chat. No token involved: the
// page acts as people, never as the bot.

const PREFIX = "/sandbox/api";
// Which bot the people talk to: ?bot=<username> in the page's address, else the first one.
export const BOT = new URLSearchParams(window.location.search).get("bot");

export class ApiError extends Error {}

async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body instanceof FormData) {
    options.body = body;  // multipart: the browser sets the boundary
  } else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(PREFIX + path, options);
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new ApiError(`${response.status} ${response.statusText}`);
  }
  if (!answer.ok) throw new ApiError(answer.error || `HTTP ${response.status}`);
  return answer;
}

const get = (path) => call("GET", path);
const post = (path, body) => call("POST", path, body ?? {});
const withBot = (path) => (BOT ? `${path}?bot=${encodeURIComponent(BOT)}` : path);
const user = (id, action) => withBot(`/users/${encodeURIComponent(id)}/${action}`);

export const api = {
  bots: async () => (await get("/bots")).result,
  users: async () => (await get("/users")).result,
  createUser: async (firstName, languageCode) => (await post("/users", {
    first_name: firstName, language_code: languageCode, ...(BOT ? { bot: BOT } : {}),
  })).result,
  chat: async (id) => (await get(user(id, "chat"))).result,
  sendText: (id, text) => post(user(id, "send_text"), { text }),
  sendLocation: (id, latitude, longitude) => post(user(id, "send_location"), { latitude, longitude }),
  sendPhoto: (id, file, caption) => {
    const form = new FormData();
    form.append("photo", file, file.name || "photo");
    if (caption) form.append("caption", caption);
    return post(user(id, "send_photo"), form);
  },
  pressData: (id, messageId, data) => post(user(id, "press_data"), { message_id: messageId, data }),
  tapReplyButton: (id, label, location) => post(user(id, "tap_reply_button"), {
    label, latitude: location?.latitude, longitude: location?.longitude,
  }),
  demo: async () => (await get("/demo")).result,
  resetDemo: async () => (await post("/demo/reset")).result,
  fileUrl: (fileId) => `${PREFIX}/files/${encodeURIComponent(fileId)}`,
  events: () => new EventSource(`${PREFIX}/events`),
};
