"""Benchmark: place finding and event clustering throughput, near-duplicate recall/precision.

Prints posts/s for ``GazetteerPlaceFinder.find`` and ``EventIndex.assign`` next to a baseline
measured in the same run (rjieba tokenization of the same posts, the floor every post pays),
and the recall and precision of ``NearDuplicateIndex`` on a generated repost set: originals,
reposts with a new lead-in, cut tails or small edits, and hard negatives (another incident
written from the same template in the same street).

    python bench/bench_places_events.py [--posts 3000] [--seed 7]

`yuqing bench` calls ``run(size)``: event assignment cost per post and resident memory per post
at 800 posts (small) or 1k, 10k and 30k (full: the sizes of the issue's measurements), each size
in a fresh process so the memory figure is its own; plus places throughput, the clustering's
pairwise precision/recall and near-duplicate recall/precision.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

import rjieba
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlp.dedupe import NearDuplicateIndex
from nlp.events import EventIndex
from nlp.places import GazetteerPlaceFinder
from nlp.types import PostInput

ROOT = Path(__file__).resolve().parents[1]

PLACES = ["江宁区东山街道", "秣陵街道", "汤山街道", "禄口街道", "南京市鼓楼区", "朝阳区",
          "海淀区中关村街道", "昆山周庄", "福州鼓楼区", "江宁街道", "麒麟街道", "湖熟街道",
          "淳化街道", "谷里街道", "横溪街道", "长春市朝阳区", "徐州市鼓楼区", "杭州市临平区"]
SUBJECTS = ["小区", "学校", "医院", "菜市场", "工地", "公交站", "幼儿园", "养老院", "商场", "路口",
            "社区", "农贸市场", "中学", "小学", "停车场", "公园"]
MATTERS = [  # (what the first post says, the words a follow-up uses)
    ("电梯故障，有人被困{n}分钟，物业迟迟未到场", "电梯困人"),
    ("深夜施工噪音扰民，居民投诉{n}次无人处理", "夜间施工噪音"),
    ("连续{n}天停水，居民生活受到严重影响", "停水"),
    ("发生交通事故，{n}人受伤，交警已到场处理", "交通事故"),
    ("食堂饭菜疑似变质，{n}名学生出现呕吐症状", "食堂饭菜变质"),
    ("违规收费{n}元，家长质疑收费依据", "违规收费"),
    ("垃圾堆积{n}天无人清运，臭气熏天", "垃圾清运"),
    ("拖欠农民工工资{n}万元，工人聚集讨薪", "拖欠工资"),
    ("燃气泄漏，{n}户居民紧急疏散", "燃气泄漏"),
    ("暴雨导致道路积水{n}厘米，车辆被困", "道路积水"),
    ("楼道堆放杂物引发火灾，{n}人被送医", "楼道火灾"),
    ("外墙瓷砖脱落砸伤{n}名路人", "瓷砖脱落伤人"),
    ("医保报销被拒，患者自付{n}元", "医保报销"),
    ("补偿款{n}万元迟迟不到位，村民多次上访", "补偿款不到位"),
    ("商户缺斤短两，消费者损失{n}元", "缺斤短两"),
    ("共享单车乱停占用盲道{n}米", "单车占用盲道"),
]
RESPONSES = ["已责令相关单位立即整改", "已成立工作专班调查处理", "相关责任人已被约谈",
             "将于三个工作日内公布处理结果", "已安排专人上门核实情况", "已联系有关部门协调解决"]
CHARS = "明华建国伟强芳丽军平刚桂英秀兰春梅海燕志勇金凤玉山水林泉石桥湖云"
BENCHMARKS = ("event_assign_ms_per_post", "event_assign_rss_per_post", "places_find_vs_rjieba",
              "event_pairwise_precision", "event_pairwise_recall", "near_duplicate_recall",
              "near_duplicate_precision")
SIZES = {"small": (800,), "full": (1_000, 10_000, 30_000)}
LEADS = ["转发：太气人了！", "//@江宁生活圈: 大家注意！", "扩散一下，", "这都第几次了？",
         "【关注】", "网友爆料：", "刚刚看到，", "求扩散！！！"]


@lru_cache(maxsize=1)
def vocabulary() -> list[str]:
    """Common multi-character words of jieba's dictionary: varied filler like real posts."""
    words = []
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        word, freq, *_ = line.split(" ")
        if len(word) >= 2 and int(freq) >= 2000:
            words.append(word)
    return words


