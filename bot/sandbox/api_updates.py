"""Bot API methods that deliver updates: getUpdates and the webhook methods."""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request, conflict
from .registry import CallContext, api_method
from .spec import load_spec
from .webhook import Webhook, is_loopback_url

MAX_POLL_TIMEOUT = 50
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_SECRET_LENGTH = 256


@api_method("getUpdates")
async def get_updates(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Long polling: hold the request up to ``timeout`` s until an update arrives."""
    if ctx.bot.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first"
        )
    _set_allowed_updates(ctx, p.get("allowed_updates"))
    limit = min(100, max(1, p.get("limit", 100)))
    timeout = min(MAX_POLL_TIMEOUT, max(0, p.get("timeout", 0)))
    return await ctx.bot.updates.poll(p.get("offset"), limit, timeout)


def _set_allowed_updates(ctx: CallContext, value: Any) -> None:
    """Keep the update types a bot asked for; like Telegram, ignore a value that is not an array
    of strings and names it does not know (none known: the default types)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return
    known = set(load_spec().types["Update"].fields) - {"update_id"}
    ctx.bot.updates.allowed_updates = [item.lower() for item in value if item.lower() in known]


@api_method("setWebhook")
async def set_webhook(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Deliver updates by POSTing them to a loopback URL (an empty URL removes the webhook)."""
    url = p.get("url")
    if not url:  # Telegram: setWebhook without a URL removes the webhook
        return await delete_webhook(ctx, p)
    if not is_loopback_url(url):
        raise bad_request("bad webhook: the sandbox only delivers to loopback http(s) URLs")
    secret = p.get("secret_token")
    if secret is not None and len(secret) > MAX_SECRET_LENGTH:
        raise bad_request("secret token is too long")
    if secret is not None and not SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = min(100, max(1, p.get("max_connections", 40)))  # clamped, as by Telegram
    await _stop_webhook(ctx)
    ctx.bot.updates.terminate_poll("terminated by setWebhook request")
    if p.get("drop_pending_updates"):
        ctx.bot.updates.drop_all()
    _set_allowed_updates(ctx, p.get("allowed_updates"))
    webhook = Webhook(
        url=url,
        queue=ctx.bot.updates,
        secret_token=secret,
        max_connections=max_connections,
        allowed_updates=ctx.bot.updates.allowed_updates,
        ip_address=p.get("ip_address"),
        retry_delays=ctx.server.webhook_retry_delays,
        on_reply=lambda method, params, uploads: ctx.server.run_webhook_reply(
            ctx.bot, method, params, uploads
        ),
        wall_clock=ctx.state.wall_clock,
    )
    ctx.bot.webhook = webhook
    webhook.start()
    return True


async def _stop_webhook(ctx: CallContext) -> None:
    webhook, ctx.bot.webhook = ctx.bot.webhook, None
    if webhook is not None:
        await webhook.stop()


@api_method("deleteWebhook")
async def delete_webhook(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Stop webhook delivery (getUpdates works again)."""
    await _stop_webhook(ctx)
    if p.get("drop_pending_updates"):
        ctx.bot.updates.drop_all()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(ctx: CallContext, p: dict[str, Any]) -> Any:
    """WebhookInfo: URL, pending update count and the last delivery error."""
    if ctx.bot.webhook is not None:
        return ctx.bot.webhook.info()
    return {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": ctx.bot.updates.pending_count,
    }
