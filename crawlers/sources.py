"""A source as plain data: the strategy (kind), where to start, politeness and hints.

``yuqing`` hands each source's config as a dict (from config/sources.yaml); this module checks
the kind-specific options so a typo is refused before a crawl starts, with the key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

KINDS = ("feed", "html", "json_api", "board", "import")
DEFAULT_SOURCE_KIND = {"feed": "news", "html": "news", "json_api": "social", "board": "board",
                       "import": "hotline"}


class SourceError(ValueError):
    """A source's options are wrong; the message names the source, key path and reason."""


@dataclass(frozen=True)
class Politeness:
    obey_robots: bool = True
    download_delay: float = 0.0  # seconds between requests to one domain (AutoThrottle adapts it)
    concurrency: int = 4  # requests in flight per domain
    autothrottle: bool = True
    timeout: float = 20.0  # seconds per request
    retries: int = 1
    max_page_bytes: int = 4 * 1024 * 1024  # larger pages are cancelled and recorded
    user_agent: str = "yuqing-crawler/0.1 (+public opinion monitoring)"


# options each kind understands; anything else is a typo and refused
_KIND_OPTIONS: dict[str, set[str]] = {
    "feed": {"fetch_article", "article"},
    "html": {"list", "article", "id_pattern"},
    "json_api": {"items", "fields", "paging", "detail", "text_is_html"},
    "board": {"list", "message", "reply", "id_pattern"},
    "import": {"mapping", "sheet", "pattern"},
}
_COMMON_OPTIONS = {"politeness", "max_pages", "incremental", "max_text_chars",
                   "allowed_domains", "follow_offsite"}


@dataclass(frozen=True)
class SourceSpec:
    key: str
    kind: str
    name: str = ""
    start_urls: tuple[str, ...] = ()
    path: str = ""
    authority: str = "local"
    source_kind: str = ""
    default_place: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    politeness: Politeness = Politeness()
    max_pages: int = 20  # list/API pages per run: the incremental stop usually ends sooner
    incremental: bool = True
    max_text_chars: int = 100_000

    @property
    def post_kind(self) -> str:
        return self.source_kind or DEFAULT_SOURCE_KIND.get(self.kind, "news")

    def option(self, *path: str, default: Any = None) -> Any:
        node: Any = self.options
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["start_urls"] = list(self.start_urls)
        out["options"] = dict(self.options)
        out["politeness"] = {f.name: getattr(self.politeness, f.name) for f in fields(Politeness)}
        return out

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> SourceSpec:
        """Build from a sources.yaml entry (or ``to_dict`` output); raise SourceError if wrong."""
        key = str(data.get("key") or "")
        where = f"信息源 {key or '?'}"
        if not key:
            raise SourceError(f"{where}: 缺少 key")
        kind = data.get("kind")
        if kind not in KINDS:
            raise SourceError(f"{where}.kind: 未知的类型 {kind!r}，可选 {', '.join(KINDS)}")
        options = dict(data.get("options") or {})
        unknown = set(options) - _KIND_OPTIONS[kind] - _COMMON_OPTIONS
        if unknown:
            raise SourceError(f"{where}.options: 不认识的选项 {', '.join(sorted(unknown))}")
        pol_data = dict(options.pop("politeness", None) or data.get("politeness") or {})
        known_pol = {f.name for f in fields(Politeness)}
        if set(pol_data) - known_pol:
            raise SourceError(f"{where}.options.politeness: 不认识的选项 "
                              f"{', '.join(sorted(set(pol_data) - known_pol))}")
        try:
            politeness = Politeness(**pol_data)
            max_pages = int(options.pop("max_pages", data.get("max_pages", 20)))
            max_text = int(options.pop("max_text_chars", data.get("max_text_chars", 100_000)))
        except (TypeError, ValueError) as exc:
            raise SourceError(f"{where}.options: 取值有误：{exc}") from exc
        incremental = bool(options.pop("incremental", data.get("incremental", True)))
        spec = cls(key=key, kind=kind, name=str(data.get("name") or key),
                   start_urls=tuple(data.get("start_urls") or ()), path=str(data.get("path") or ""),
                   authority=str(data.get("authority") or "local"),
                   source_kind=str(data.get("source_kind") or ""),
                   default_place=str(data.get("default_place") or ""), options=options,
                   politeness=politeness, max_pages=max(1, max_pages), incremental=incremental,
                   max_text_chars=max(1000, max_text))
        _check_kind(spec, where)
        return spec


def _check_kind(spec: SourceSpec, where: str) -> None:
    domains = spec.option("allowed_domains", default=[])
    if not isinstance(domains, list | tuple) or not all(isinstance(d, str) for d in domains):
        raise SourceError(f"{where}.options.allowed_domains: 应为域名列表，如 [news.example.cn]")
    if not isinstance(spec.option("follow_offsite", default=False), bool):
        raise SourceError(f"{where}.options.follow_offsite: 应为 true 或 false")
    if spec.kind != "import" and not spec.start_urls:
        raise SourceError(f"{where}.start_urls: 需要至少一个起始地址")
    if spec.kind == "import" and not spec.path:
        raise SourceError(f"{where}.path: 导入类信息源需要 path（监视的文件夹）")
    if spec.kind == "html" and not spec.option("list", "links"):
        raise SourceError(f"{where}.options.list.links: 需要列表页中文章链接的选择器")
    if spec.kind == "board":
        for path in (("list", "links"), ("message", "body")):
            if not spec.option(*path):
                raise SourceError(f"{where}.options.{'.'.join(path)}: 留言板需要该选择器")
    if spec.kind == "json_api":
        if not spec.option("items"):
            raise SourceError(f"{where}.options.items: 需要条目列表的路径（如 data.list）")
        if not spec.option("fields", "text"):
            raise SourceError(f"{where}.options.fields.text: 需要正文字段的路径")
        paging = spec.option("paging", default={}) or {}
        if paging.get("type", "none") not in {"none", "page", "cursor", "next_url"}:
            raise SourceError(f"{where}.options.paging.type: 取值应为 page、cursor 或 next_url")
