"""The `yuqing` command line. Each command is a thin wrapper over a function tests call too."""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from store.migrate import is_current
from yuqing.bootstrap import init_database
from yuqing.context import AppContext
from yuqing.settings import ConfigError

EXIT_CONFIG = 2


def ensure_ready(ctx: AppContext) -> None:
    """Migrate and sync reference data when the database is behind (idempotent, cheap)."""
    if not is_current(ctx.db):
        from yuqing.locks import migration_lock

        with migration_lock(ctx.db):  # web, workers and scheduler may start together
            if not is_current(ctx.db):
                init_database(ctx.db, ctx.settings)


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, default=str))


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[Any]:
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total or 0, label=label, file=sys.stderr) as bar:
        yield bar.update


# Commands whose modules import heavy libraries (scikit-learn, Scrapy) load on first use,
# so `yuqing import` or a crawl child does not pay for them.
LAZY_COMMANDS = {
    "analyze": "yuqing.commands.nlp:analyze_command",
    "train": "yuqing.commands.nlp:train_command",
    "route": "yuqing.commands.route:route_command",
    "crawl": "yuqing.commands.crawl:crawl_command",
    "crawl-status": "yuqing.commands.crawl:crawl_status_command",
    "crawl-worker": "yuqing.commands.crawl:crawl_worker_command",
    "sla-sweep": "yuqing.commands.workflow:sla_sweep",
    "notify-deliver": "yuqing.commands.workflow:notify_deliver",
    "notify-enable": "yuqing.commands.workflow:notify_enable",
    "notify-status": "yuqing.commands.workflow:notify_status",
    "user": "yuqing.commands.users:user_group",
    "demo": "yuqing.commands.demo:demo",
    "briefing": "yuqing.commands.briefing:briefing_command",
    "report": "yuqing.commands.report:report_group",
    "schemes": "yuqing.commands.schemes:schemes_group",
    "spikes": "yuqing.commands.schemes:spikes_command",
    "search": "yuqing.commands.search:search_command",
    "bench": "yuqing.commands.bench:bench_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            import importlib

            module, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.option("--home", envvar="YUQING_HOME", default=None, metavar="DIR",
              help="实例目录（数据库、模型、本地配置），默认 ./instance")
@click.option("-v", "--verbose", is_flag=True, help="输出调试日志")
@click.pass_context
def cli(ctx: click.Context, home: str | None, verbose: bool) -> None:
    """舆情监测与回应协同平台 (yuqing)。"""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:  # migration chatter is noise on every command
        logging.getLogger("alembic").setLevel(logging.WARNING)
    app = AppContext(home)
    ctx.obj = app
    ctx.call_on_close(app.close)


@cli.command()
@click.pass_obj
def init(app: AppContext) -> None:
    """创建实例目录和数据库，并同步配置中的辖区、单位和信息源。"""
    app.settings.home.mkdir(parents=True, exist_ok=True)
    init_database(app.db, app.settings)
    click.echo(f"已初始化实例：{app.settings.home}")


@cli.group("config")
def config_group() -> None:
    """配置相关命令。"""


@config_group.command("check")
@click.pass_obj
def config_check(app: AppContext) -> None:
    """检查配置（出厂默认 + 实例覆盖 + 环境变量），不启动任何服务。"""
    s = app.settings
    click.echo(f"配置检查通过：{len(s.units.units)} 个单位，{len(s.taxonomy.topics)} 个领域，"
               f"{len(s.sources.sources)} 个信息源，{len(s.channels.channels)} 个通知渠道")


@config_group.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@click.pass_obj
def config_export(app: AppContext, folder: str) -> None:
    """导出生效配置（随附 + 实例 YAML + 控制台修改）到 FOLDER，每个配置一个 YAML 文件。

    密钥（secret、password、token 及地址中的密码）以 ****** 代替。导出目录可直接校验：
    yuqing --home FOLDER config check
    """
    from pathlib import Path

    from yuqing.admin_settings import export

    written = export(app.settings, Path(folder))
    click.echo(f"已导出 {len(written)} 个配置文件到 {Path(folder).resolve()}；"
               f"校验：yuqing --home {folder} config check")


@cli.group("db")
def db_group() -> None:
    """数据库相关命令。"""


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(app: AppContext) -> None:
    """执行数据库迁移到最新版本。"""
    init_database(app.db, app.settings)
    click.echo("数据库已是最新版本")


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--source", "source", default=None, help="信息源代码，默认 import:<文件名>")
@click.option("--map", "mapping", multiple=True, metavar="字段=列名",
              help="列映射，如 --map text=诉求内容 --map published_at=来电时间（可重复）")
@click.option("--sheet", default=None, help="Excel 工作表名称，默认第一个")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_obj
def import_cmd(app: AppContext, file: str, source: str | None, mapping: tuple[str, ...],
               sheet: str | None, as_json: bool) -> None:
    """导入 CSV、XLSX 或 JSONL 文件；坏行按行号报告并跳过，好行保留。"""
    from pathlib import Path

    from crawlers.importers import ImportFileError, count_rows, read_file
    from yuqing.pipeline import build_ingestor

    pairs: dict[str, str] = {}
    for entry in mapping:
        field, sep, column = entry.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(f"应为 字段=列名：{entry!r}", param_hint="--map")
        pairs[field.strip()] = column.strip()
    ensure_ready(app)
    # Everything loaded so far (settings, models, SQLAlchemy, the drivers) lives as long as the
    # process: frozen, it is no longer walked by every full garbage collection, which a large
    # import triggers about once per thousand rows
    gc.freeze()
    try:
        rows = read_file(file, pairs, sheet)
        total = count_rows(file)
        with _progress(total, "导入中") as advance:
            report = build_ingestor(app).ingest(
                rows, source=source or f"import:{Path(file).stem[:90]}", progress=advance)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for r in report.rejected[:20]:
        click.echo(f"第 {r.position} 行被拒绝：{r.reason}", err=True)
    if len(report.rejected) > 20:
        click.echo(f"……另有 {len(report.rejected) - 20} 行被拒绝", err=True)
    click.echo(f"新增 {report.new}，更新 {report.updated}，重复 {report.duplicate}，"
               f"拒绝 {len(report.rejected)}")
    if as_json:
        emit_json(report.as_dict())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_obj
def stats(app: AppContext, as_json: bool) -> None:
    """统计信息、事件和各状态工单的数量。"""
    from yuqing.pipeline import stats as compute

    ensure_ready(app)
    numbers = compute(app)
    click.echo(f"信息 {numbers['posts']} 条，事件 {numbers['events']} 个，"
               f"工单 {numbers['cases']['total']} 件")  # type: ignore[index]
    for state, n in sorted(numbers["cases"]["by_state"].items()):  # type: ignore[index]
        click.echo(f"  {state}: {n}")
    if as_json:
        emit_json(numbers)


@cli.command()
@click.option("--all", "rebuild", is_flag=True,
              help="清空检索索引并为全部信息重建（升级检索格式后运行一次）")
@click.option("--to", "target", type=click.Choice(["elasticsearch"]), default=None,
              help="把数据库中的全部信息迁入 Elasticsearch（按月索引加别名；中断后再次运行从断点继续）")
@click.option("--url", "target_url", default=None, metavar="URL",
              help="迁移目标 elasticsearch+http://主机:9200/?prefix=yuqing（缺省用 YUQING_SEARCH_URL）")
@click.option("--restart", is_flag=True, help="与 --to 同用：不用断点，从头迁移")
@click.pass_obj
def reindex(app: AppContext, rebuild: bool, target: str | None, target_url: str | None,
            restart: bool) -> None:
    """补建检索索引（未入索引或已变更的信息），或用 --to 迁入 Elasticsearch。"""
    from sqlalchemy import update

    from store import Post
    from yuqing.ingest import reindex_pending

    ensure_ready(app)
    if target:
        _move(app, target_url, restart, rebuild)
        return
    if target_url or restart:
        raise click.UsageError("--url 与 --restart 只能与 --to elasticsearch 同用")
    if rebuild:
        app.index.clear()
        with app.db.session() as s:
            s.execute(update(Post).values(indexed_at=None))
    total = 0
    while done := reindex_pending(app.db, app.index, now=app.now()):
        total += done
    click.echo(f"已补建索引 {total} 条")


def _move(app: AppContext, target_url: str | None, restart: bool, rebuild: bool) -> None:
    from elasticsearch import ApiError, TransportError

    from nlp.normalize import normalize
    from store.search import open_index
    from store.search.elasticsearch import ElasticsearchIndex
    from yuqing.search_move import STATE_FILE, move_to_elasticsearch

    if rebuild:
        raise click.UsageError("--all 与 --to 不能同时使用（迁移本身就写入全部信息）")
    url = target_url or app.settings.search_url
    if not url.startswith(("elasticsearch+http://", "elasticsearch+https://")):
        raise click.ClickException("迁移目标应为 elasticsearch+http(s)://主机:9200/?prefix=yuqing："
                                   "用 --url 指定，或设置 YUQING_SEARCH_URL")
    index = app.index if url == app.settings.search_url else \
        open_index(url, timezone=app.settings.app.timezone, normalize=normalize)
    assert isinstance(index, ElasticsearchIndex)
    try:
        move_to_elasticsearch(app.db, index, url, app.settings.home / STATE_FILE, app.now,
                              click.echo, restart=restart)
    except (ApiError, TransportError, RuntimeError, ValueError, OSError) as exc:
        raise click.ClickException(f"迁移中断：{exc}。已写入的部分已记入断点，"
                                   "排除问题后再次运行同一命令即从断点继续") from exc
    except KeyboardInterrupt:
        raise click.ClickException("迁移已中止：再次运行同一命令即从断点继续") from None
    finally:
        if index is not app.__dict__.get("index"):
            index.close()


@cli.command("analyze-pending")
@click.pass_obj
def analyze_pending(app: AppContext) -> None:
    """分析尚未分析的信息，并按事件生成或更新工单（平时由 run 的定时任务完成）。"""
    from yuqing.locks import InstanceLock, is_postgres
    from yuqing.scheduler import analysis_job

    if not is_postgres(app.db) and InstanceLock(app.settings.database_url).held_elsewhere():
        # two event indexes over one SQLite file would split incidents into two cases
        raise click.ClickException("yuqing run 正在运行并负责分析；SQLite 只支持单进程分析，"
                                   "无需再运行 analyze-pending。")
    ensure_ready(app)
    click.echo(f"已分析 {analysis_job(app)} 条信息")


def _serve(app: AppContext, host: str | None, port: int | None, **config: object) -> None:
    from waitress import serve as waitress_serve

    from yuqing.web import build_web

    web = app.settings.app.web
    host, port = host or web.host, port or web.port
    click.echo(f"控制台地址：http://{host}:{port}/")
    from yuqing.web import send_after_actions

    web_app = build_web(app, **config)
    send_after_actions(web_app, app)
    waitress_serve(web_app, host=host, port=port, threads=web.threads)


@cli.command()
@click.option("--host", default=None, help="监听地址（默认见 settings.yaml web.host）")
@click.option("--port", type=int, default=None, help="端口")
@click.pass_obj
def serve(app: AppContext, host: str | None, port: int | None) -> None:
    """只启动网页控制台。"""
    ensure_ready(app)
    _serve(app, host, port)


@cli.command()
@click.option("--role", type=click.Choice(["all", "web", "worker", "scheduler"]), default="all",
              envvar="YUQING_ROLE", show_default=True,
              help="本进程的角色：web 控制台，worker 分析与分派，scheduler 定时任务（多个进程中"
                   "只有一个主节点运行），all 全部（SQLite 只支持 all）")
@click.option("--host", default=None, help="监听地址")
@click.option("--port", type=int, default=None,
              help="端口（web/all：控制台；worker/scheduler：/healthz，不给则不监听）")
@click.pass_obj
def run(app: AppContext, role: str, host: str | None, port: int | None) -> None:
    """启动网页控制台、分析进程和定时任务（采集、时限巡检、索引），见 docs/DEPLOY.md。"""
    import signal
    import threading

    from yuqing.locks import InstanceLock, SingleProcessError, is_postgres
    from yuqing.roles import RoleError, Runtime, check_role, serve_health

    try:
        check_role(app, role)
    except RoleError as exc:
        raise click.ClickException(str(exc)) from exc
    instance = None if is_postgres(app.db) else InstanceLock(app.settings.database_url)
    if instance is not None:
        try:
            instance.acquire()
        except SingleProcessError as exc:
            raise click.ClickException(str(exc)) from exc
    ensure_ready(app)
    runtime = Runtime(app, role)
    runtime.start()
    try:
        if role in ("all", "web"):
            _serve(app, host, port, YUQING_HEALTH=runtime.health)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if port:
            serve_health(runtime, host or app.settings.app.web.host, port)
            click.echo(f"健康检查：http://{host or app.settings.app.web.host}:{port}/healthz")
        click.echo(f"已启动角色 {role}（{runtime.name}）；按 Ctrl+C 结束")
        stop.wait()
    finally:
        runtime.stop()
        if instance is not None:
            instance.release()


def main(argv: list[str] | None = None) -> None:
    try:
        # Without standalone mode click hands back ctx.exit(n) as a return value instead of
        # exiting: pass it on, or a failed `yuqing crawl` would end with status 0.
        code = cli.main(args=argv, prog_name="yuqing", standalone_mode=False)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    except click.exceptions.Abort:
        click.echo("已中止", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    if isinstance(code, int) and not isinstance(code, bool) and code:
        sys.exit(code)
