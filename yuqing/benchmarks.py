"""`yuqing bench`: find the benchmark modules, run each in its own process, gather the figures.

A benchmark module is any ``bench_*.py`` in the bench folder (``bench/`` of the source tree; it
is not in the installed package) with ``run(size: str) -> list[dict]``. Each dict is one figure:
``name``, ``ratio``, ``value``, ``baseline``, ``unit``, ``n`` (and optionally ``about``, ``goal``,
``better`` and any extra numbers). Several dicts with the same name and different ``n`` are one
figure measured at several sizes: the largest is the headline, all of them its growth.
A module may list the names it reports in ``BENCHMARKS = (...)`` so ``--only NAME`` can pick it
without running the others.

Each module runs in a child process (``python -m yuqing.benchmarks FILE SIZE OUT``): a crash,
a leak or a memory figure of one benchmark cannot touch the others, and a failing one is
reported while the rest still run.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SIZES = ("small", "full")
REQUIRED = ("name", "ratio", "value", "baseline", "unit", "n")
ENV_DIR = "YUQING_BENCH_DIR"


class BenchError(Exception):
    """A problem the user must fix before anything runs (message in Chinese)."""


@dataclass
class Module:
    path: Path
    declared: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.stem.removeprefix("bench_")


@dataclass
class Outcome:
    module: Module
    seconds: float
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    finished: str = field(default_factory=lambda: f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


# ---- where the benchmarks are ---------------------------------------------------------------

def locate(given: str | None = None, *, root: Path | None = None) -> Path:
    """The bench folder: ``--dir``, else $YUQING_BENCH_DIR, else ``bench/`` of the source tree
    this package was loaded from (an editable install or a checkout)."""
    chosen = given or os.environ.get(ENV_DIR)
    if chosen:
        folder = Path(chosen).expanduser().resolve()
        if not folder.is_dir():
            raise BenchError(f"基准目录不存在：{folder}")
        return folder
    root = root or Path(__file__).resolve().parents[1]
    folder = root / "bench"
    if (root / "pyproject.toml").is_file() and folder.is_dir():
        return folder
    raise BenchError("找不到基准目录 bench/：基准程序只在源码仓库中（从 wheel 安装的包不含它）。"
                     "请在源码仓库里运行（pip install -e .），或用 --dir 指定基准目录")


def discover(folder: Path) -> list[Module]:
    """``bench_*.py`` files that define ``run`` at top level (read, not imported: importing
    would load every heavy library into this process)."""
    found = []
    for path in sorted(folder.glob("bench_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError, OSError):
            found.append(Module(path))  # the child reports the error, with the others running
            continue
        if not any(isinstance(node, ast.FunctionDef) and node.name == "run"
                   for node in tree.body):
            continue
        found.append(Module(path, _declared(tree)))
    return found


def _declared(tree: ast.Module) -> tuple[str, ...]:
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "BENCHMARKS"):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return ()
            return tuple(str(v) for v in value)
    return ()


def select(modules: list[Module], only: Iterable[str]) -> dict[Path, set[str] | None]:
    """For ``--only`` names: each module to run, with the figure names to keep (None: all).

    A name is a module (``latency`` or ``bench_latency``) or a figure. A figure no module
    declares is looked for in the output of the modules that declare nothing."""
    wanted = [w.strip() for item in only for w in item.split(",") if w.strip()]
    if not wanted:
        return {m.path: None for m in modules}
    keep: dict[Path, set[str] | None] = {}
    for w in wanted:
        by_module = [m for m in modules if w in (m.name, m.path.stem)]
        for m in by_module:
            keep[m.path] = None
        if by_module:
            continue
        picked = ([m for m in modules if w in m.declared]
                  or [m for m in modules if not m.declared])
        if not picked:
            names = "、".join(sorted(m.name for m in modules)) or "（无）"
            raise BenchError(f"没有名为 {w} 的基准；可选：{names}")
        for m in picked:
            if m.path not in keep:
                keep[m.path] = set()
            figures = keep[m.path]
            if figures is not None:
                figures.add(w)
    # in discovery order
    return {m.path: keep[m.path] for m in modules if m.path in keep}


# ---- running --------------------------------------------------------------------------------

def run_all(modules: list[Module], size: str, *, timeout: float | None = None,
            on_start: Callable[[Module], None] | None = None,
            on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run the modules one after another (never side by side: they time things). They share
    a scratch folder ($YUQING_BENCH_CACHE) for set-up worth doing once, e.g. trained models."""
    import tempfile

    outcomes = []
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-cache-") as cache:
        for module in modules:
            if on_start:
                on_start(module)
            outcome = run_module(module, size, timeout=timeout, cache=cache)
            if on_done:
                on_done(outcome)
            outcomes.append(outcome)
    return outcomes


