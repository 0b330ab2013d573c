"""`yuqing demo`: the demo web, the real pipeline and the console, with one login per role."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from store import CaseAction, Database
from yuqing.commands.demo import DEMO_USERS, DemoLogin, DemoRun, _print_ready, run_demo

ZONE = ZoneInfo("Asia/Shanghai")


def test_the_json_line_names_the_url_and_every_role(capsys: pytest.CaptureFixture[str]) -> None:
    run = DemoRun(url="http://127.0.0.1:1234/", site_url="http://127.0.0.1:1", home=Path("x"),
                  users=[DemoLogin(r, u, "pw", "yq_t") for r, (u, _, _) in DEMO_USERS.items()])
    _print_ready(True)(run)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["url"] == "http://127.0.0.1:1234/"
    assert [u["role"] for u in line["users"]] == ["admin", "monitor", "unit", "leader"]
    assert set(line["users"][0]) == {"role", "username", "password", "token"}


@pytest.mark.slow
def test_the_demo_crawls_routes_and_serves_cases_to_each_role(tmp_path: Path) -> None:
    stop, ready = threading.Event(), threading.Event()
    runs: list[DemoRun] = []
    errors: list[BaseException] = []

    def on_ready(run: DemoRun) -> None:
        runs.append(run)
        ready.set()

    def target() -> None:
        try:
            run_demo(tmp_path / "demo", interval=2.0, wait=120.0, stop=stop, on_ready=on_ready)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        ready.wait(400)
        assert not errors, errors
        run = runs[0]
        tokens = {u.role: u.token for u in run.users}

        def cases(role: str) -> list[dict[str, object]]:
            req = urllib.request.Request(run.url + "api/v1/cases",
                                         headers={"Authorization": f"Bearer {tokens[role]}"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())["cases"]

        seen = cases("monitor")
        assert seen and all(c["title"] and c["severity"] for c in seen)
        unit_cases = cases("unit")
        assert {c["id"] for c in unit_cases} <= {c["id"] for c in seen}
        # the leader's dashboard opens on last week's figures from the demo history
        req = urllib.request.Request(run.url + "api/v1/dashboard?preset=last_week",
                                     headers={"Authorization": f"Bearer {tokens['leader']}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            board = json.loads(r.read())
        assert board["totals"]["posts"] > 0 and board["hot_events"] and board["words"]
        assert any(s["posts"] for s in board["map"]["streets"])
        # and last week's cases were worked through the workflow (what the reports read)
        db = Database(f"sqlite:///{run.home / 'yuqing.db'}")
        lo, hi = (datetime.fromisoformat(board["period"][k]) for k in ("from", "to"))
        with db.session() as s:
            done = {a for a, at in s.execute(select(CaseAction.action, CaseAction.at))
                    if lo.date() <= at.astimezone(ZONE).date() <= hi.date()}
            notes = s.scalars(select(CaseAction.note).where(CaseAction.action == "sign")).all()
        db.dispose()
        assert {"dispatch", "sign", "respond", "close"} <= done, done
        assert notes and all("演示历史数据" in n for n in notes)
    finally:
        stop.set()
        thread.join(60)
