"""`yuqing demo`: the whole product on one machine, fed by a demo web of 江宁区 posts.

It starts the demo web on 127.0.0.1, points three sources (news feed, Weibo-like API, 留言板)
at it in a fresh instance, runs the real pipeline (crawl → analyze → route → notify, through
``yuqing.crawling.crawl_source`` and the scheduler), serves the console, creates one user per
role and prints the address and the logins. New demo posts keep appearing while it runs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import yaml
from sqlalchemy import func, select

from store import Case
from webui.accounts import AccountError, create_user, issue_token, set_password
from yuqing.context import AppContext
from yuqing.demo_history import seed_history
from yuqing.demo_site import DemoSite, demo_sources
from yuqing.settings import load_settings

log = logging.getLogger(__name__)
# posts older than this are the demo's history (the newest "initial" post is under 12 hours old)
HISTORY_OLDER_THAN = timedelta(hours=16)
# role -> (username, unit code, display name)
DEMO_USERS = {
    "admin": ("demo-admin", None, "演示管理员"),
    "monitor": ("demo-monitor", None, "区委宣传部（演示）"),
    "unit": ("demo-unit", "jn-dongshan", "东山街道（演示）"),
    "leader": ("demo-leader", None, "分管领导（演示）"),
}


@dataclass
class DemoLogin:
    role: str
    username: str
    password: str
    token: str


@dataclass
class DemoRun:
    url: str
    site_url: str
    home: Path
    users: list[DemoLogin]

    def summary(self) -> dict[str, Any]:
        return {"url": self.url, "users": [asdict(u) for u in self.users]}


def _crawler() -> Callable[..., Any]:
    try:
        from yuqing.crawling import crawl_source
    except ModuleNotFoundError as exc:
        raise click.ClickException("采集模块（yuqing.crawling）未安装，无法运行演示") from exc
    return crawl_source


def prepare_instance(home: Path, site_url: str) -> AppContext:
    """A fresh instance whose sources are the demo web's; migrated and synced."""
    from yuqing.bootstrap import init_database

    home.mkdir(parents=True, exist_ok=True)
    (home / "sources.yaml").write_text(
        yaml.safe_dump({"sources": demo_sources(site_url)}, allow_unicode=True,
                       sort_keys=False), encoding="utf-8")
    ctx = AppContext(settings=load_settings(home))
    init_database(ctx.db, ctx.settings)
    return ctx


def create_demo_users(ctx: AppContext) -> list[DemoLogin]:
    logins = []
    for role, (username, unit, name) in DEMO_USERS.items():
        password = secrets.token_urlsafe(9)
        try:
            create_user(ctx.db, username, password, role, unit_code=unit, display_name=name)
        except AccountError:  # a demo folder used again: fresh passwords for the same users
            set_password(ctx.db, username, password)
        logins.append(DemoLogin(role, username, password, issue_token(ctx.db, username)))
    return logins


def case_count(ctx: AppContext) -> int:
    with ctx.db.session() as s:
        return s.scalar(select(func.count(Case.id))) or 0


def crawl_all(ctx: AppContext) -> int:
    """One crawl of every demo source through the real pipeline; returns posts new or changed."""
    crawl = _crawler()
    found = 0
    for source in ctx.settings.sources.sources:
        report = crawl(ctx.settings, source.key)
        found += report.new + report.updated
    return found


def run_demo(home: Path, *, port: int = 0, interval: float = 20.0, wait: float = 300.0,
             stop: threading.Event | None = None,
             on_ready: Callable[[DemoRun], None] | None = None) -> DemoRun:
    """Run the demo until ``stop`` is set; ``on_ready`` is called once the first cases exist."""
    from waitress.server import create_server

    from yuqing.scheduler import build_scheduler
    from yuqing.web import build_web

    stop = stop or threading.Event()
    _crawler()  # fail before starting anything when collection is missing
    site = DemoSite().start()
    server: Any = None
    scheduler: Any = None
    ctx: AppContext | None = None
    try:
        server = create_server(build_web(ctx := prepare_instance(home, site.url)),
                               host="127.0.0.1", port=port, threads=8, backlog=1024)
        threading.Thread(target=server.run, name="demo-console", daemon=True).start()
        run = DemoRun(url=f"http://127.0.0.1:{server.effective_port}/", site_url=site.url,
                      home=home, users=create_demo_users(ctx))
        crawl_all(ctx)
        # 演示历史数据: the previous weeks through the real pipeline and workflow, before the
        # scheduler's own analysis job could take those posts with today's clock
        worked = seed_history(ctx, DEMO_USERS["monitor"][0], DEMO_USERS["leader"][0],
                              older_than=HISTORY_OLDER_THAN)
        log.info("演示历史数据：%d 件历史工单已按流程处置", worked)
        history = case_count(ctx)  # ready once today's posts have opened cases too
        scheduler = build_scheduler(ctx)  # SLA sweeps, notifications, reindex
        scheduler.start()
        deadline = time.monotonic() + wait
        while case_count(ctx) <= history and time.monotonic() < deadline and not stop.is_set():
            site.world.release_next()
            crawl_all(ctx)
            stop.wait(2.0)
        if case_count(ctx) <= history and not stop.is_set():
            raise click.ClickException("演示数据已采集，但没有生成任何工单：请检查分析与分派配置")
        if on_ready and not stop.is_set():
            on_ready(run)
        while not stop.wait(interval):  # the queue keeps moving
            post = site.world.release_next()
            log.info("演示站点新增信息：%s", post.title or post.text[:30])
            crawl_all(ctx)
        return run
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if server is not None:
            server.close()
        site.stop()
        if ctx is not None:
            ctx.close()


def _print_ready(as_json: bool) -> Callable[[DemoRun], None]:
    def ready(run: DemoRun) -> None:
        if as_json:
            click.echo(json.dumps(run.summary(), ensure_ascii=False), nl=True)
            return
        click.echo(f"演示控制台：{run.url}")
        click.echo(f"演示站点（新闻、微博、留言板）：{run.site_url}/")
        click.echo(f"实例目录：{run.home}")
        click.echo("演示账号（角色 / 用户名 / 密码 / API 令牌）：")
        for u in run.users:
            click.echo(f"  {u.role:8} {u.username:14} {u.password:14} {u.token}")
        click.echo("新的演示信息会持续出现；按 Ctrl+C 结束。")

    return ready


@click.command("demo")
@click.option("--dir", "home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="演示实例目录（默认新建临时目录，不影响正式实例）")
@click.option("--port", type=int, default=0, help="控制台端口（默认自动选择空闲端口）")
@click.option("--interval", type=float, default=20.0, show_default=True,
              help="每隔多少秒发布一条新的演示信息并采集")
@click.option("--json", "as_json", is_flag=True,
              help="首批工单生成后输出一行 JSON：{url, users:[{role, username, password, token}]}")
def demo(home: Path | None, port: int, interval: float, as_json: bool) -> None:
    """启动演示：演示站点 + 真实采集分析分派流程 + 控制台，并为每个角色创建演示账号。"""
    home = home or Path(tempfile.mkdtemp(prefix="yuqing-demo-"))
    if not as_json:
        click.echo("正在启动演示站点、采集并生成工单，请稍候……")
    stop = threading.Event()
    # SIGTERM (a service manager, `kill`) ends the demo as cleanly as Ctrl+C does.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a user ends the demo
        run_demo(home, port=port, interval=interval, stop=stop, on_ready=_print_ready(as_json))
    click.echo("演示已结束", err=True)


COMMANDS: list[click.Command] = [demo]
