"""`yuqing search QUERY`: full-text search on the command line (the console's implementation)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError

from routing.reports import PeriodError
from store.search import QuerySyntaxError
from store.validation import error_message, location
from webui.search_queries import SearchForm, search
from yuqing.cli import emit_json, ensure_ready


def run_search(app: Any, query: str, start: str | None, end: str | None, source: str | None,
               limit: int, page: int = 1) -> dict[str, Any]:
    """The hits as the API gives them (every post: the command runs with full access)."""
    try:
        form = SearchForm.model_validate({"q": query, "from": start or "", "to": end or "",
                                          "source": source or "", "per_page": limit,
                                          "page": page, "sort": "time"})
    except ValidationError as exc:
        raise click.ClickException("；".join(f"{location(e['loc'])}：{error_message(e)}"
                                          for e in exc.errors(include_url=False))) from exc
    tz = ZoneInfo(app.settings.app.timezone)
    try:
        with app.db.session() as s:
            return search(s, app.index, None, form, app.now().astimezone(tz).date(),
                          tz).as_dict()
    except QuerySyntaxError as exc:
        raise click.ClickException(f"检索式有误：{exc}") from exc
    except PeriodError as exc:
        raise click.ClickException(f"日期有误：{exc}") from exc


@click.command("search")
@click.argument("query")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="开始日期（含）")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="结束日期（含）")
@click.option("--source", default=None, metavar="KEY", help="只检索这个信息源（代码）")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100),
              help="最多列出多少条（按时间新→旧）")
@click.option("--json", "as_json", is_flag=True,
              help='最后一行输出 JSON：{"total": 命中总数, "items": [...]}')
@click.pass_obj
def search_command(app: Any, query: str, start: str | None, end: str | None,
                   source: str | None, limit: int, as_json: bool) -> None:
    """全文检索信息（标题、正文、答复）。语法：空格为“且”，-词 排除，A | B 或 A OR B 为“或”，
    "短语" 按原样匹配。"""
    ensure_ready(app)
    data = run_search(app, query, start, end, source, limit)
    click.echo(f"共 {data['total']} 条，列出 {len(data['items'])} 条")
    for h in data["items"]:
        click.echo(f"[{h['post_id']}] {h['published_at'] or '—'} {h['source_name']} "
                   f"{h['title'] or '（无标题）'}\n    {h['snippet']}")
    if as_json:
        keys = ("post_id", "title", "snippet", "published_at", "source", "url")
        emit_json({"total": data["total"],
                   "items": [{k: h[k] for k in keys} for h in data["items"]]})