def run_module(module: Module, size: str, *, timeout: float | None = None,
               cache: str | None = None) -> Outcome:
    """Run one module in a child process; its prints go to our stderr (stdout stays ours)."""
    import tempfile

    root = module.path.parent.parent
    env = dict(os.environ)
    # the source tree first: `yuqing` children and `bench.corpus` come from the same checkout
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    if cache:
        env["YUQING_BENCH_CACHE"] = cache
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
        out = Path(tmp) / "result.json"
        # its own process group: on a timeout (or Ctrl-C here) the servers and `yuqing run`
        # children a benchmark started go down with it
        proc = subprocess.Popen(
            [sys.executable, "-m", "yuqing.benchmarks", str(module.path), size, str(out)],
            cwd=root, env=env, stdout=sys.stderr, stdin=subprocess.DEVNULL,
            start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            return Outcome(module, time.perf_counter() - started,
                           error=f"超时：{timeout:.0f} 秒内未完成")
        except BaseException:
            _stop_group(proc)
            raise
        seconds = time.perf_counter() - started
        data: dict[str, Any] = {}
        if out.is_file():
            try:
                data = json.loads(out.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                return Outcome(module, seconds, error=f"结果文件无法解析：{exc}")
    if data.get("error"):
        return Outcome(module, seconds, error=str(data["error"]))
    if proc.returncode != 0 or "results" not in data:
        return Outcome(module, seconds, error=f"子进程异常退出（退出码 {proc.returncode}）")
    return Outcome(module, seconds, results=data["results"])


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    import signal

    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def validate(results: Any) -> list[dict[str, Any]]:
    """The figures of ``run(size)``, checked, with the numbers made JSON-safe."""
    if not isinstance(results, list) or not results:
        raise ValueError("run(size) 应返回非空的 list[dict]")
    clean = []
    for i, item in enumerate(results):
        if not isinstance(item, dict):
            raise ValueError(f"第 {i + 1} 项不是 dict")
        missing = [k for k in REQUIRED if k not in item]
        if missing:
            raise ValueError(f"第 {i + 1} 项（{item.get('name', '?')}）缺少字段："
                             f"{'、'.join(missing)}")
        if not isinstance(item["name"], str) or not item["name"]:
            raise ValueError(f"第 {i + 1} 项的 name 应为非空字符串")
        for key in ("ratio", "value", "baseline", "n"):
            v = item[key]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise ValueError(f"{item['name']} 的 {key} 应为数字或 null，实为 {v!r}")
        clean.append(json.loads(json.dumps(_nan_to_none(item), default=str)))
    return clean


def _nan_to_none(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in item.items()}


def child(path: str, size: str, out: str) -> int:
    """In the child: import the module from its file, call ``run(size)``, write the figures."""
    file = Path(path).resolve()
    for p in (file.parent, file.parent.parent):  # `import corpus` and `from bench import …`
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # a module printing as it goes must not corrupt anything
    try:
        # under its own name, importable again by a spawned multiprocessing child
        spec = importlib.util.spec_from_file_location(file.stem, file)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[file.stem] = module
        spec.loader.exec_module(module)
        results = validate(module.run(size))
        payload: dict[str, Any] = {"results": results}
        code = 0
    except BaseException as exc:  # report everything, even SystemExit from an old main()
        traceback.print_exc()
        payload = {"error": f"{type(exc).__name__}: {exc}"}
        code = 1
    finally:
        sys.stdout = real_stdout
    Path(out).write_text(json.dumps(payload, ensure_ascii=False, default=str), encoding="utf-8")
    return code


# ---- gathering and showing --------------------------------------------------------------------

def gather(outcomes: list[Outcome],
           keep: dict[Path, set[str] | None] | None = None) -> dict[str, dict[str, Any]]:
    """One entry per figure name (several sizes folded into ``growth``), failures included
    with ``error`` and null numbers so every entry has the same keys. A name a second module
    reports too is kept as ``module.name``."""
    table: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        if o.error:
            for name in o.module.declared or (o.module.name,):
                table[name] = {"ratio": None, "value": None, "baseline": None, "unit": None,
                               "n": None, "module": o.module.name, "error": o.error}
            continue
        figures = (keep or {}).get(o.module.path)
        series: dict[str, list[dict[str, Any]]] = {}
        for r in o.results:
            if figures is None or r["name"] in figures:
                series.setdefault(r["name"], []).append(r)
        for name, rows in series.items():
            if name in table:  # two modules report the same figure: keep both, say whose
                name = f"{o.module.name}.{name}"
            rows = sorted(rows, key=lambda r: r["n"] or 0)
            head = {k: v for k, v in rows[-1].items() if k != "name"}
            head["module"] = o.module.name
            head["measured"] = o.finished
            if len({r["n"] for r in rows}) > 1:
                head["growth"] = [{k: r[k] for k in ("n", "value", "baseline", "ratio")}
                                  for r in rows]
            table[name] = head
    return table


# ---- resuming a long run --------------------------------------------------------------------

def load_saved(path: Path, size: str) -> dict[str, dict[str, Any]]:
    """The table an earlier ``--resume`` run saved at ``path`` (empty when the file does not
    exist yet). A table of another size, or a file that is not one, is a clear error."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchError(f"无法读取已保存的结果 {path}：{exc}") from exc
    if (not isinstance(data, dict) or not isinstance(data.get("figures"), dict)
            or not all(isinstance(e, dict) and isinstance(e.get("module"), str)
                       for e in data["figures"].values())):
        raise BenchError(f"{path} 不是 yuqing bench --resume 保存的结果文件")
    if data.get("size") != size:
        raise BenchError(f"{path} 中是 --size {data.get('size')} 的结果，与本次的 --size {size} "
                         "不同；请换一个文件，或删掉它重跑")
    return data["figures"]


def done_modules(saved: dict[str, dict[str, Any]]) -> set[str]:
    """Modules whose every saved figure was measured (a failed one runs again)."""
    failed = {e["module"] for e in saved.values() if e.get("error")}
    return {e["module"] for e in saved.values()} - failed


def merge(saved: dict[str, dict[str, Any]],
          fresh: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The saved figures with every module measured now replaced by its fresh figures."""
    rerun = {e["module"] for e in fresh.values()}
    merged = {k: v for k, v in saved.items() if v["module"] not in rerun}
    merged.update(fresh)
    return merged


def save(path: Path, size: str, figures: dict[str, dict[str, Any]]) -> None:
    """Written after every module, atomically: a run stopped after hours keeps what it has."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"size": size, "figures": figures}, ensure_ascii=False,
                              indent=1), encoding="utf-8")
    os.replace(tmp, path)


def fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 0.01:
            return f"{v:.3f}"
        return f"{v:.2g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def size_label(n: Any) -> str:
    if not isinstance(n, int | float):
        return "—"
    n = int(n)
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n >= div and n % (div // 10) == 0:
            return f"{n / div:g}{unit}"
    return f"{n:,}"


def growth_text(entry: dict[str, Any]) -> str:
    rows = entry.get("growth")
    if not rows:
        return f"只测了一个规模（n = {size_label(entry.get('n'))}）"
    return " → ".join(f"{size_label(r['n'])}: {fmt(r['value'])}" for r in rows) + \
        f" {entry.get('unit') or ''}".rstrip()


def text_table(table: dict[str, dict[str, Any]]) -> str:
    headers = ["基准", "比值", "数值", "基线", "单位", "规模 n", "随规模"]
    rows = []
    for name, e in table.items():
        if e.get("error"):
            rows.append([name, "失败", "—", "—", "—", "—", e["error"][:60]])
            continue
        grows = " → ".join(fmt(r["value"]) for r in e["growth"]) if e.get("growth") else ""
        rows.append([name, fmt(e["ratio"]), fmt(e["value"]), fmt(e["baseline"]),
                     e.get("unit") or "—", size_label(e["n"]), grows])
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(s: str) -> int:
    # CJK characters take two columns in a terminal
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * (width - _width(s))


def _resumed_lines(table: dict[str, dict[str, Any]], resumed: str | None) -> list[str]:
    if not resumed:
        return []
    when: dict[str, str] = {}
    for e in table.values():
        when.setdefault(e["module"], e.get("measured") or "时间未记录")
    parts = "；".join(f"`{m}` {t}" for m, t in sorted(when.items()))
    return [f"- 分次运行：结果汇总自 `--resume {resumed}`（每个模块的基线与它在同一次运行中测得）。"
            f"各模块测量时间：{parts}"]


def markdown(table: dict[str, dict[str, Any]], size: str, started: datetime,
             seconds: float, *, resumed: str | None = None) -> str:
    def cell(s: Any) -> str:
        return str(s).replace("|", "\\|").replace("\n", " ")

    out = [
        "# 性能基准（docs/PERFORMANCE.md）",
        "",
        "> 本文件由 `yuqing bench --markdown` 生成，请勿手工编辑；重跑命令即更新。",
        "",
        (f"- 汇总时间：{started:%Y-%m-%d %H:%M} UTC（本次运行 {seconds:.0f} 秒；各模块的测量时间见下）"
         if resumed else f"- 运行时间：{started:%Y-%m-%d %H:%M} UTC，用时 {seconds:.0f} 秒"),
        f"- 规模：`--size {size}`"
        + ("（冒烟规模：只说明能跑完，不代表目标是否达成）" if size == "small" else ""),
        f"- 机器：{os.cpu_count()} 核，Python {platform.python_version()}，"
        f"{platform.system()} {platform.machine()}，结束时负载（1 分钟平均）"
        f"{os.getloadavg()[0]:.1f}（机器共用时数字有噪声，比值比绝对值可靠）",
        "- 比值：与同一次运行中测得的基线相比（各项含义见下）；数值与基线的单位见“单位”列。",
        *_resumed_lines(table, resumed),
        "",
        "| 基准 | 比值 | 数值 | 基线 | 单位 | 规模 n | 目标 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in table.items():
        if e.get("error"):
            out.append(f"| `{name}` | 失败 | — | — | — | — | {cell(e.get('goal') or '—')} |")
            continue
        out.append(f"| `{name}` | {fmt(e['ratio'])} | {fmt(e['value'])} | {fmt(e['baseline'])} "
                   f"| {cell(e.get('unit') or '—')} | {size_label(e['n'])} "
                   f"| {cell(e.get('goal') or '—')} |")
    out += ["", "## 各项说明", ""]
    for name, e in table.items():
        out += [f"### `{name}`", ""]
        if e.get("error"):
            out += [f"本次运行失败：{cell(e['error'])}", ""]
        out.append(f"- 含义：{e.get('about') or '（基准模块未给出说明）'}")
        out.append(f"- 目标：{e.get('goal') or '（未给出）'}")
        if not e.get("error"):
            out.append(f"- 随规模增长（10k → 100k → 1M）：{growth_text(e)}")
            extra = {k: v for k, v in e.items() if k not in
                     {*REQUIRED, "about", "goal", "growth", "module", "better", "measured"}}
            if extra:
                out.append("- 其他读数：" + "，".join(f"{k} = {fmt(v)}" for k, v in extra.items()))
        out.append(f"- 来源：`bench/bench_{e['module']}.py`")
        out.append("")
    return "\n".join(out)


def now_utc() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    sys.exit(child(*sys.argv[1:4]))