def name(rng: random.Random) -> str:
    return "".join(rng.choices(CHARS, k=2))


def sentence(rng: random.Random) -> str:
    return "".join(rng.choices(vocabulary(), k=rng.randint(4, 10))) + "。"


@dataclass
class Incident:
    place: str
    subject: str
    matter: str
    key: str

    def first_post(self, rng: random.Random) -> str:
        tail = "".join(sentence(rng) for _ in range(rng.randint(1, 40)))
        return f"{self.place}{self.subject}{self.matter}。{tail}"

    def follow_up(self, rng: random.Random) -> str:
        tail = "".join(sentence(rng) for _ in range(rng.randint(0, 4)))
        return (f"{self.place}回应{self.subject}{self.key}问题：{rng.choice(RESPONSES)}。"
                f"{self.subject}{self.key}一事引发关注。{tail}")


def incident(rng: random.Random) -> Incident:
    matter, key = rng.choice(MATTERS)
    subject = f"{name(rng)}{rng.choice(SUBJECTS)}"
    return Incident(rng.choice(PLACES), subject, matter.format(n=rng.randint(2, 90)), key)


def original(rng: random.Random) -> str:
    return incident(rng).first_post(rng)


def repost(rng: random.Random, text: str) -> str:
    kind = rng.random()
    if kind < 0.5:
        return rng.choice(LEADS) + rng.choice(LEADS) + text
    if kind < 0.75:
        return text[: max(30, int(len(text) * rng.uniform(0.75, 0.95)))]
    return text.replace("，", "，据悉，", 1) + "（来源：网络）"


