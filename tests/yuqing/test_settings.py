from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from yuqing.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def _write(home: Path, name: str, body: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / f"{name}.yaml").write_text(body, encoding="utf-8")


def _problems(exc: pytest.ExceptionInfo[ConfigError]) -> list[tuple[str, str, str]]:
    return [(Path(p.file).name, p.path, p.reason) for p in exc.value.problems]


def test_shipped_defaults_load_and_cross_check(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert s.jurisdictions.home.code == "320115"
    assert {c.name for c in s.jurisdictions.home.children} >= {"东山街道", "江宁街道", "麒麟街道"}
    assert s.taxonomy.topic("education").departments["district"] == "jn-edu"
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'yuqing.db'}"
    assert s.search_url.startswith("fts5:///")


def test_instance_yaml_overrides_and_environment_overrides_both(tmp_path: Path) -> None:
    _write(tmp_path, "settings", "web:\n  port: 9001\ntimezone: Asia/Urumqi\n")
    s = load_settings(tmp_path, environ={"YUQING_WEB__PORT": "9002",
                                         "YUQING_DATABASE_URL": "sqlite:////tmp/x.db"})
    assert s.app.web.port == 9002  # environment wins over the instance file
    assert s.app.web.host == "127.0.0.1"  # untouched keys keep their defaults
    assert s.app.timezone == "Asia/Urumqi"
    assert s.database_url == "sqlite:////tmp/x.db"


def test_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret\n")
    s = load_settings(tmp_path, environ={"YUQING_SECRET_KEY_FILE": str(secret)})
    assert s.app.secret_key == "s3cret"


def test_a_wrong_key_names_the_file_and_key_path(tmp_path: Path) -> None:
    _write(tmp_path, "settings", "web:\n  prot: 80\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    assert _problems(exc) == [("settings.yaml", "web.prot", "不认识的配置项（拼写错误？）")]
    assert str(tmp_path / "settings.yaml") in str(exc.value)


def test_a_bad_type_is_refused_with_its_reason(tmp_path: Path) -> None:
    _write(tmp_path, "sla", "levels:\n  1: {sign_minutes: soon}\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    assert ("sla.yaml", "levels[1].sign_minutes", "应为整数") in _problems(exc)


def test_a_rule_naming_an_unknown_unit_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "routing", "coordinator: jn-publicity\noverrides:\n"
                                "  - {name: 测试, keywords: [火], lead: no-such-unit}\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    assert _problems(exc) == [("routing.yaml", "overrides[0].lead", "未知的单位 'no-such-unit'")]


def test_a_unit_with_an_unknown_topic_and_place_is_refused(tmp_path: Path) -> None:
    shipped = (ROOT / "config" / "units.yaml").read_text(encoding="utf-8")
    broken = shipped.replace("duties: [education]", "duties: [educaton]", 1)
    broken = broken.replace('jurisdiction: "320115001"', 'jurisdiction: "999999"', 1)
    _write(tmp_path, "units", broken)
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    problems = _problems(exc)
    assert ("units.yaml", "units[2].duties[0]", "未知的领域 'educaton'") in problems
    assert any(p[1].endswith(".jurisdiction") and "999999" in p[2] for p in problems)


def test_broken_yaml_says_where(tmp_path: Path) -> None:
    _write(tmp_path, "channels", "channels: [\n  - name: x\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    (problem,) = exc.value.problems
    assert problem.file.endswith("channels.yaml") and "YAML 语法错误" in problem.reason


def test_config_check_exits_2_and_starts_nothing(tmp_path: Path) -> None:
    _write(tmp_path, "settings", "web:\n  port: 99999\n")
    proc = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(tmp_path), "config",
                           "check"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "settings.yaml: web.port: 应小于或等于 65535" in proc.stderr
    assert not (tmp_path / "yuqing.db").exists()  # nothing was started or created


def test_config_check_passes_on_the_shipped_defaults(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(tmp_path), "config",
                           "check"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "配置检查通过" in proc.stdout


def test_a_binary_secret_key_file_is_a_clear_config_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={"YUQING_SECRET_KEY_FILE": str(secret)})
    (problem,) = exc.value.problems
    assert problem.file == "环境变量 YUQING_SECRET_KEY_FILE"
    assert "不是 UTF-8 文本" in problem.reason and str(secret) in problem.reason


def test_a_missing_secret_key_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={"YUQING_SECRET_KEY_FILE": str(tmp_path / "nope")})
    (problem,) = exc.value.problems
    assert problem.file == "环境变量 YUQING_SECRET_KEY_FILE" and "无法读取文件" in problem.reason


def test_a_bad_environment_value_names_the_variable_not_settings_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={"YUQING_WEB__PORT": "0"})
    assert _problems(exc) == [("环境变量 YUQING_WEB__PORT", "", "应大于或等于 1")]
    assert "settings.yaml" not in str(exc.value)


def test_config_messages_are_chinese_with_their_bounds(tmp_path: Path) -> None:
    _write(tmp_path, "settings", "web:\n  port: -5\n  threads: lots\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, environ={})
    reasons = {p[1]: p[2] for p in _problems(exc)}
    assert reasons == {"web.port": "应大于或等于 1", "web.threads": "应为整数"}
