"""A local Telegram Bot API server (a Telegram emulator) for tests, demos and benchmarks.

The real python-telegram-bot client talks to it over HTTP::

    server = BotApiServer(port=0)          # 127.0.0.1 only, port 0 = any free port
    await server.start()
    server.add_bot(token, "community_sharing_bot", "Community Sharing")
    app = (Application.builder().token(token)
           .base_url(server.base_url).base_file_url(server.base_file_url).build())
    marie = server.create_user("Marie", language_code="fr")
    await marie.send_text("/start")
    reply = await marie.wait_for_bot_message()

It answers as Telegram does, no stricter: parameters are read the way the Bot API server reads
them and errors use its words (found in telegram-bot-api's and tdlib's sources). Two opt-in lints,
``strict_params`` and ``strict_html``, hold a bot to the documentation where Telegram is lenient.

Layout: :mod:`.server` (aiohttp routes, call pipeline, controls), :mod:`.params` (parameters
read as Telegram reads them), :mod:`.spec` (the Bot API spec and the ``strict_params`` lint),
:mod:`.tgjson` (fields of JSON parameters), :mod:`.html` / :mod:`.markdown` / :mod:`.entities`
(formatting), :mod:`.autodetect` (links, commands, mentions... Telegram marks by itself),
:mod:`.content` (text and caption rules, link previews), :mod:`.markup` (reply markup),
:mod:`.state` (people, bots, chats, messages, files), :mod:`.api_messages` /
:mod:`.api_bot` / :mod:`.api_updates` (the implemented methods), :mod:`.updates` and
:mod:`.webhook` (delivery), :mod:`.ratelimit`,
:mod:`.faults`, :mod:`.users` (the user side in Python), :mod:`.chatview` (messages as
people see them) and :mod:`.user_http` (the user side and the controls over HTTP);
:mod:`.webchat` serves the browser chat (``/chat``, files in ``static/``) and :mod:`.demo`
seeds the demo world through the user side;
:mod:`.registry`, :mod:`.records`, :mod:`.wire`, :mod:`.signals`, :mod:`.media` and
:mod:`.errors` are the plumbing. ``python -m bot.sandbox`` runs it standalone.
"""

from .chatview import CallbackAnswer, ChatMessage
from .errors import ApiError, SandboxUserError
from .records import CallRecord
from .server import BotApiServer, running_server, start_server
from .users import SandboxUser

__all__ = [
    "ApiError",
    "BotApiServer",
    "CallRecord",
    "CallbackAnswer",
    "ChatMessage",
    "SandboxUser",
    "SandboxUserError",
    "running_server",
    "start_server",
]
