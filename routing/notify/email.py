"""Email over SMTP (optionally STARTTLS and login)."""

from __future__ import annotations

import hashlib
import mimetypes
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from routing.notify.base import Channel, Notice, TransportError


def attach(msg: EmailMessage, files: list[dict[str, str]]) -> None:
    """Attach files named in the payload ({"path", "name"}), e.g. the briefings' DOCX/PDF.
    A file gone from disk is a permanent fault of this message, not of the channel."""
    for item in files:
        path = Path(item["path"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TransportError(f"附件不存在：{path.name}", permanent=True,
                                 recipient_only=True) from exc
        kind, _ = mimetypes.guess_type(path.name)
        maintype, _, subtype = (kind or "application/octet-stream").partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype,
                           filename=item.get("name") or path.name)


class EmailChannel(Channel):
    kind = "email"

    def is_noop(self) -> bool:
        return not self.options.get("host") or not self.options.get("from_addr")

    def address(self, kind: str, unit: Any) -> str | None:
        if unit is None:
            return None
        source = unit.leader if kind == "leader" else unit.contacts
        return (source or {}).get("email") or None

    def send(self, notice: Notice) -> None:
        opts = self.options
        msg = EmailMessage()
        msg["Subject"] = notice.subject
        msg["From"] = opts["from_addr"]
        msg["To"] = notice.recipient
        msg["Date"] = formatdate(localtime=False)
        # a stable Message-ID lets mail systems drop a duplicate of a retried message
        msg["Message-ID"] = f"<{hashlib.sha1(notice.key.encode()).hexdigest()}@yuqing>"
        msg.set_content(notice.body)
        attach(msg, notice.payload.get("attachments") or [])
        try:
            with smtplib.SMTP(opts["host"], int(opts.get("port", 25)),
                              timeout=float(opts.get("timeout", 10))) as smtp:
                if opts.get("starttls"):
                    smtp.starttls()
                if opts.get("username"):
                    smtp.login(opts["username"], opts.get("password", ""))
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"收件人被拒绝：{notice.recipient}", permanent=True,
                                 recipient_only=True) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportError(f"SMTP 登录失败：{exc.smtp_code}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise TransportError(f"SMTP 错误 {exc.smtp_code}",
                                 permanent=500 <= exc.smtp_code < 600) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(f"SMTP 连接失败：{type(exc).__name__}") from exc
