"""Support for the kill -9 tests: a stream of incidents and follow-ups, a forking child that
runs the analysis step, and the invariants a restart must restore.

The child ("zygote") is a real process started with ``python crash_support.py HOME``: it
imports the pipeline and loads the read-only parts of the analyzer once (models, the place
automaton, the IDF table: derived from files, never from the database), then forks one worker
per ``run`` line read on stdin. Each worker is a restart: a fresh ``AppContext`` (new
connections) and a fresh ``AnalysisStep`` whose event index is rebuilt from the database, as
``yuqing run`` does at start; it runs the analysis job to the end. The test SIGKILLs workers
at random moments. Sharing the loaded models keeps a restart under a second instead of ~15 s,
so one test can crash the step dozens of times.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # fixture dates derive from this instant

STREETS = ["东山街道", "禄口街道", "淳化街道", "麒麟街道", "横溪街道", "江宁街道", "谷里街道",
           "汤山街道", "秣陵街道", "湖熟街道"]
PLACES = ["某小区", "一家工厂", "某菜市场", "一所小学", "某工地", "一家养老院", "某商场"]
ISSUES = [
    "垃圾清运不及时，气味很大，希望环卫部门尽快处理",
    "排水管网堵塞，雨后积水严重，老人孩子出行困难",
    "夜间施工噪音扰民，连续一周打桩到凌晨",
    "物业擅自上调停车费，业主协商无果请求查处",
    "电梯频繁故障停运，高层老人下楼看病很难",
    "自来水发黄浑浊，烧开后有沉淀，不敢给孩子喝",
    "路灯连续多日不亮，夜里骑电动车摔倒好几个人",
    "幼儿园突然涨价，每月保育费多收八百元",
    "公交线路被取消，上班族每天要步行四十分钟",
    "菜价标签和结账价格不一致，商户缺斤短两",
    "燃气管道老化漏气味道明显，报修一直没人来",
    "农民工工资拖欠半年，包工头失联讨要无门",
]
# follow-ups make the matter graver step by step: the event's severity rises
WORSE = [
    "最新消息：现场起火冒浓烟，有人受伤被送往医院。",
    "最新消息：发生爆炸，已造成3人死亡、多人重伤，上百名居民聚集围堵要求说法。",
    "最新消息：爆炸已造成12人死亡，仍有人员被困失踪，有毒气体泄漏，现场群体性聚集。",
]


class Stream:
    """Deterministic batches of posts: new incidents and follow-ups of earlier ones."""

    def __init__(self, seed: int, source: str):
        self.rng = random.Random(seed)
        self.source = source
        self.incidents: list[tuple[str, int]] = []  # (text, follow-ups so far)
        self.n = 0

    def _post(self, text: str, minutes: int, reposts: int) -> dict[str, Any]:
        self.n += 1
        return {"source": self.source, "external_id": f"p{self.n}", "text": text,
                "published_at": T0 + timedelta(minutes=minutes), "reposts": reposts}

    def batch(self, size: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(size):
            open_ones = [i for i, (_, k) in enumerate(self.incidents) if k < len(WORSE)]
            if open_ones and self.rng.random() < 0.5:
                i = self.rng.choice(open_ones)
                text, k = self.incidents[i]
                self.incidents[i] = (text, k + 1)
                out.append(self._post(f"转发扩散：{text}{WORSE[k]}", self.n + 5 * k,
                                      200 * (k + 1)))
            else:
                k = len(self.incidents)
                street, issue = STREETS[k % len(STREETS)], ISSUES[k % len(ISSUES)]
                place = self.rng.choice(PLACES)
                text = f"{street}{place}{issue}。"
                self.incidents.append((text, 0))
                out.append(self._post(text, self.n, self.rng.randint(0, 50)))
        return out


def warm_up(home: str) -> None:
    """Load the analyzer's read-only parts once and make every later build in this process
    (and its forks) reuse them, each with its own event index."""
    import yuqing.commands.nlp as wiring
    from nlp.keywords import keywords
    from yuqing.context import AppContext

    warm = AppContext(home=home)
    finder = wiring.place_finder_for(warm.settings)
    analyzer = wiring.build_analyzer(warm.settings, place_finder=finder)
    analyzer.topic_classifier, analyzer.sentiment_classifier, analyzer.severity_model  # noqa: B018
    finder.find("江宁区东山街道")
    keywords(["江宁"])
    warm.close()

    def build_analyzer(settings: Any, place_finder: Any = None, event_assigner: Any = None
                       ) -> Any:
        analyzer.event_assigner = event_assigner  # each worker's own, rebuilt event index
        return analyzer

    wiring.build_analyzer = build_analyzer  # type: ignore[assignment]
    wiring.place_finder_for = lambda settings: finder  # type: ignore[assignment]


def zygote(home: str) -> None:
    """The child process: warm up once, then fork one analysis run per ``run`` line."""
    from yuqing.context import AppContext
    from yuqing.scheduler import analysis_job

    warm_up(home)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        pid = os.fork()
        if pid == 0:  # the worker: a fresh process state over the same code
            code = 0
            try:
                ctx = AppContext(home=home)
                analysis_job(ctx)
                ctx.close()
            except BaseException:  # report, never fall back into the loop
                import traceback

                traceback.print_exc()
                code = 1
            os._exit(code)
        print(f"pid {pid}", flush=True)
        # reaped only when the test says so: until then a finished worker stays a zombie,
        # so its pid cannot be reused by another process before the test's kill
        sys.stdin.readline()
        _, status = os.waitpid(pid, 0)
        print(f"exit {status}", flush=True)


if __name__ == "__main__":
    zygote(sys.argv[1])
