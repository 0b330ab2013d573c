"""Settings: shipped defaults in config/, merged with the instance's YAML, then the environment.

The environment is read here and nowhere else. Everything is validated at start: a wrong key,
a bad type or a reference to an unknown unit/topic/place raises ``ConfigError`` naming the
file, the key path and the reason, and nothing starts half-configured.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from store.validation import error_message, location
from yuqing.settings_console import (  # noqa: F401  (re-exported)
    CONSOLE_DIR,
    KEYED_LISTS,
    console_path,
    console_stamp,
    merge_console,
)
from yuqing.settings_console import deep_merge as _deep_merge

ENV_PREFIX = "YUQING_"
# config files and the top-level model field each one fills
CONFIG_FILES = ("settings", "taxonomy", "jurisdictions", "units", "routing", "sla", "channels",
                "sources", "severity")


class ConfigProblem(BaseModel):
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.reason}"


class ConfigError(Exception):
    """One or more problems in the configuration; ``str()`` lists each on its own line."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(f"配置错误 {p}" for p in problems))


@cache  # constant for the process; the queue page asks on every request (schemes.yaml)
def shipped_config_dir() -> Path:
    # Installed wheels carry config/ as yuqing/_config; a source checkout has it beside yuqing/.
    packaged = resources.files("yuqing").joinpath("_config")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "config"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- settings.yaml -------------------------------------------------------------------------

class WebSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8600, ge=1, le=65535)
    threads: int = Field(8, ge=1, le=256)
    secure_cookie: Literal["auto", "always", "never"] = "auto"
    proxy_hops: int = Field(0, ge=0, le=5)


class SchedulerSettings(Strict):
    enabled: bool = True
    sweep_interval: int = Field(60, ge=5)
    reindex_interval: int = Field(30, ge=5)
    # seconds between a worker's polls for new posts (PostgreSQL also wakes it at once
    # through LISTEN/NOTIFY when an import or crawl commits)
    analysis_interval: int = Field(1, ge=1)
    # the retry sweep of the outbox; a new case's notifications go out right after routing
    deliver_interval: int = Field(10, ge=1)
    # how often a standby scheduler tries to become the leader (PostgreSQL advisory lock)
    leader_poll: int = Field(5, ge=1)


class IngestSettings(Strict):
    batch_size: int = Field(1000, ge=1, le=100_000)
    max_text_chars: int = Field(100_000, ge=1000)


