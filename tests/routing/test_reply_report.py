"""The reply report's figures against the hand-worked set in tests/reply_cases.py."""

from __future__ import annotations

import pytest
from reply_cases import NOW, PERIOD, TZ, case_of, records, store_posts

from routing.reports.replies import (
    ReplyOptions,
    load_reply_records,
    reply_report,
    reply_unit_names,
)
from store import Database

OPTIONS = ReplyOptions.of(days=[10, 1, 3, 5], tz=TZ)


def within(row: dict, days: int, calendar: str) -> tuple[int, int]:
    share = next(w for w in row["within"] if w["days"] == days)[calendar]
    return share["met"], share["due"]


def test_totals_medians_and_p90_match_the_hand_computed_values() -> None:
    got = reply_report(records(), PERIOD, NOW, OPTIONS).as_dict()
    total = got["total"]
    assert (total["messages"], total["replied"], total["unreplied"]) == (7, 5, 2)
    assert total["reply_rate"] == pytest.approx(5 / 7)
    assert total["replied_without_time"] == 1
    # natural hours [0.5, 6, 72, 210]: median at rank 1.5, p90 at rank 2.7
    assert total["median_hours"] == 39.0
    assert total["p90_hours"] == 168.6
    # working hours [0.5, 3, 4.5, 7.5]: the holiday leaves B with 3 working hours
    assert total["median_working_hours"] == 3.75
    assert total["p90_working_hours"] == 6.6
    assert (total["invalid"], total["undated"]) == (1, 1)
    assert got["invalid_ids"] == [7] and got["undated_ids"] == [8]
    assert got["days"] == [1, 3, 5, 10]


def test_within_n_days_counts_only_decided_messages_in_natural_and_working_days() -> None:
    total = reply_report(records(), PERIOD, NOW, OPTIONS).as_dict()["total"]
    # E (unanswered since Thu 10-30 10:00) is due after 1 and 3 natural days, not 5 or 10
    assert within(total, 1, "natural") == (2, 6)
    assert within(total, 3, "natural") == (3, 6)  # C took exactly 72 h: on time
    assert within(total, 5, "natural") == (3, 5)
    assert within(total, 10, "natural") == (4, 5)
    # B spans the National Day holiday: 210 natural hours but 3 working hours
    assert within(total, 1, "working") == (4, 6)  # E due Fri 10:00; I long overdue
    assert within(total, 3, "working") == (4, 5)  # E's 3 working days end Tue 11-04
    assert within(total, 10, "working") == (4, 5)
    first = next(w for w in total["within"] if w["days"] == 1)
    assert first["working"]["share"] == pytest.approx(4 / 6)


def test_rows_by_unit_topic_and_month() -> None:
    got = reply_report(records(), PERIOD, NOW, OPTIONS,
                       topic_names={"education": "教育", "environment": "生态环境"}).as_dict()
    units = {r["label"]: r for r in got["by_unit"]}
    assert [r["label"] for r in got["by_unit"]] == ["区教育局", "东山街道", "秣陵街道",
                                                    "（未注明单位）"]
    assert (units["区教育局"]["messages"], units["区教育局"]["replied"]) == (3, 3)
    assert units["区教育局"]["median_hours"] == 141.0
    assert units["区教育局"]["p90_hours"] == 196.2
    assert units["东山街道"]["median_hours"] == 3.25  # full name and short name are one unit
    assert units["东山街道"]["p90_hours"] == 5.45
    assert units["秣陵街道"]["reply_rate"] == 0.0
    assert units["（未注明单位）"]["reply_rate"] == 0.0
    topics = {r["label"]: r["messages"] for r in got["by_topic"]}
    assert topics == {"教育": 3, "生态环境": 2, "traffic": 1, "（未分类）": 1}
    months = [(r["key"], r["messages"], r["replied"]) for r in got["by_month"]]
    assert months == [("2025-09", 4, 3), ("2025-10", 3, 2)]


def test_the_slowest_list_orders_by_hours_and_excludes_invalid_rows() -> None:
    slow = reply_report(records(), PERIOD, NOW, OPTIONS).as_dict()["slowest"]
    assert [(r["post_id"], r["hours"], r["working_hours"]) for r in slow] == [
        (2, 210.0, 3.0), (3, 72.0, 7.5), (1, 6.0, 4.5), (4, 0.5, 0.5)]
    assert slow[0]["published_at"] == "2025-09-30T08:00:00+00:00"
    short = reply_report(records(), PERIOD, NOW, ReplyOptions.of(tz=TZ, slowest=2))
    assert len(short.slowest) == 2


def test_an_empty_period_gives_no_rates_rather_than_zero() -> None:
    total = reply_report([], PERIOD, NOW, OPTIONS).as_dict()["total"]
    assert total["messages"] == 0 and total["reply_rate"] is None
    assert total["median_hours"] is None and within(total, 1, "natural") == (0, 0)


def test_bad_day_lists_are_refused() -> None:
    for days in ([0], [400], []):
        with pytest.raises(ValueError, match="答复天数"):
            ReplyOptions.of(days=days or [-1])


def test_the_loader_reads_messages_of_the_period_from_board_and_import_sources(
        db: Database) -> None:
    ids = store_posts(db)
    with db.session() as s:
        loaded = load_reply_records(s, PERIOD, TZ)
    assert sorted(r.post_id for r in loaded) == sorted(ids.values())  # no news, no November
    got = reply_report(loaded, PERIOD, NOW, OPTIONS).as_dict()
    expected = reply_report(records(ids), PERIOD, NOW, OPTIONS).as_dict()
    assert got["total"] == expected["total"] and got["by_unit"] == expected["by_unit"]
    slow = {r["post_id"]: r for r in got["slowest"]}
    assert slow[ids["D"]]["case_id"] == case_of(db, ids["D"]) is not None
    assert slow[ids["A"]]["url"] == "https://board.example/A"
    assert slow[ids["A"]]["unit"] == "东山街道"


def test_the_loader_keeps_one_source_or_one_units_replies(db: Database) -> None:
    ids = store_posts(db)
    with db.session() as s:
        board = {r.post_id for r in load_reply_records(s, PERIOD, TZ, source_key="test:board")}
        news = load_reply_records(s, PERIOD, TZ, source_key="test:news")
        names = reply_unit_names(s, ["jn-dongshan"])
        assert names is not None and reply_unit_names(s, None) is None
        mine = {r.post_id for r in load_reply_records(s, PERIOD, TZ, only_units=names)}
        nobody = load_reply_records(s, PERIOD, TZ, only_units=reply_unit_names(s, []))
    assert board == {ids[n] for n in "ABDG"}
    assert len(news) == 1  # naming a source takes all its posts, whatever their kind
    assert set(names) == {"南京市江宁区东山街道办事处", "东山街道"}
    assert mine == {ids["A"], ids["D"], ids["G"]}
    assert nobody == []
