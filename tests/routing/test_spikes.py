"""Spike detection on a generated series: flat days give nothing, each spike one alert."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from routing.spikes import SpikeRule, detect, due, judge, window_counts

START = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
DAYS = 30
# (day, hour) -> extra posts in that hour: the known spikes
SPIKES = {(16, 9): 21, (20, 14): 30, (25, 3): 12, (27, 22): 40}


def _series(seed: int = 7) -> list[datetime]:
    """About 2 posts an hour with a daily rhythm (busier by day), plus the spikes."""
    rng = random.Random(seed)
    times: list[datetime] = []
    for day in range(DAYS):
        for hour in range(24):
            mean = 3 if 8 <= hour <= 20 else 1
            n = sum(rng.random() < mean / 4 for _ in range(4))  # 0..4, flat noise
            n += SPIKES.get((day, hour), 0)
            base = START + timedelta(days=day, hours=hour)
            times += [base + timedelta(minutes=rng.randrange(60)) for _ in range(n)]
    return times


def _scan(times: list[datetime], rule: SpikeRule) -> list[datetime]:
    """Run detection every 10 minutes over days 15..29 as the job does: once per
    (key, hour) and not again within the hour after an alert; returns the alert times."""
    sent: set[tuple[str, datetime]] = set()
    last: dict[str, datetime] = {}
    alerts = []
    now = START + timedelta(days=15)
    while now <= START + timedelta(days=DAYS):
        for spike in detect({"place_topic:320115001/environment": ("东山街道·生态环境", times)},
                            now, rule):
            if (spike.key, spike.hour) in sent or not due(last.get(spike.key), now):
                continue
            sent.add((spike.key, spike.hour))
            last[spike.key] = now
            alerts.append(now)
        now += timedelta(minutes=10)
    return alerts


def test_no_alert_on_flat_days_and_exactly_one_per_spike() -> None:
    alerts = _scan(_series(), SpikeRule(min_count=10))
    spikes = [START + timedelta(days=d, hours=h) for d, h in sorted(SPIKES)]
    # each alert falls while its spike is inside the last hour's window; none elsewhere
    per_spike = [[a for a in alerts if s < a <= s + timedelta(hours=2)] for s in spikes]
    assert [len(p) for p in per_spike] == [1] * len(spikes)
    assert len(alerts) == len(spikes)


def test_aligned_windows_give_exactly_one_alert_per_spike() -> None:
    # checked on the hour (the window is then exactly one clock hour): one alert per spike
    times = _series()
    found = []
    for i in range(15 * 24, DAYS * 24 + 1):
        now = START + timedelta(hours=i)
        found += [(s.hour, s.current) for s in detect({"k": ("东山街道·生态环境", times)}, now)]
    assert [h for h, _ in found] == [START + timedelta(days=d, hours=h) for d, h in sorted(SPIKES)]


def test_the_reason_names_place_topic_count_baseline_and_ratio() -> None:
    now = START + timedelta(days=20, hours=10)
    spike = judge("place_topic:320115001/environment", "东山街道·生态环境", 23, [2] * 14, now)
    assert spike is not None
    assert spike.why == "东山街道·生态环境 近1小时 23 条，基线 2 条，约 12 倍"


def test_below_the_minimum_count_is_never_a_spike() -> None:
    now = START + timedelta(days=20)
    assert judge("k", "标签", 9, [0] * 14, now, SpikeRule(min_count=10)) is None
    assert judge("k", "标签", 10, [0] * 14, now, SpikeRule(min_count=10)) is not None


def test_a_noisy_baseline_needs_a_larger_excess() -> None:
    now = START + timedelta(days=20)
    noisy = [2, 20, 3, 18, 1, 25, 4, 19, 2, 22, 3, 17, 5, 21]
    assert judge("k", "标签", 30, noisy, now) is None
    assert judge("k", "标签", 30, [3] * 14, now) is not None


def test_window_counts_use_the_same_hour_of_each_previous_day() -> None:
    now = START + timedelta(days=15, hours=10)
    times = [now - timedelta(minutes=5), now - timedelta(days=1, minutes=30),
             now - timedelta(days=1, minutes=61), now - timedelta(days=14, minutes=1),
             now - timedelta(days=15, minutes=1), now]
    current, history = window_counts(times, now, 14)
    assert current == 1 and history[0] == 1 and history[13] == 1 and sum(history) == 2