class ReportSettings(Strict):
    # the N of "replied within N days" in the reply report (natural and working days)
    reply_days: list[int] = Field(default_factory=lambda: [1, 3, 5, 10], min_length=1)

    @field_validator("reply_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(not 1 <= d <= 366 for d in value):
            raise ValueError("答复天数应为 1–366 之间的整数")
        return sorted(set(value))


class BriefingSettings(Strict):
    daily_at: time | None = time(7, 30)
    weekly_at: time | None = time(8, 0)
    formats: list[Literal["docx", "pdf", "html"]] = ["docx", "pdf"]
    recipients: list[str] = []  # unit codes; empty: the routing coordinator
    public_url: str = ""


class CrawlSettings(Strict):
    # Shared crawl queue (redis://host:6379/0); empty: every crawl runs here, one at a time
    queue: str = ""
    queue_prefix: str = Field("yuqing:crawl", min_length=1)
    worker_ttl: int = Field(30, ge=2, le=3600)  # seconds of silence before a worker is dead

    @field_validator("queue")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("应为 redis://主机:端口/库号（或 rediss://、unix://）")
        return value


class AppSettings(Strict):
    database_url: str = ""
    search_url: str = ""
    timezone: str = "Asia/Shanghai"
    secret_key: str = ""
    web: WebSettings = WebSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    ingest: IngestSettings = IngestSettings()
    reports: ReportSettings = ReportSettings()
    briefing: BriefingSettings = BriefingSettings()
    crawl: CrawlSettings = CrawlSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知的时区 {value!r}") from exc
        return value


# ---- taxonomy.yaml -------------------------------------------------------------------------

UrgentCategory = Literal["policy_misreading", "public_health", "natural_disaster",
                         "major_livelihood"]


class Topic(Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    sensitivity: float = Field(ge=0.0, le=1.0)
    urgent: UrgentCategory | None = None
    keywords: list[str] = []
    departments: dict[Literal["district", "city", "province"], str] = {}


class Taxonomy(Strict):
    topics: list[Topic]
    urgent_categories: dict[UrgentCategory, str] = {}

    def topic(self, key: str) -> Topic | None:
        return next((t for t in self.topics if t.key == key), None)


# ---- jurisdictions.yaml --------------------------------------------------------------------

PlaceLevel = Literal["province", "city", "district", "township", "village"]


class Place(Strict):
    code: str = Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    name: str
    level: PlaceLevel
    aliases: list[str] = []
    children: list[Place] = []


class HomeJurisdiction(Place):
    parents: list[Place] = []


class ForeignPlace(Strict):
    code: str = Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    name: str
    unit: str


class Jurisdictions(Strict):
    home: HomeJurisdiction
    upper: ForeignPlace | None = None
    neighbours: list[ForeignPlace] = []

    def home_places(self) -> list[Place]:
        """The home jurisdiction and everything below it, depth first."""
        out: list[Place] = []
        stack: list[Place] = [self.home]
        while stack:
            place = stack.pop()
            out.append(place)
            stack.extend(reversed(place.children))
        return out

    def known_codes(self) -> set[str]:
        codes = {p.code for p in self.home_places()} | {p.code for p in self.home.parents}
        if self.upper:
            codes.add(self.upper.code)
        codes |= {n.code for n in self.neighbours}
        return codes


# ---- units.yaml ----------------------------------------------------------------------------

class Person(Strict):
    name: str
    phone: str = ""
    email: str = ""


class Contacts(Strict):
    email: str = ""
    phone: str = ""
    wecom: str = ""
    dingtalk: str = ""
    webhook: str = ""


class UnitConfig(Strict):
    # lengths as the units table stores them: a longer value would fail only in the database
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    name: str = Field(min_length=1, max_length=200)
    short_name: str = Field("", max_length=100)
    aliases: list[str] = []  # other names the public uses; a unit named in a post is concerned
    kind: Literal["publicity", "township", "department", "upper", "neighbour"]
    jurisdiction: str
    duties: list[str] = []
    leader: Person | None = None
    contacts: Contacts = Contacts()


class Units(Strict):
    units: list[UnitConfig]

    def get(self, code: str) -> UnitConfig | None:
        return next((u for u in self.units if u.code == code), None)


# ---- routing.yaml --------------------------------------------------------------------------

class RoutingOverride(Strict):
    name: str
    keywords: list[str] = []
    sources: list[str] = []
    lead: str | None = None  # None: the monitors judge (研判)
    co: list[str] = []


class DutyRule(Strict):
    """A duty rule (按职责): who must co-handle, or lead, when its conditions hold."""
    id: str = Field(min_length=1, max_length=40)
    topics: list[str] = []
    keywords: list[str] = []
    also: list[str] = []
    min_people: int | None = Field(None, ge=2)
    co: list[str] = []
    lead: Literal["field"] | None = None
    fields: dict[str, str] = {}  # keyword -> unit code leading the answer (lead: field)
    urgent: UrgentCategory | None = None


class Routing(Strict):
    coordinator: str
    auto_dispatch: dict[Literal[1, 2, 3, 4], bool] = {1: False, 2: False, 3: True, 4: True}
    lead_order: list[str] = []
    secondary_topic_min_prob: float = Field(0.35, gt=0, le=1)
    min_place_confidence: float = Field(0.5, ge=0, le=1)
    outside_min_confidence: float = Field(0.75, ge=0, le=1)
    overrides: list[RoutingOverride] = []
    duty_rules: list[DutyRule] = []


# ---- sla.yaml ------------------------------------------------------------------------------

class SlaLevel(Strict):
    calendar: Literal["natural", "working"] = "natural"
    sign_calendar: Literal["natural", "working"] | None = None  # None: as calendar
    sign_minutes: int | None = Field(None, ge=1)
    first_response_hours: float | None = Field(None, gt=0)
    press_conference_hours: float | None = Field(None, gt=0)
    answer_hours: float | None = Field(None, gt=0)


class WorkingHours(Strict):
    morning: tuple[time, time] = (time(8, 30), time(12, 0))
    afternoon: tuple[time, time] = (time(13, 30), time(17, 30))

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        (a, b), (c, d) = self.morning, self.afternoon
        if not (a < b <= c < d):
            raise ValueError("工作时间应为 上午开始 < 上午结束 <= 下午开始 < 下午结束")
        return self


class Sla(Strict):
    working_hours: WorkingHours = WorkingHours()
    levels: dict[Literal[1, 2, 3, 4], SlaLevel]
    urgent: SlaLevel | None = None  # tighter limits for urgent topics (earlier one wins)
    return_window_hours: float = Field(2, ge=0)
    max_extensions: int = Field(2, ge=0)
    max_extension_hours: float = Field(72, gt=0)
    remind_at_fraction_left: float = Field(0.25, gt=0, lt=1)
    overdue_repeat_minutes: int = Field(60, ge=1)


# ---- channels.yaml -------------------------------------------------------------------------

class ChannelConfig(Strict):
    name: str
    kind: Literal["console", "email", "webhook", "wecom", "dingtalk", "sms"]
    enabled: bool = False
    options: dict[str, Any] = {}


class DeliveryRetry(Strict):
    first_seconds: float = Field(30, gt=0)
    cap_minutes: float = Field(60, gt=0)
    give_up_hours: float = Field(72, gt=0)


class Channels(Strict):
    retry: DeliveryRetry = DeliveryRetry()
    channels: list[ChannelConfig] = []


# ---- sources.yaml --------------------------------------------------------------------------

class SourceConfig(Strict):
    key: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    name: str
    kind: Literal["feed", "html", "json_api", "board", "import"]
    start_urls: list[str] = []
    path: str = ""  # folder watched by the import kind
    schedule: str = "30m"
    authority: Literal["central", "provincial", "local", "verified", "user"] = "local"
    source_kind: str = ""  # news / social / forum / board / hotline; empty: from kind
    default_place: str = ""
    enabled: bool = True
    # kind-specific settings (selectors, field mappings, paging, politeness); checked by crawlers
    options: dict[str, Any] = {}


class Sources(Strict):
    sources: list[SourceConfig] = []


# ---- severity.yaml ------------------------------------------------------------------------

class SeverityFile(Strict):
    # the keys are checked by nlp.severity.config_from, which owns their meaning and defaults
    severity: dict[str, Any] = {}


# ---- all together --------------------------------------------------------------------------

class Settings(Strict):
    # how these settings were loaded, so the admin desk can load them again with an edit
    _recipe: dict[str, Any] | None = PrivateAttr(default=None)

    home: Path
    app: AppSettings
    taxonomy: Taxonomy
    jurisdictions: Jurisdictions
    units: Units
    routing: Routing
    sla: Sla
    channels: Channels
    sources: Sources
    severity: dict[str, Any] = {}

    @property
    def database_url(self) -> str:
        return self.app.database_url or f"sqlite:///{self.home / 'yuqing.db'}"

    @property
    def search_url(self) -> str:
        return self.app.search_url or f"fts5:///{self.home / 'search.db'}"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app.timezone)


_MODELS: dict[str, type[BaseModel]] = {
    "settings": AppSettings, "taxonomy": Taxonomy, "jurisdictions": Jurisdictions,
    "units": Units, "routing": Routing, "sla": Sla, "channels": Channels, "sources": Sources,
    "severity": SeverityFile,
}

# Config wording for a few pydantic errors; the rest come from store.validation (Chinese too).
_REASONS = {
    "extra_forbidden": "不认识的配置项（拼写错误？）",
    "time_parsing": "应为 HH:MM 格式的时间", "time_type": "应为 HH:MM 格式的时间",
}


def _key_path(loc: tuple[Any, ...]) -> str:
    return location(loc)


def _reason(err: Mapping[str, Any]) -> str:
    return _REASONS.get(err["type"]) or error_message(err)


# libyaml's safe loader when PyYAML was built with it: the shipped config files took about
# 0.5 s to parse in pure Python, paid by every command at start-up
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, problems: list[ConfigProblem]) -> dict[str, Any] | None:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ConfigProblem(file=str(path), path="", reason=f"无法读取：{exc}"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark else ""
        problems.append(ConfigProblem(file=str(path), path=where, reason=f"YAML 语法错误：{exc}"))
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(ConfigProblem(file=str(path), path="", reason="顶层应为映射（键: 值）"))
        return None
    return data


def _env_overrides(environ: Mapping[str, str]
                   ) -> tuple[dict[str, Any], dict[tuple[str, ...], str], list[ConfigProblem]]:
    """YUQING_DATABASE_URL, YUQING_WEB__PORT, YUQING_SECRET_KEY_FILE ... onto settings.yaml.

    Returns the overrides, which variable set each key path (so an error names the variable,
    not settings.yaml) and the problems met reading ``*_FILE`` variables.
    """
    out: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    problems: list[ConfigProblem] = []

    def put(path: list[str], value: str, variable: str) -> None:
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        origin[tuple(path)] = variable

    for field_name, field in AppSettings.model_fields.items():
        env = ENV_PREFIX + field_name.upper()
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            for sub_name in sub.model_fields:
                key = f"{env}__{sub_name.upper()}"
                if key in environ:
                    put([field_name, sub_name], environ[key], key)
            continue
        if env in environ:
            put([field_name], environ[env], env)
        elif f"{env}_FILE" in environ:  # secrets from files (docker/k8s style)
            variable = f"{env}_FILE"
            path = Path(environ[variable])
            try:
                put([field_name], path.read_text(encoding="utf-8").strip(), variable)
            except UnicodeDecodeError:
                problems.append(ConfigProblem(file=f"环境变量 {variable}", path="",
                                              reason=f"文件 {path} 不是 UTF-8 文本（应为一行密钥）"))
            except OSError as exc:
                problems.append(ConfigProblem(file=f"环境变量 {variable}", path="",
                                              reason=f"无法读取文件 {path}：{exc.strerror or exc}"))
    return out, origin, problems


def _env_origin(loc: tuple[Any, ...], env_origin: Mapping[tuple[str, ...], str]) -> str | None:
    for length in range(len(loc), 0, -1):
        variable = env_origin.get(tuple(str(p) for p in loc[:length]))
        if variable:
            return variable
    return None


def resolve_home(home: str | os.PathLike[str] | None = None,
                 environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    chosen = home or environ.get(ENV_PREFIX + "HOME") or "instance"
    return Path(chosen).expanduser().resolve()


def load_settings(home: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Mapping[str, Any]] | None = None,
                  console: Mapping[str, Mapping[str, Any]] | None = None) -> Settings:
    """Build validated settings, or raise ConfigError listing every problem found.

    ``overrides`` (per config file name) is for callers such as the demo and tests that
    supply configuration in code; it is applied after the instance files.
    The console's edits (``<home>/console/<name>.yaml``, see ``merge_console``) come last;
    ``console`` (per file name) replaces those files, so the admin desk can validate an edit
    exactly as this loader would before writing it.
    """
    environ = os.environ if environ is None else environ
    recipe = {"environ": {k: v for k, v in environ.items() if k.startswith(ENV_PREFIX)},
              "overrides": overrides}
    home_path = resolve_home(home, environ)
    problems: list[ConfigProblem] = []
    shipped = shipped_config_dir()
    parsed: dict[str, BaseModel] = {}
    origin: dict[str, str] = {}
    for name in CONFIG_FILES:
        data = _read_yaml(shipped / f"{name}.yaml", problems) or {}
        origin[name] = str(shipped / f"{name}.yaml")
        local = home_path / f"{name}.yaml"
        if local.is_file():
            extra = _read_yaml(local, problems)
            if extra is None:
                continue
            data = _deep_merge(data, extra)
            origin[name] = str(local)
        if overrides and name in overrides:
            data = _deep_merge(data, dict(overrides[name]))
        edits = _console_edits(home_path, name, console, problems)
        if edits:
            data = merge_console(name, data, edits)
            origin[name] = str(console_path(home_path, name))
        env_origin: dict[tuple[str, ...], str] = {}
        if name == "settings":
            env_data, env_origin, env_problems = _env_overrides(environ)
            data = _deep_merge(data, env_data)
            problems += env_problems
        try:
            parsed[name] = _MODELS[name].model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                variable = _env_origin(err["loc"], env_origin)
                if variable:  # the value came from the environment, not from a file
                    problems.append(ConfigProblem(file=f"环境变量 {variable}", path="",
                                                  reason=_reason(err)))
                    continue
                problems.append(ConfigProblem(file=origin[name], path=_key_path(err["loc"]),
                                              reason=_reason(err)))
    if problems:
        raise ConfigError(problems)
    settings = Settings(home=home_path, app=parsed["settings"], taxonomy=parsed["taxonomy"],
                        jurisdictions=parsed["jurisdictions"], units=parsed["units"],
                        routing=parsed["routing"], sla=parsed["sla"],
                        channels=parsed["channels"], sources=parsed["sources"],
                        severity=parsed["severity"].severity)  # type: ignore[attr-defined]
    problems = cross_check(settings, origin) + _component_checks(settings, origin)
    if problems:
        raise ConfigError(problems)
    settings._recipe = recipe
    return settings


def reload_settings(settings: Settings,
                    console: Mapping[str, Mapping[str, Any]] | None = None) -> Settings:
    """Load again as ``settings`` was loaded (same home, environment and overrides)."""
    recipe = settings._recipe or {"environ": {}, "overrides": None}
    return load_settings(settings.home, environ=recipe["environ"],
                         overrides=recipe["overrides"], console=console)


def _console_edits(home: Path, name: str, console: Mapping[str, Mapping[str, Any]] | None,
                   problems: list[ConfigProblem]) -> dict[str, Any] | None:
    if console is not None and name in console:
        return dict(console[name])
    path = console_path(home, name)
    return _read_yaml(path, problems) if path.is_file() else None


def cross_check(s: Settings, origin: Mapping[str, str]) -> list[ConfigProblem]:
    """References between files: units, topics, places and source keys must exist."""
    problems: list[ConfigProblem] = []

    def bad(name: str, path: str, reason: str) -> None:
        problems.append(ConfigProblem(file=origin[name], path=path, reason=reason))

    unit_codes = [u.code for u in s.units.units]
    units = set(unit_codes)
    topics = [t.key for t in s.taxonomy.topics]
    topic_set = set(topics)
    places = s.jurisdictions.known_codes()

    for key in sorted({k for k in topics if topics.count(k) > 1}):
        bad("taxonomy", "topics", f"领域 {key!r} 重复定义")
    for key in sorted({k for k in unit_codes if unit_codes.count(k) > 1}):
        bad("units", "units", f"单位代码 {key!r} 重复定义")
    for i, topic in enumerate(s.taxonomy.topics):
        for level, unit in topic.departments.items():
            if unit not in units:
                bad("taxonomy", f"topics[{i}].departments.{level}", f"未知的单位 {unit!r}")
    for i, unit in enumerate(s.units.units):
        if unit.jurisdiction not in places:
            bad("units", f"units[{i}].jurisdiction", f"未知的辖区代码 {unit.jurisdiction!r}")
        if unit.kind == "township" and unit.jurisdiction == s.jurisdictions.home.code:
            bad("units", f"units[{i}].jurisdiction", "街道/镇的辖区应为其街道代码，而非整个区")
        elif unit.kind == "township":
            # routing takes the first township of a street: a second one would never lead
            first = next(u for u in s.units.units
                         if u.kind == "township" and u.jurisdiction == unit.jurisdiction)
            if first is not unit:
                bad("units", f"units[{i}].jurisdiction",
                    f"该街道/镇已有属地单位 {first.code!r}（{first.name}），请先撤销原单位或改其辖区")
        for j, duty in enumerate(unit.duties):
            if duty not in topic_set:
                bad("units", f"units[{i}].duties[{j}]", f"未知的领域 {duty!r}")
    if s.jurisdictions.upper and s.jurisdictions.upper.unit not in units:
        bad("jurisdictions", "upper.unit", f"未知的单位 {s.jurisdictions.upper.unit!r}")
    for i, n in enumerate(s.jurisdictions.neighbours):
        if n.unit not in units:
            bad("jurisdictions", f"neighbours[{i}].unit", f"未知的单位 {n.unit!r}")
    if s.routing.coordinator not in units:
        bad("routing", "coordinator", f"未知的单位 {s.routing.coordinator!r}")
    source_keys = [src.key for src in s.sources.sources]
    for i, key in enumerate(s.routing.lead_order):
        if key not in topic_set:
            bad("routing", f"lead_order[{i}]", f"未知的领域 {key!r}")
    for i, rule in enumerate(s.routing.overrides):
        if rule.lead is not None and rule.lead not in units:
            bad("routing", f"overrides[{i}].lead", f"未知的单位 {rule.lead!r}")
        for j, code in enumerate(rule.co):
            if code not in units:
                bad("routing", f"overrides[{i}].co[{j}]", f"未知的单位 {code!r}")
        if not rule.keywords and not rule.sources:
            bad("routing", f"overrides[{i}]", "至少需要 keywords 或 sources 之一，否则永不匹配")
        for j, key in enumerate(rule.sources):
            if key not in source_keys:
                bad("routing", f"overrides[{i}].sources[{j}]", f"未知的信息源 {key!r}")
    for i, duty in enumerate(s.routing.duty_rules):
        for j, code in enumerate(duty.co):
            if code not in units:
                bad("routing", f"duty_rules[{i}].co[{j}]", f"未知的单位 {code!r}")
        for word, code in duty.fields.items():
            if code not in units:
                bad("routing", f"duty_rules[{i}].fields.{word}", f"未知的单位 {code!r}")
        for j, key in enumerate(duty.topics):
            if key not in topic_set:
                bad("routing", f"duty_rules[{i}].topics[{j}]", f"未知的领域 {key!r}")
        if not duty.topics and not duty.keywords:
            bad("routing", f"duty_rules[{i}]", "至少需要 topics 或 keywords 之一，否则永不匹配")
        if not duty.co and duty.lead is None:
            bad("routing", f"duty_rules[{i}]", "需要 co（协办单位）或 lead: field 之一")
    for key in sorted({k for k in source_keys if source_keys.count(k) > 1}):
        bad("sources", "sources", f"信息源 {key!r} 重复定义")
    for i, src in enumerate(s.sources.sources):
        if src.default_place and src.default_place not in places:
            bad("sources", f"sources[{i}].default_place", f"未知的辖区代码 {src.default_place!r}")
        if src.kind == "import" and not src.path:
            bad("sources", f"sources[{i}].path", "导入类信息源需要 path（监视的文件夹）")
        if src.kind != "import" and not src.start_urls:
            bad("sources", f"sources[{i}].start_urls", "需要至少一个起始地址")
    for i, code in enumerate(s.app.briefing.recipients):
        if code not in units:
            bad("settings", f"briefing.recipients[{i}]", f"未知的单位 {code!r}")
    names = [c.name for c in s.channels.channels]
    for key in sorted({k for k in names if names.count(k) > 1}):
        bad("channels", "channels", f"通知渠道 {key!r} 重复定义")
    return problems


def _component_checks(s: Settings, origin: Mapping[str, str]) -> list[ConfigProblem]:
    """Checks owned by the packages that read these sections (crawler options, severity)."""
    from nlp.severity import SeverityConfigError, config_from
    from yuqing.crawling import check_sources

    problems = [ConfigProblem(file=origin["sources"], path="sources", reason=msg)
                for msg in check_sources(s)]
    try:
        config_from(s.severity)
    except SeverityConfigError as exc:
        problems.append(ConfigProblem(file=origin["severity"], path="severity", reason=str(exc)))
    return problems


def ensure_secret_key(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in the instance folder."""
    if settings.app.secret_key:
        return settings.app.secret_key
    path = settings.home / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    settings.home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created 0600 in one step: no moment where another local user could read it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process just made it: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key)
    return key
