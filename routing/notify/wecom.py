"""WeCom (企业微信) group robot: markdown message to the robot's webhook URL.

A unit's ``contacts.wecom`` may hold its own group's robot URL; otherwise the channel's
``url`` (the monitors' group) is used, once per change.
"""

from __future__ import annotations

from typing import Any

from routing.notify.base import ROBOT_TIMEOUT, Channel, Notice, check_robot_reply, http_post

# 93000: the webhook URL is invalid; 40008: bad message type. Retrying will not help.
PERMANENT = {93000, 40008}
MAX_BYTES = 4000  # the robot refuses markdown over 4096 bytes


class WecomChannel(Channel):
    kind = "wecom"
    # the robot API has no message id to deduplicate by: a post that may have arrived is
    # recorded as unknown instead of posted again, and the read timeout is long
    resend_when_unsure = False

    def is_noop(self) -> bool:
        return not self.options.get("url")

    def address(self, kind: str, unit: Any) -> str | None:
        if kind == "leader" or unit is None:
            return None
        own = (unit.contacts or {}).get("wecom", "")
        return own if own.startswith(("http://", "https://")) else "default"

    def send(self, notice: Notice) -> None:
        url = self.options["url"] if notice.recipient == "default" else notice.recipient
        text = f"**{notice.subject}**\n{notice.body}"
        content = text.encode()[:MAX_BYTES].decode(errors="ignore")
        resp = http_post(url, json_body={"msgtype": "markdown", "markdown": {"content": content}},
                         timeout=float(self.options.get("timeout", ROBOT_TIMEOUT)),
                         retries=int(self.options.get("retries", 2)))
        check_robot_reply(resp, PERMANENT)