def timed(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def corpus(n: int, seed: int) -> tuple[list[str], list[int]]:
    """Posts in order and the incident each belongs to: first posts, reposts, follow-ups."""
    rng = random.Random(seed)
    texts, truth = [], []
    number = 0
    while len(texts) < n:
        case = incident(rng)
        base = case.first_post(rng)
        posts = [base] + [repost(rng, base) for _ in range(rng.choice([0, 0, 0, 1, 2, 4]))]
        posts += [case.follow_up(rng) for _ in range(rng.choice([0, 0, 1, 2]))]
        texts += posts
        truth += [number] * len(posts)
        number += 1
    return texts[:n], truth[:n]


def pair_scores(assigned: list[str], truth: list[int]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering against the true incidents."""
    from collections import Counter

    def pairs(counter: Counter) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    both = pairs(Counter(zip(assigned, truth, strict=True)))
    found, true = pairs(Counter(assigned)), pairs(Counter(truth))
    return (both / found if found else 1.0), (both / true if true else 1.0)


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure_events(n: int, seed: int) -> dict[str, float]:
    """Event assignment of n posts in this process: ms/post (whole run and its last tenth),
    RSS growth per post, against rjieba.cut of the same posts."""
    texts, truth = corpus(n, seed)
    home = yaml.safe_load((ROOT / "config/jurisdictions.yaml").read_text("utf-8"))["home"]
    finder = GazetteerPlaceFinder(home)
    finder.find("预热")
    rjieba.cut("预热")
    base = timed(rjieba.cut, texts)
    places_rate = timed(finder.find, texts)
    prepared = [(t, rjieba.cut(t), finder.find(t)) for t in texts]
    t0 = datetime(2026, 11, 22, tzinfo=UTC)
    posts = [PostInput(id=f"p{i}", text=t, source=f"s{i % 7}",
                       published_at=t0 + timedelta(seconds=30 * i)) for i, t in enumerate(texts)]
    index = EventIndex()
    rss_before = rss_kb()
    assigned: list[str] = []
    tenth = max(1, n // 10)
    start = time.perf_counter()
    last_start = start
    for i, (post, (text, tokens, places)) in enumerate(zip(posts, prepared, strict=True)):
        if i == n - tenth:
            last_start = time.perf_counter()
        assigned.append(index.assign(post, text, tokens, places).id)
    end = time.perf_counter()
    rss_after = rss_kb()
    precision, recall = pair_scores(assigned, truth)
    # the posts themselves held in memory (text, tokens, places): the baseline per post
    held = sum(len(t) * 2 + sum(len(w) * 2 + 56 for w in tok) for t, tok, _ in prepared) / n
    return {"n": n, "ms_per_post": (end - start) / n * 1000,
            "last_tenth_ms": (end - last_start) / tenth * 1000, "rjieba_ms": 1000 / base,
            "rss_kb_per_post": (rss_after - rss_before) / n, "held_kb_per_post": held / 1024,
            "places_rate": places_rate, "rjieba_rate": base, "precision": precision,
            "recall": recall}


def measure_near_duplicates(n: int, seed: int) -> tuple[float, float]:
    rng = random.Random(seed + 1)
    originals = [original(rng) for _ in range(n)]
    idx = NearDuplicateIndex()
    for i, text in enumerate(originals):
        idx.add(f"o{i}", text)
    tp = fp = fn = 0
    for i, text in enumerate(originals):
        found = {m.key for m in idx.query(repost(rng, text))}
        tp += f"o{i}" in found
        fn += f"o{i}" not in found
        fp += len(found - {f"o{i}"})
    fp += sum(1 for t in (original(rng) for _ in range(n)) if idx.query(t))
    return tp / (tp + fn), (tp / (tp + fp) if tp + fp else 1.0)


def run(size: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    m: dict[str, float] = {}
    for n in SIZES[size]:
        # a fresh process per size: the memory figure must not inherit the previous size's
        done = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                              capture_output=True, text=True, cwd=ROOT)
        m = json.loads(done.stdout.strip().splitlines()[-1])
        out.append({"name": "event_assign_ms_per_post", "ratio": m["rjieba_ms"] / m["ms_per_post"],
                    "value": m["ms_per_post"], "baseline": m["rjieba_ms"], "unit": "ms/post",
                    "n": n, "better": "higher", "last_tenth_ms": m["last_tenth_ms"],
                    "about": "EventIndex.assign 每条信息的平均耗时（另记最后十分之一的耗时，看是否随规模"
                             "变慢）；基线为同样信息 rjieba 分词每条的耗时；比值 = 基线 ÷ 数值。",
                    "goal": "每条耗时不随规模增长（平的）"})
        out.append({"name": "event_assign_rss_per_post",
                    "ratio": m["held_kb_per_post"] / m["rss_kb_per_post"]
                    if m["rss_kb_per_post"] > 0 else None,
                    "value": m["rss_kb_per_post"], "baseline": m["held_kb_per_post"],
                    "unit": "KB/post", "n": n, "better": "higher",
                    "about": "事件索引每条信息增加的常驻内存（RSS）；基线为信息本身（正文与分词）约占的内存；"
                             "比值 = 基线 ÷ 数值。",
                    "goal": "100 万条信息时 RSS ≤ 1 GB（约 1 KB/条）"})
    n = SIZES[size][-1]
    out.append({"name": "places_find_vs_rjieba", "ratio": m["places_rate"] / m["rjieba_rate"],
                "value": m["places_rate"], "baseline": m["rjieba_rate"], "unit": "posts/s",
                "n": n, "better": "higher",
                "about": "地名识别（GazetteerPlaceFinder.find）速度 ÷ 同样信息 rjieba 分词速度。",
                "goal": "（无单独目标）"})
    for key, name in (("precision", "event_pairwise_precision"),
                      ("recall", "event_pairwise_recall")):
        out.append({"name": name, "ratio": None, "value": m[key], "baseline": None,
                    "unit": "fraction", "n": n, "better": "higher",
                    "about": f"事件聚类与生成数据中真实事件的成对{'准确率' if key == 'precision' else '召回率'}。",
                    "goal": "（质量读数：提速时不得下降）"})
    recall, precision = measure_near_duplicates(max(300, n // 3), 7)
    for value, name, word in ((recall, "near_duplicate_recall", "召回率"),
                              (precision, "near_duplicate_precision", "准确率")):
        out.append({"name": name, "ratio": None, "value": value, "baseline": None,
                    "unit": "fraction", "n": max(300, n // 3), "better": "higher",
                    "about": f"近重复识别（NearDuplicateIndex）在转发、截尾、小改与同模板干扰项上的{word}。",
                    "goal": "（质量读数：提速时不得下降）"})
    return out


def bench_throughput(n: int, seed: int) -> None:
    texts, truth = corpus(n, seed)
    home = yaml.safe_load((ROOT / "config/jurisdictions.yaml").read_text("utf-8"))["home"]
    finder = GazetteerPlaceFinder(home)
    finder.find("预热")  # build the automaton outside the timing
    rjieba.cut("预热")
    base = timed(rjieba.cut, texts)
    places_rate = timed(finder.find, texts)
    prepared = [(t, rjieba.cut(t), finder.find(t)) for t in texts]
    index = EventIndex()
    t0 = datetime(2026, 11, 22, tzinfo=UTC)
    counter = iter(range(len(prepared)))
    assigned: list[str] = []

    def assign(item):
        i = next(counter)
        text, tokens, places = item
        post = PostInput(id=f"p{i}", text=text, source=f"s{i % 7}",
                         published_at=t0 + timedelta(seconds=30 * i))
        assigned.append(index.assign(post, text, tokens, places).id)

    events_rate = timed(assign, prepared)
    chars = sum(map(len, texts)) / len(texts)
    precision, recall = pair_scores(assigned, truth)
    print(f"posts: {len(texts)} (mean {chars:.0f} chars), incidents: {len(set(truth))}")
    print(f"baseline rjieba.cut:   {base:10.0f} posts/s")
    print(f"places  find:          {places_rate:10.0f} posts/s  ratio {places_rate / base:.3f}")
    print(f"events  assign:        {events_rate:10.0f} posts/s  ratio {events_rate / base:.3f}")
    print(f"events formed: {len(index.event_ids())}; pairwise precision {precision:.3f} "
          f"recall {recall:.3f}")


def bench_near_duplicates(n: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    originals = [original(rng) for _ in range(n)]
    idx = NearDuplicateIndex()
    for i, text in enumerate(originals):
        idx.add(f"o{i}", text)
    tp = fp = fn = 0
    for i, text in enumerate(originals):
        found = {m.key for m in idx.query(repost(rng, text))}
        tp += f"o{i}" in found
        fn += f"o{i}" not in found
        fp += len(found - {f"o{i}"})
    # Hard negatives: a new incident written from the same templates; any match is wrong.
    negatives = [original(rng) for _ in range(n)]
    neg_hits = sum(1 for t in negatives if idx.query(t))
    fp += neg_hits
    recall = tp / (tp + fn)
    precision = tp / (tp + fp) if tp + fp else 1.0
    print(f"near-duplicates: {n} originals, {n} reposts, {n} look-alike negatives")
    print(f"recall {recall:.3f}  precision {precision:.3f}  (negatives matched: {neg_hits})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one size for run(size), in its own process: JSON on the last line
        print(json.dumps(measure_events(args.one, args.seed)))
        return
    bench_throughput(args.posts, args.seed)
    bench_near_duplicates(args.posts // 3, args.seed)


if __name__ == "__main__":
    main()
