"""`yuqing bench` with small benchmark modules of its own in a temporary folder (``--dir``):
the JSON contract, --only, a failing benchmark among good ones, and the Markdown it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GOOD = '''
import os
from pathlib import Path

BENCHMARKS = ("alpha_speed", "alpha_memory")


def run(size):
    Path(os.environ["BENCH_TRACE"], "good").write_text(size)
    print("this print must not reach stdout")
    sizes = (10_000,) if size == "small" else (10_000, 100_000, 1_000_000)
    out = [{"name": "alpha_speed", "ratio": 0.5 * i, "value": 2.0 * i, "baseline": 4.0,
            "unit": "posts/s", "n": n, "better": "higher", "about": "阿尔法的速度",
            "goal": "≥ 1.0"} for i, n in enumerate(sizes, 1)]
    out.append({"name": "alpha_memory", "ratio": None, "value": 3, "baseline": None,
                "unit": "KB/post", "n": 1_000, "rows_lost": 0})
    return out
'''
PLAIN = '''
import os
from pathlib import Path


def run(size):
    Path(os.environ["BENCH_TRACE"], "plain").write_text(size)
    return [{"name": "beta", "ratio": 1.0, "value": 7.5, "baseline": 7.5, "unit": "ms",
             "n": 20}]
'''
RAISES = '''
def run(size):
    raise RuntimeError("基准自己出错了")
'''
DIES = '''
import os


def run(size):
    os._exit(3)
'''
MALFORMED = '''
BENCHMARKS = ("gamma",)


def run(size):
    return [{"name": "gamma", "value": 1.0}]
'''
NOT_A_BENCHMARK = '''
def helper():
    raise AssertionError("modules without run() are not benchmarks")
'''


def write(folder: Path, modules: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in modules.items():
        (folder / f"{name}.py").write_text(text, encoding="utf-8")
    return folder


def bench(folder: Path, *args: str, trace: Path) -> subprocess.CompletedProcess[str]:
    trace.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env["BENCH_TRACE"] = str(trace)
    return subprocess.run([sys.executable, "-m", "yuqing", "bench", "--dir", str(folder), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def ran(trace: Path) -> set[str]:
    return {p.name for p in trace.iterdir()}


@pytest.fixture(scope="module")
def good_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("good") / "bench",
                 {"bench_alpha": GOOD, "bench_beta": PLAIN, "corpus": NOT_A_BENCHMARK,
                  "bench_helpers_only": NOT_A_BENCHMARK})


def test_json_is_the_last_line_keyed_by_figure_with_the_contract_keys(good_folder: Path,
                                                                       tmp_path: Path) -> None:
    done = bench(good_folder, "--json", "--size", "full", trace=tmp_path / "t")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    data = json.loads(lines[-1])
    assert set(data) == {"alpha_speed", "alpha_memory", "beta"}
    for entry in data.values():
        assert {"ratio", "value", "baseline", "unit", "n"} <= set(entry)
    # one figure at three sizes: the largest is the headline, all three its growth
    speed = data["alpha_speed"]
    assert speed["n"] == 1_000_000 and speed["value"] == 6.0 and speed["ratio"] == 1.5
    assert [g["n"] for g in speed["growth"]] == [10_000, 100_000, 1_000_000]
    assert data["alpha_memory"]["ratio"] is None and data["alpha_memory"]["rows_lost"] == 0
    assert data["beta"].pop("measured").endswith(" UTC")  # when: for runs done in parts
    assert data["beta"] == {"ratio": 1.0, "value": 7.5, "baseline": 7.5, "unit": "ms",
                            "n": 20, "module": "beta"}
    # the table with Chinese headings comes first; the modules' prints went to stderr
    assert lines[0].split()[:4] == ["基准", "比值", "数值", "基线"]
    assert "this print must not reach stdout" not in done.stdout
    assert "this print must not reach stdout" in done.stderr
    assert ran(tmp_path / "t") == {"good", "plain"}
    assert (tmp_path / "t" / "good").read_text() == "full"


def test_only_runs_the_named_module_or_the_module_declaring_the_figure(
        good_folder: Path, tmp_path: Path) -> None:
    by_module = bench(good_folder, "--only", "beta", "--json", trace=tmp_path / "a")
    assert by_module.returncode == 0, by_module.stderr
    assert set(json.loads(by_module.stdout.splitlines()[-1])) == {"beta"}
    assert ran(tmp_path / "a") == {"plain"}

    by_figure = bench(good_folder, "--only", "alpha_memory", "--json", trace=tmp_path / "b")
    assert by_figure.returncode == 0, by_figure.stderr
    assert set(json.loads(by_figure.stdout.splitlines()[-1])) == {"alpha_memory"}
    assert ran(tmp_path / "b") == {"good"}  # declared in BENCHMARKS: beta's module not run

    unknown = bench(good_folder, "--only", "bench_alpha,nosuch", trace=tmp_path / "c")
    assert unknown.returncode != 0
    assert "没有名为 nosuch 的基准" in unknown.stderr


def test_a_failing_benchmark_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    folder = write(tmp_path / "bench", {"bench_alpha": GOOD, "bench_copy": PLAIN,
                                        "bench_dies": DIES, "bench_malformed": MALFORMED,
                                        "bench_raises": RAISES, "bench_zeta": PLAIN})
    done = bench(folder, "--json", trace=tmp_path / "t")
    assert done.returncode == 1
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert ran(tmp_path / "t") == {"good", "plain"}  # before and after the failures
    assert data["alpha_speed"]["value"] == 2.0 and data["beta"]["value"] == 7.5
    # the same figure from two modules: both kept, the second under its module's name
    assert data["beta"]["module"] == "copy" and data["zeta.beta"]["module"] == "zeta"
    assert "基准自己出错了" in data["raises"]["error"]
    assert "退出码 3" in data["dies"]["error"]
    assert "缺少字段" in data["gamma"]["error"]  # keyed by the figure it declares
    for name in ("raises", "dies", "gamma"):
        assert data[name]["value"] is None and "ratio" in data[name]
    assert "基准 raises 失败" in done.stderr and "基准自己出错了" in done.stderr
    assert "失败" in done.stdout  # the table shows the failure too


def test_markdown_says_what_each_figure_means_its_goal_and_how_it_grows(
        tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    folder = write(repo / "bench", {"bench_alpha": GOOD, "bench_raises": RAISES})
    done = bench(folder, "--size", "full", "--markdown", trace=tmp_path / "t")
    assert done.returncode == 1  # one benchmark failed; the file is written all the same
    text = (repo / "docs" / "PERFORMANCE.md").read_text(encoding="utf-8")
    assert "yuqing bench --markdown" in text and "请勿手工编辑" in text
    assert "`--size full`" in text
    assert "| `alpha_speed` | 1.500 | 6.000 | 4.000 | posts/s | 1M | ≥ 1.0 |" in text
    assert "- 含义：阿尔法的速度" in text
    assert "10k: 2.000 → 100k: 4.000 → 1M: 6.000 posts/s" in text
    assert "只测了一个规模（n = 1k）" in text  # alpha_memory
    assert "rows_lost = 0" in text
    assert "本次运行失败：RuntimeError: 基准自己出错了" in text

    elsewhere = tmp_path / "out" / "perf.md"
    again = bench(folder, "--only", "alpha", "--markdown", str(elsewhere), "--json",
                  trace=tmp_path / "t2")
    assert again.returncode == 0, again.stderr
    assert "`--size small`" in elsewhere.read_text(encoding="utf-8")
    json.loads(again.stdout.strip().splitlines()[-1])  # --markdown FILE did not eat --json


def test_a_missing_or_empty_bench_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = bench(tmp_path / "nowhere", trace=tmp_path / "t")
    assert missing.returncode != 0 and "基准目录不存在" in missing.stderr
    empty = bench(write(tmp_path / "empty", {"bench_x": NOT_A_BENCHMARK}), trace=tmp_path / "t")
    assert empty.returncode != 0 and "没有定义 run(size) 的 bench_*.py" in empty.stderr


def test_the_bench_folder_is_found_in_the_source_tree_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from yuqing import benchmarks

    monkeypatch.delenv(benchmarks.ENV_DIR, raising=False)
    assert benchmarks.locate() == ROOT / "bench"  # this checkout
    # an installed wheel: the package's parent is site-packages, with no bench/ beside it
    site = write(tmp_path / "site-packages" / "bench", {"bench_x": PLAIN}).parent
    with pytest.raises(benchmarks.BenchError, match="从 wheel 安装的包不含它"):
        benchmarks.locate(root=site)
    monkeypatch.setenv(benchmarks.ENV_DIR, str(site / "bench"))
    assert benchmarks.locate(root=site) == site / "bench"


HANGS = '''
import os
import subprocess
import time
from pathlib import Path


def run(size):
    server = subprocess.Popen(["sleep", "600"])  # stands for a `yuqing run` it started
    Path(os.environ["BENCH_TRACE"], "server").write_text(str(server.pid))
    time.sleep(600)
'''


def test_a_benchmark_past_the_timeout_fails_and_takes_its_children_with_it(
        tmp_path: Path) -> None:
    import time

    folder = write(tmp_path / "bench", {"bench_hangs": HANGS, "bench_zeta": PLAIN})
    done = bench(folder, "--timeout", "10", "--json", trace=tmp_path / "t")
    assert done.returncode == 1
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert "超时" in data["hangs"]["error"] and data["beta"]["value"] == 7.5
    pid = int((tmp_path / "t" / "server").read_text())
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}").exists() else ""
        if ") Z " in stat:  # a zombie waiting for init to reap it is gone already
            break
        time.sleep(0.1)
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}").exists() else ""
    assert not stat or ") Z " in stat, stat


def test_resume_saves_after_each_module_and_skips_what_was_measured(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    folder = write(repo / "bench", {"bench_alpha": GOOD, "bench_beta": PLAIN,
                                    "bench_raises": RAISES})
    saved = tmp_path / "full.json"
    first = bench(folder, "--size", "full", "--resume", str(saved), trace=tmp_path / "t1")
    assert first.returncode == 1  # bench_raises failed
    assert ran(tmp_path / "t1") == {"good", "plain"}
    kept = json.loads(saved.read_text(encoding="utf-8"))
    assert kept["size"] == "full"
    assert kept["figures"]["alpha_speed"]["value"] == 6.0
    assert kept["figures"]["raises"]["error"].startswith("RuntimeError")

    # the failed module is fixed; a second run measures only it and reports everything
    write(folder, {"bench_raises": PLAIN.replace('"beta"', '"gamma"').replace("plain",
                                                                             "fixed")})
    second = bench(folder, "--size", "full", "--resume", str(saved), "--markdown", "--json",
                   trace=tmp_path / "t2")
    assert second.returncode == 0, second.stderr
    assert ran(tmp_path / "t2") == {"fixed"}
    table = json.loads(second.stdout.strip().splitlines()[-1])
    assert set(table) == {"alpha_speed", "alpha_memory", "beta", "gamma"}
    assert table["alpha_speed"]["growth"][-1]["n"] == 1_000_000
    text = (repo / "docs" / "PERFORMANCE.md").read_text(encoding="utf-8")
    assert "| `gamma` | 1.000 | 7.500 |" in text and "| `alpha_speed` | 1.500 |" in text
    assert "分次运行" in text and "`raises`" in text and "`alpha`" in text
    assert "measured =" not in text  # the time is said once per module, not as a reading

    # --only reruns a module that is already saved
    third = bench(folder, "--size", "full", "--resume", str(saved), "--only", "beta",
                  trace=tmp_path / "t3")
    assert third.returncode == 0, third.stderr
    assert ran(tmp_path / "t3") == {"plain"}

    other = bench(folder, "--size", "small", "--resume", str(saved), trace=tmp_path / "t4")
    assert other.returncode != 0 and "--size full" in other.stderr
    assert not (tmp_path / "t4").exists() or ran(tmp_path / "t4") == set()
    junk = tmp_path / "junk.json"
    junk.write_text('{"figures": [1]}', encoding="utf-8")
    bad = bench(folder, "--resume", str(junk), trace=tmp_path / "t5")
    assert bad.returncode != 0 and "不是 yuqing bench --resume 保存的结果文件" in bad.stderr
