"""A real `yuqing run` on a temporary instance, for the benchmarks that time the running product.

The child process gets a scrubbed environment (no YUQING_* of the caller: a benchmark must
never write into someone's real database), SQLite under a temporary folder, the webhook
channel pointed at a receiver on 127.0.0.1, and a monitor account with an API token.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

STREETS = ["东山街道", "秣陵街道", "汤山街道", "禄口街道", "淳化街道", "麒麟街道", "横溪街道",
           "江宁街道", "谷里街道", "湖熟街道"]
SUBJECTS = ["小区", "学校", "医院", "菜市场", "工地", "幼儿园", "养老院", "商场", "中学", "公园"]
NAMES = "明华建国伟强芳丽军平刚桂英秀兰春梅海燕志勇金凤玉山水林泉石桥湖云"
MATTERS = [
    "电梯故障，{n}名居民被困，物业迟迟未到场",
    "燃气泄漏，{n}户居民紧急疏散，现场有刺鼻气味",
    "食堂饭菜疑似变质，{n}名学生出现呕吐症状",
    "拖欠农民工工资{n}万元，工人聚集讨薪",
    "楼道堆放杂物引发火灾，{n}人被送医",
    "外墙瓷砖脱落砸伤{n}名路人",
    "暴雨导致道路积水{n}厘米，车辆被困，居民无法出行",
    "违规收费{n}元，家长质疑收费依据，多次反映无果",
    "连续{n}天停水，居民生活受到严重影响",
    "深夜施工噪音扰民，居民投诉{n}次无人处理",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(samples: list[float], q: int) -> float:
    """The q-th percentile (inclusive method: defined for any number of samples)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def alert_posts(n: int, seed: int, tag: str) -> list[dict[str, Any]]:
    """Posts that each open a case of their own: a different street, matter and place name,
    high engagement; the title (which becomes the case title) carries a unique tag."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        street = STREETS[i % len(STREETS)]
        matter = MATTERS[(i * 3 + i // len(STREETS)) % len(MATTERS)].format(n=rng.randint(3, 60))
        place = "".join(rng.choices(NAMES, k=2)) + rng.choice(SUBJECTS)
        title = f"{street}{place}{matter.split('，')[0]}（{tag}{i}）"
        out.append({"external_id": f"{tag}{i}", "title": title,
                    "text": f"{street}{place}{matter}。网友称已向有关部门反映，希望尽快给个说法。",
                    "source_kind": "social", "reposts": rng.randint(1500, 4000),
                    "comments": rng.randint(200, 600), "likes": rng.randint(800, 3000)})
    return out


class Receiver:
    """A webhook receiver on 127.0.0.1: the first arrival time of each case's message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.first: dict[int, float] = {}
        self.count = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    case_id = json.loads(body).get("case_id")
                except ValueError:
                    case_id = None
                with receiver._lock:
                    receiver.count += 1
                    if isinstance(case_id, int):
                        receiver.first.setdefault(case_id, at)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env["YUQING_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def yuqing(home: Path, *args: str, stdin: str | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), *args],
                          cwd=ROOT, env=child_env(home), input=stdin, capture_output=True,
                          text=True, timeout=timeout, check=False)


def make_instance(home: Path, webhook_url: str | None = None) -> str:
    """Create the instance (migrated, reference data synced) and return a monitor's token."""
    home.mkdir(parents=True, exist_ok=True)
    if webhook_url:
        channels = {"channels": [
            {"name": "console", "kind": "console", "enabled": True},
            {"name": "webhook", "kind": "webhook", "enabled": True,
             "options": {"url": webhook_url, "secret": ""}}]}
        (home / "channels.yaml").write_text(json.dumps(channels, ensure_ascii=False),
                                            encoding="utf-8")
    share_models(home)
    made = yuqing(home, "user", "add", "bench", "--role", "monitor", "--token", "--json",
                  "--password-stdin", stdin="bench-password-123\n")
    if made.returncode != 0:
        raise RuntimeError(f"创建基准实例失败：{made.stderr.strip()[-500:]}")
    return str(json.loads(made.stdout.strip().splitlines()[-1])["token"])


class Running:
    def __init__(self, home: Path, port: int, proc: subprocess.Popen[bytes], log: Path):
        self.home, self.port, self.proc, self.log = home, port, proc, log

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, token: str | None = None, timeout: float = 10) -> Any:
        req = urllib.request.Request(self.base + path)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


@contextmanager
def yuqing_run(home: Path, *, started_within: float = 120) -> Iterator[Running]:
    """`yuqing run` as a child process; waits for /healthz; terminated on exit."""
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    log = home / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "run",
                                 "--port", str(port)], cwd=ROOT, env=child_env(home),
                                stdout=out, stderr=subprocess.STDOUT)
    running = Running(home, port, proc, log)
    try:
        deadline = time.monotonic() + started_within
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"yuqing run 意外退出：{running.log_tail()}")
            try:
                if running.get("/healthz", timeout=2).get("status") == "ok":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"yuqing run 未在 {started_within:.0f} 秒内就绪")
            time.sleep(0.2)
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def models_cache() -> Path:
    """Trained default models shared by the benchmarks of one `yuqing bench` run (it sets
    YUQING_BENCH_CACHE), else by this process: training them is set-up, not what is timed."""
    given = os.environ.get("YUQING_BENCH_CACHE")
    if given:
        return Path(given) / "models"
    global _own_cache
    if _own_cache is None:
        import tempfile

        _own_cache = tempfile.TemporaryDirectory(prefix="yuqing-bench-models-")
    return Path(_own_cache.name)


_own_cache: Any = None


def share_models(home: Path) -> None:
    """Copy the models already trained into this instance (their file names carry a hash of
    what they were trained on, so a stale copy is never used)."""
    import shutil

    cache = models_cache()
    if cache.is_dir():
        shutil.copytree(cache, home / "models" / "cache", dirs_exist_ok=True)


def keep_models(home: Path) -> None:
    import shutil

    built = home / "models" / "cache"
    if built.is_dir():
        shutil.copytree(built, models_cache(), dirs_exist_ok=True)


def rss_kb() -> int:
    """Resident set size of this process now (Linux /proc), in KB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
