"""The briefing as a standalone HTML file (the CLI's and the job's ``--format html``).

The console page and this file share ``templates/briefing/_body.html`` and
``static/css/briefing.css``; the file carries its CSS and its chart images inline so it opens
anywhere without the server.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from webui.briefing.document import Document

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "static" / "css" / "briefing.css"


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(ROOT / "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def standalone_html(doc: Document) -> str:
    return _env().get_template("briefing/file.html").render(doc=doc,
                                                            css=CSS.read_text(encoding="utf-8"))
