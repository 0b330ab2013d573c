"""Generic webhook: one JSON POST per notice, signed with HMAC-SHA256 when a secret is set.

Headers: ``X-Yuqing-Timestamp`` (unix seconds), ``X-Yuqing-Signature: sha256=<hex>`` over
``"<timestamp>.<body>"``, and ``Idempotency-Key`` so a receiver can drop a repeated delivery.
Delivery is at-least-once: a receiver slower than ``timeout`` gets the message again later,
with the same key (one per case, change, channel and address; the body's ``key`` too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from routing.notify.base import Channel, Notice, http_post


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookChannel(Channel):
    kind = "webhook"

    def is_noop(self) -> bool:
        return not self.options.get("url")

    def address(self, kind: str, unit: Any) -> str | None:
        if unit is None:
            return None
        return f"{kind}:{unit.code}"  # one endpoint; the receiver routes by unit code

    def send(self, notice: Notice) -> None:
        body = json.dumps({"key": notice.key, "case_id": notice.case_id,
                           "recipient": notice.recipient, "subject": notice.subject,
                           "text": notice.body, "link": notice.link,
                           "data": notice.payload}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": notice.key, "X-Yuqing-Timestamp": timestamp}
        if self.options.get("secret"):
            headers["X-Yuqing-Signature"] = sign(self.options["secret"], timestamp, body)
        http_post(self.options["url"], data=body, headers=headers,
                  timeout=float(self.options.get("timeout", 10)),
                  retries=int(self.options.get("retries", 2)))
