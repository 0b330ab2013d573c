"""Burst detection: hot events and terms against their own baseline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nlp.hot import BurstDetector

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def steady(detector, key, per_hour, hours=24, kind="term"):
    for h in range(1, hours + 1):
        for i in range(per_hour):
            detector.observe(key, NOW - timedelta(hours=h, minutes=i * 60 / per_hour), kind)


def test_a_term_jumping_from_nothing_is_hot_with_a_reason():
    d = BurstDetector()
    for i in range(12):
        d.observe_terms(["停水", "小区"], NOW - timedelta(minutes=i * 4))
    hot = d.bursts(NOW, kind="term")
    assert {b.key for b in hot} == {"停水", "小区"}
    assert hot[0].count == 12
    assert hot[0].baseline == 0
    assert any("新出现" in r for r in hot[0].reasons)


def test_an_always_frequent_term_is_not_hot_at_its_usual_volume():
    d = BurstDetector()
    steady(d, "物业", per_hour=10)
    for i in range(12):
        d.observe("物业", NOW - timedelta(minutes=i * 4), "term")
    assert d.bursts(NOW) == []


def test_the_same_term_is_hot_when_it_bursts_above_its_own_baseline():
    d = BurstDetector()
    steady(d, "物业", per_hour=10)
    for i in range(60):
        d.observe("物业", NOW - timedelta(minutes=i), "term")
    (burst,) = d.bursts(NOW)
    assert burst.key == "物业"
    assert burst.baseline == pytest.approx(10, abs=1)
    assert "高出" in burst.reasons[0]


def test_a_few_posts_are_not_a_burst():
    d = BurstDetector(min_count=5)
    for i in range(4):
        d.observe("E1", NOW - timedelta(minutes=i))
    assert d.bursts(NOW) == []


def test_events_and_terms_are_reported_apart_and_ranked_by_strength():
    d = BurstDetector()
    for i in range(30):
        d.observe("E1", NOW - timedelta(minutes=i))
    for i in range(8):
        d.observe("E2", NOW - timedelta(minutes=i))
        d.observe_terms(["停电"], NOW - timedelta(minutes=i))
    assert [b.key for b in d.bursts(NOW, kind="event")] == ["E1", "E2"]
    assert [b.key for b in d.bursts(NOW, kind="term")] == ["停电"]


def test_an_old_burst_is_no_longer_hot():
    d = BurstDetector()
    for i in range(30):
        d.observe("E1", NOW - timedelta(hours=5, minutes=i))
    assert d.bursts(NOW) == []
    assert [b.key for b in d.bursts(NOW - timedelta(hours=5))] == ["E1"]


def test_prune_drops_old_counts():
    d = BurstDetector()
    d.observe("E1", NOW - timedelta(days=3))
    d.prune(NOW - timedelta(days=2))
    for i in range(6):
        d.observe("E1", NOW - timedelta(minutes=i))
    (burst,) = d.bursts(NOW)
    assert burst.baseline == 0


def test_a_window_that_is_not_whole_slots_is_refused():
    with pytest.raises(ValueError, match="10 分钟"):
        BurstDetector(window=timedelta(minutes=15))
