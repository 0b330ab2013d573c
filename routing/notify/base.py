"""The notifier interface: a Notice, a Channel with ``send``/``is_noop``, and TransportError.

Each channel module is small and knows only its transport. Who gets what, retries across runs
and the delivery log live in ``routing.notify.outbox``; this module holds the one shared HTTP
helper with a bounded number of quick retries inside one attempt.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

log = logging.getLogger(__name__)

# Recipients are stored as "<kind>:<unit id>": the monitors at the coordinating unit, a unit's
# duty desk, or the unit's leader (escalations).
RECIPIENT_KINDS = ("monitors", "unit", "leader")


@dataclass(frozen=True)
class Notice:
    id: int  # the Notification row
    key: str  # idempotency key; receivers that dedupe can use it
    case_id: int | None
    channel: str
    recipient: str  # the address on this channel (email, phone, robot URL, "unit:3" ...)
    subject: str
    body: str
    link: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class TransportError(Exception):
    """A failed send. ``permanent``: retrying will not help. ``recipient_only``: the fault is
    this recipient's address (fail that message), not the channel (which gets disabled).
    ``maybe_sent``: the request went out but no answer came (a read timeout, a dropped
    connection): the receiver may have it."""

    def __init__(self, message: str, *, permanent: bool = False, recipient_only: bool = False,
                 maybe_sent: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.recipient_only = recipient_only
        self.maybe_sent = maybe_sent


class Channel:
    kind = ""
    # After a send that may have arrived: True sends again later (at-least-once: receivers
    # drop the double by its Idempotency-Key); False records it as "unknown" and stops, for
    # receivers that cannot deduplicate (a group robot would show the message twice).
    resend_when_unsure = True

    def __init__(self, name: str, options: dict[str, Any], db: Any = None):
        self.name = name
        self.options = dict(options)
        self.db = db

    def is_noop(self) -> bool:
        """True when the channel is configured so that it would send nothing."""
        return False

    def address(self, kind: str, unit: Any) -> str | None:
        """This channel's address for a recipient (``kind`` in RECIPIENT_KINDS), or None."""
        raise NotImplementedError

    def send(self, notice: Notice) -> None:
        raise NotImplementedError


def parse_recipient(recipient: str) -> tuple[str, int] | None:
    kind, _, rest = recipient.partition(":")
    if kind not in RECIPIENT_KINDS or not rest.isdigit():
        return None
    return kind, int(rest)


CONNECT_TIMEOUT = 5.0  # seconds; a refused or unanswered connection never sent anything
ROBOT_TIMEOUT = 30.0  # read timeout of the group robots, which are never sent twice


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the request surely never reached the receiver (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError)
    return False


def http_post(url: str, *, json_body: Any = None, data: str | bytes | None = None,
              headers: dict[str, str] | None = None, timeout: float = 10.0,
              retries: int = 2, backoff: float = 0.2) -> requests.Response:
    """POST with a few quick retries on refused connections and 5xx; raise TransportError.

    ``timeout`` is the read timeout (connecting has CONNECT_TIMEOUT). A request that went out
    but got no answer is never repeated here: it raises ``maybe_sent`` and the outbox decides
    (the channel's ``resend_when_unsure``). 4xx other than 408/429 is permanent (the request
    itself is wrong); the outbox retries transient failures later with a longer backoff, so
    the retries here stay short.
    """
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            resp = requests.post(url, json=json_body, data=data, headers=headers,
                                 timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
                                 allow_redirects=False)
        except requests.RequestException as exc:
            if not _not_sent(exc):
                raise TransportError(f"已发出但未收到应答：{type(exc).__name__}",
                                     maybe_sent=True) from exc
            last = f"连接失败：{type(exc).__name__}"
            continue
        if resp.status_code < 300:
            return resp
        last = f"HTTP {resp.status_code}：{resp.text[:200]}"
        if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
            raise TransportError(last, permanent=True)
    raise TransportError(last)


def check_robot_reply(resp: requests.Response, permanent_codes: set[int]) -> None:
    """WeCom and DingTalk robots answer HTTP 200 with {"errcode": n, "errmsg": ...}."""
    try:
        reply = resp.json()
    except ValueError as exc:
        raise TransportError(f"机器人返回的不是 JSON：{resp.text[:100]}") from exc
    code = reply.get("errcode", 0) if isinstance(reply, dict) else 0
    if code:
        raise TransportError(f"机器人返回错误 {code}：{reply.get('errmsg', '')}",
                             permanent=code in permanent_codes)


# Dotted paths, imported on first use so an unused channel costs nothing (and its
# dependencies need not be installed).
REGISTRY: dict[str, str] = {
    "console": "routing.notify.console.ConsoleChannel",
    "email": "routing.notify.email.EmailChannel",
    "webhook": "routing.notify.webhook.WebhookChannel",
    "wecom": "routing.notify.wecom.WecomChannel",
    "dingtalk": "routing.notify.dingtalk.DingtalkChannel",
    "sms": "routing.notify.sms.SmsChannel",
}


def build_channel(name: str, kind: str, options: dict[str, Any], db: Any = None) -> Channel:
    if kind not in REGISTRY:
        raise ValueError(f"未知的通知渠道类型 {kind!r}")
    module, _, cls = REGISTRY[kind].rpartition(".")
    return getattr(importlib.import_module(module), cls)(name, options, db)


def build_channels(configs: Any, db: Any = None) -> dict[str, Channel]:
    """Enabled channels from ``yuqing.settings.Channels.channels`` (name, kind, enabled, options)."""
    out: dict[str, Channel] = {}
    for cfg in configs:
        if cfg.enabled:
            out[cfg.name] = build_channel(cfg.name, cfg.kind, dict(cfg.options), db)
    return out
