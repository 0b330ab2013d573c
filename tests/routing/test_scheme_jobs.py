"""The scheme and spike jobs against a real database: spikes alert once per (key, hour),
schemes can open a case below the threshold, and the commands report in Chinese."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from scheme_support import T0, add_post
from sqlalchemy import func, select

from store import Case, CaseAction, Event, Notification, Scheme
from yuqing.commands.schemes import schemes_group, spikes_command
from yuqing.context import AppContext
from yuqing.schemes import handle_spikes, schemes_job

NOW = T0 + timedelta(days=15)


def _history(ctx: AppContext, spike: int) -> None:
    """One post in the 09:00-10:00 UTC hour of each of the previous 14 days, ``spike`` now."""
    for day in range(1, 15):
        at = NOW - timedelta(days=day, minutes=30)
        add_post(ctx.db, f"东山街道河道发黑{day}", "河道污染", at=at, topic="environment",
                 places=("320115001",))
    for i in range(spike):
        add_post(ctx.db, f"东山街道河道死鱼{i}", "河道污染", at=NOW - timedelta(minutes=50 - i),
                 topic="environment", places=("320115001",))


def test_a_spike_alerts_once_per_key_and_hour_and_says_why(ctx: AppContext) -> None:
    _history(ctx, 23)
    found = {s.key: s.why for s in handle_spikes(ctx, NOW)}
    assert found["place_topic:320115001/environment"] == \
        "东山街道·生态环境 近1小时 23 条，基线 1 条，约 23 倍"
    assert found["topic:environment"] == "生态环境 近1小时 23 条，基线 1 条，约 23 倍"
    with ctx.db.session() as s:
        first = s.scalar(select(func.count(Notification.id)))
        subjects = set(s.scalars(select(Notification.subject)))
    assert first == 2 and "【异动】东山街道·生态环境 近1小时 23 条，基线 1 条，约 23 倍" in subjects
    handle_spikes(ctx, NOW + timedelta(minutes=10))  # the same hour: no second alert
    with ctx.db.session() as s:
        assert s.scalar(select(func.count(Notification.id))) == first


def test_a_quiet_hour_raises_nothing(ctx: AppContext) -> None:
    _history(ctx, 3)
    assert handle_spikes(ctx, NOW) == []
    result = CliRunner().invoke(spikes_command, ["--at", NOW.isoformat(), "--json"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert "未发现异动" in result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {"spikes": []}


def test_the_spikes_command_lists_each_spike(ctx: AppContext) -> None:
    _history(ctx, 23)
    result = CliRunner().invoke(spikes_command, ["--at", NOW.isoformat(), "--json"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert "异动：东山街道·生态环境 近1小时 23 条" in result.output
    assert len(json.loads(result.output.strip().splitlines()[-1])["spikes"]) == 2
    bad = CliRunner().invoke(spikes_command, ["--at", "不是时间"], obj=ctx)
    assert bad.exit_code == 2 and "无法识别的时间" in bad.output


def test_a_scheme_opens_a_case_for_matches_below_the_threshold(ctx: AppContext) -> None:
    with ctx.db.session() as s:
        s.add(Scheme(key="console-1", name="竹山路污水", owner="值班员", enabled=True,
                     spec={"query": "竹山路 污水", "open_case": True, "case_severity": 4},
                     created_at=T0, updated_at=T0))
        quiet, other = Event(title="竹山路污水"), Event(title="运动会")
        s.add_all([quiet, other])
        s.flush()
        quiet_id, other_id = quiet.id, other.id
    add_post(ctx.db, "竹山路污水井冒水", "竹山路污水井冒水两天", event_id=quiet_id,
             places=("320115001",))
    add_post(ctx.db, "运动会", "东山街道运动会", event_id=other_id)
    schemes_job(ctx)
    with ctx.db.session() as s:
        cases = s.scalars(select(Case)).all()
        assert [(c.event_id, c.severity) for c in cases] == [(quiet_id, 4)]
        opened = s.scalar(select(CaseAction).where(CaseAction.case_id == cases[0].id,
                                                  CaseAction.action == "open"))
        assert opened is not None and "监测方案「竹山路污水」命中" in opened.note
    schemes_job(ctx)  # nothing new: still one case
    with ctx.db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 1


def test_schemes_check_names_file_path_and_reason(ctx: AppContext) -> None:
    path = Path(ctx.settings.home) / "schemes.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("schemes:\n  - {key: Bad-Key, name: 测试, query: '污水 |'}\n",
                    encoding="utf-8")
    result = CliRunner().invoke(schemes_group, ["check"], obj=ctx)
    assert result.exit_code == 2
    assert f"配置错误 {path}: schemes[0].key: 格式不正确" in result.output
    assert "schemes[0].query:" in result.output and "两侧都需要检索词" in result.output
    path.write_text("schemes:\n  - {key: water, name: 污水, query: 污水}\n", encoding="utf-8")
    ok = CliRunner().invoke(schemes_group, ["check"], obj=ctx)
    assert ok.exit_code == 0 and "校验通过：1 个方案" in ok.output
    listed = CliRunner().invoke(schemes_group, ["list", "--json"], obj=ctx)
    assert listed.exit_code == 0 and "water\t污水\t启用\tschemes.yaml" in listed.output


def test_the_scheduler_runs_both_jobs_and_a_bad_schemes_yaml_stops_its_start(
        ctx: AppContext) -> None:
    import pytest

    from yuqing.scheduler import build_scheduler
    from yuqing.settings import ConfigError

    assert {"schemes", "spikes"} <= {j.id for j in build_scheduler(ctx).get_jobs()}
    path = Path(ctx.settings.home) / "schemes.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("schemes:\n  - {key: x, name: 测试, query: 污水, topics: [nonsense]}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("schemes[0].topics[0]: 未知的领域 'nonsense'")):
        build_scheduler(ctx)
