"""Exact and near-duplicate detection on hand-written reposts and look-alikes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nlp.dedupe import NearDuplicateIndex, exact_hash, fold, shingles

ORIGINAL = ("江宁区东山街道某小区电梯故障，一名老人被困电梯四十分钟，物业迟迟未到场，"
            "居民质疑物业管理不到位，要求相关部门介入调查。")


def test_exact_hash_ignores_spacing_punctuation_width_and_case():
    assert exact_hash(ORIGINAL) == exact_hash(ORIGINAL.replace("，", ", ") + "  ")
    assert exact_hash("ＡＢＣ１２３停水") == exact_hash("abc123 停水！")
    assert exact_hash(ORIGINAL) != exact_hash(ORIGINAL.replace("四十", "五十"))
    assert exact_hash(" ，。 ") == ""


def test_fold_drops_repost_markers_and_mentions():
    assert fold("转发微博 //@张三: 真的吗？ #江宁#") == "真的吗江宁"


def test_an_exact_copy_is_found_as_exact():
    idx = NearDuplicateIndex()
    assert idx.add("a", ORIGINAL) == []
    found = idx.add("b", ORIGINAL.replace("，", "， "))
    assert [(m.key, m.kind) for m in found] == [("a", "exact")]
    assert "完全相同" in found[0].reason()


def test_a_repost_with_a_different_lead_in_is_a_near_duplicate():
    idx = NearDuplicateIndex()
    idx.add("a", ORIGINAL)
    lead = "转发：太气人了！这都第几次了，大家评评理，到底有没有人管？"
    found = idx.add("b", lead + ORIGINAL)
    assert [(m.key, m.kind) for m in found] == [("a", "near")]
    assert found[0].containment >= 0.95
    assert found[0].jaccard < 0.9  # the lead-in lowers Jaccard; containment still sees it
    assert "转载" in found[0].reason()


def test_a_syndicated_copy_with_small_edits_is_a_near_duplicate():
    idx = NearDuplicateIndex()
    idx.add("a", ORIGINAL)
    edited = ORIGINAL.replace("某小区", "翠屏山小区").replace("。", "。（来源：江宁发布）")
    assert [m.key for m in idx.add("b", edited)] == ["a"]


def test_a_different_incident_in_the_same_street_is_not_a_duplicate():
    idx = NearDuplicateIndex()
    idx.add("a", ORIGINAL)
    other = "江宁区东山街道某路口发生交通事故，一辆电动车与小轿车相撞，骑车人受轻伤，交警已到场处理。"
    assert idx.add("b", other) == []


def test_a_short_post_is_not_a_duplicate_of_a_long_one_that_contains_it():
    idx = NearDuplicateIndex()
    idx.add("a", ORIGINAL)
    assert idx.add("b", "东山街道某小区电梯故障") == []


def test_removed_posts_are_no_longer_found():
    idx = NearDuplicateIndex()
    idx.add("a", ORIGINAL)
    idx.remove("a")
    assert "a" not in idx
    assert idx.query(ORIGINAL) == []
    assert len(idx) == 0


def test_adding_the_same_key_twice_does_not_match_itself():
    idx = NearDuplicateIndex()
    idx.add("a", ORIGINAL)
    assert idx.add("a", ORIGINAL) == []
    assert len(idx) == 1


def test_empty_and_tiny_texts_are_handled():
    idx = NearDuplicateIndex()
    assert idx.add("a", "") == []
    assert idx.add("b", "好") == []
    assert shingles("") == set()
    assert len(shingles("好")) == 1


def test_shingles_are_the_same_in_every_process():
    """Python's str hash is salted per process: shingles must not depend on it, or a pair
    found as a repost in one worker could be missed in another or after a restart."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from nlp.dedupe import shingles; "
            f"print(sorted(shingles({ORIGINAL!r})))")
    root = str(Path(__file__).resolve().parents[2])
    outputs = {subprocess.run([sys.executable, "-c", code, root], capture_output=True,
                              text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1
    assert outputs.pop().strip() == str(sorted(shingles(ORIGINAL)))
    assert len(shingles(ORIGINAL)) == len(fold(ORIGINAL)) - 2  # no two 3-grams collide here
    assert len(shingles("好")) == 1 and shingles("好") != shingles("坏")
