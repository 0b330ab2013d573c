"""DingTalk (钉钉) custom robot, with the signed-timestamp security setting.

Signing: ``sign = urlencode(base64(HMAC-SHA256(key=secret, "<timestamp ms>\\n<secret>")))``
appended to the URL with ``timestamp``; DingTalk refuses a timestamp over an hour old.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote_plus

from routing.notify.base import ROBOT_TIMEOUT, Channel, Notice, check_robot_reply, http_post

# 310000: signature, keyword or IP check failed; 300001: bad token. 130101 (too fast) retries.
PERMANENT = {310000, 300001, 400101}


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    sign = quote_plus(base64.b64encode(mac.digest()))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


class DingtalkChannel(Channel):
    kind = "dingtalk"
    # the robot API has no message id to deduplicate by: a post that may have arrived is
    # recorded as unknown instead of posted again, and the read timeout is long
    resend_when_unsure = False

    def is_noop(self) -> bool:
        return not self.options.get("url")

    def address(self, kind: str, unit: Any) -> str | None:
        if kind == "leader" or unit is None:
            return None
        own = (unit.contacts or {}).get("dingtalk", "")
        return own if own.startswith(("http://", "https://")) else "default"

    def send(self, notice: Notice) -> None:
        url = self.options["url"] if notice.recipient == "default" else notice.recipient
        if self.options.get("secret"):
            url = signed_url(url, self.options["secret"], int(time.time() * 1000))
        body = {"msgtype": "markdown",
                "markdown": {"title": notice.subject[:60], "text": f"### {notice.subject}\n\n"
                             + notice.body.replace("\n", "\n\n")}}
        resp = http_post(url, json_body=body, timeout=float(self.options.get("timeout", ROBOT_TIMEOUT)),
                         retries=int(self.options.get("retries", 2)))
        check_robot_reply(resp, PERMANENT)
