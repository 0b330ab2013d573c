"""SMS through a gateway's HTTP API, described by a template in the channel options.

Options: ``url``; ``body`` with the placeholders ``{phone}`` and ``{text}``; ``content_type``
(``json``, the default, or ``form``); optional ``headers``. Values are escaped for the body's
format and substituted as text: the template is never evaluated.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote_plus

from routing.notify.base import Channel, Notice, http_post

MOBILE = re.compile(r"^1\d{10}$")
# 70 characters is one SMS segment for Chinese text; every further segment is billed again.
MAX_CHARS = 70


class SmsChannel(Channel):
    kind = "sms"

    def is_noop(self) -> bool:
        return not self.options.get("url") or not self.options.get("body")

    def address(self, kind: str, unit: Any) -> str | None:
        if unit is None:
            return None
        source = unit.leader if kind == "leader" else unit.contacts
        phone = str((source or {}).get("mobile") or (source or {}).get("phone") or "")
        return phone if MOBILE.match(phone) else None  # office landlines cannot take SMS

    def render(self, phone: str, text: str) -> str:
        if self.options.get("content_type", "json") == "form":
            escape = quote_plus
        else:
            def escape(value: str) -> str:
                return json.dumps(value, ensure_ascii=False)[1:-1]
        template = str(self.options["body"])
        return template.replace("{phone}", escape(phone)).replace("{text}", escape(text))

    def send(self, notice: Notice) -> None:
        text = f"{notice.subject} {notice.link}".strip()
        if len(text) > MAX_CHARS:
            text = text[:MAX_CHARS - 1] + "…"
        form = self.options.get("content_type", "json") == "form"
        headers = {"Content-Type": "application/x-www-form-urlencoded" if form
                   else "application/json; charset=utf-8"}
        headers.update(self.options.get("headers", {}))
        http_post(self.options["url"], data=self.render(notice.recipient, text).encode(),
                  headers=headers, timeout=float(self.options.get("timeout", 10)),
                  retries=int(self.options.get("retries", 2)))
