"""Event clustering on hand-written posts: reposts, follow-ups, and look-alike incidents."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rjieba
import yaml

from nlp.events import EventIndex, content_terms
from nlp.places import GazetteerPlaceFinder
from nlp.types import EventAssigner, PostInput

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

LIFT = ("江宁区东山街道翠屏山小区电梯故障，一名老人被困电梯四十分钟，物业迟迟未到场，"
        "居民质疑物业管理不到位。")
LIFT_REPOST = "转发：太气人了！这都第几次了，大家评评理。" + LIFT
LIFT_FOLLOW_UP = "东山街道回应翠屏山小区电梯困人：已责令物业公司整改，电梯维保单位正在检修。"
CRASH = "江宁区东山街道双龙大道路口发生交通事故，一辆电动车与小轿车相撞，骑车人受轻伤，交警已到场处理。"
LIFT_OTHER_STREET = "秣陵街道某小区电梯故障，一名老人被困电梯，物业不作为。"
LIFT_FUZHOU = "福州市鼓楼区一小区电梯故障，老人被困电梯四十分钟，物业迟迟未到场。"


@pytest.fixture(scope="module")
def finder() -> GazetteerPlaceFinder:
    home = yaml.safe_load((ROOT / "config" / "jurisdictions.yaml").read_text("utf-8"))["home"]
    return GazetteerPlaceFinder(home)


class Feed:
    """Analyzes and assigns posts the way the Analyzer will (tokens and places passed in)."""

    def __init__(self, index: EventIndex, finder: GazetteerPlaceFinder) -> None:
        self.index = index
        self.finder = finder

    def post(self, pid, text, minutes=0, source="weibo", title=""):
        post = PostInput(id=pid, text=text, title=title, source=source,
                         published_at=T0 + timedelta(minutes=minutes), url=f"https://x/{pid}")
        return self.index.assign(post, text, rjieba.cut(text), self.finder.find(text))


@pytest.fixture
def feed(finder) -> Feed:
    return Feed(EventIndex(), finder)


def test_it_implements_the_event_assigner_protocol():
    assigner: EventAssigner = EventIndex()
    assert callable(assigner.assign)


def test_the_first_post_opens_an_event_with_a_reason(feed):
    ref = feed.post("p1", LIFT)
    assert ref.is_new
    assert ref.duplicate_of is None
    assert "新建事件" in ref.reasons[-1]


def test_a_repost_with_a_different_lead_in_joins_and_points_to_the_original(feed):
    first = feed.post("p1", LIFT)
    ref = feed.post("p2", LIFT_REPOST, minutes=20, source="douyin")
    assert ref.id == first.id
    assert not ref.is_new
    assert ref.duplicate_of == "p1"
    assert any("并单" in r for r in ref.reasons)


def test_a_follow_up_on_the_same_matter_joins_the_event(feed):
    first = feed.post("p1", LIFT)
    ref = feed.post("p3", LIFT_FOLLOW_UP, minutes=90, source="news")
    assert ref.id == first.id
    assert ref.duplicate_of is None
    assert any("共同词" in r and "电梯" in r for r in ref.reasons)


def test_two_different_incidents_in_the_same_street_on_the_same_day_stay_apart(feed):
    lift = feed.post("p1", LIFT)
    crash = feed.post("p4", CRASH, minutes=60)
    assert crash.is_new
    assert crash.id != lift.id


def test_the_same_kind_of_incident_in_another_street_or_city_is_another_event(feed):
    lift = feed.post("p1", LIFT)
    other_street = feed.post("p5", LIFT_OTHER_STREET, minutes=30)
    fuzhou = feed.post("p6", LIFT_FUZHOU, minutes=40)
    assert len({lift.id, other_street.id, fuzhou.id}) == 3


def test_a_repost_joins_its_event_even_outside_the_window(finder):
    feed = Feed(EventIndex(window_hours=2), finder)
    first = feed.post("p1", LIFT)
    # A follow-up in other words five days later is outside the window: a new event...
    later = feed.post("p3", LIFT_FOLLOW_UP, minutes=60 * 24 * 5)
    assert later.is_new
    # ...but a repost of the original is the same matter, and joins the original event.
    repost = feed.post("p2", LIFT_REPOST, minutes=60 * 24 * 5 + 1)
    assert repost.id == first.id != later.id


def test_event_ids_come_from_the_injected_factory(finder):
    ids = iter(["101", "102"])
    feed = Feed(EventIndex(id_factory=lambda: next(ids)), finder)
    assert feed.post("p1", LIFT).id == "101"
    assert feed.post("p4", CRASH).id == "102"


def test_the_summary_traces_the_first_source_and_counts_the_spread(feed):
    feed.post("p2", LIFT_REPOST, minutes=20, source="douyin")
    ref = feed.post("p1", LIFT, minutes=0, source="weibo")  # crawled later, posted earlier
    feed.post("p3", LIFT_FOLLOW_UP, minutes=90, source="news")
    s = feed.index.summary(ref.id)
    assert s.first_post_id == "p1"
    assert s.first_source == "weibo"
    assert s.first_url == "https://x/p1"
    assert s.post_count == 3
    assert s.sources == {"douyin": 1, "weibo": 1, "news": 1}
    assert s.hourly == [("2026-11-22T08:00+00:00", 2), ("2026-11-22T09:00+00:00", 1)]
    assert "电梯" in s.keywords[:3]
    assert not any(k in ("东山街道", "江宁区") for k in s.keywords)
    assert s.summary.startswith("江宁区东山街道翠屏山小区电梯故障")
    assert "320115001" in s.places


def test_the_summary_prefers_the_first_posts_title(feed):
    ref = feed.post("p1", LIFT, title="翠屏山小区电梯困人四十分钟")
    assert feed.index.summary(ref.id).summary == "翠屏山小区电梯困人四十分钟"


def test_stats_give_severity_the_rate_and_the_distinct_sources(feed):
    ref = feed.post("p1", LIFT, source="weibo")
    feed.post("p2", LIFT_REPOST, minutes=20, source="douyin")
    feed.post("p3", LIFT_FOLLOW_UP, minutes=90, source="news")
    st = feed.index.stats(ref.id, now=T0 + timedelta(minutes=120))
    assert st.post_count == 3
    assert st.distinct_sources == 3
    assert st.posts_last_hour == 1
    assert st.peak_posts_per_hour == 2
    assert st.posts_per_hour == 1.5


def test_it_rebuilds_from_stored_posts_after_a_restart(finder):
    before = Feed(EventIndex(id_factory=lambda: "77"), finder)
    before.post("p1", LIFT)
    after = EventIndex(id_factory=lambda: "new")
    after.add_known("p1", "77", LIFT, rjieba.cut(LIFT), finder.find(LIFT), T0,
                    source="weibo")
    feed = Feed(after, finder)
    assert feed.post("p2", LIFT_REPOST, minutes=5).id == "77"
    assert feed.post("p3", LIFT_FOLLOW_UP, minutes=30).id == "77"
    assert after.summary("77").post_count == 3


def test_a_post_assigned_twice_stays_in_its_event(feed):
    first = feed.post("p1", LIFT)
    again = feed.post("p1", LIFT)
    assert again.id == first.id
    assert feed.index.summary(first.id).post_count == 1


def test_prune_forgets_quiet_events(feed):
    ref = feed.post("p1", LIFT)
    assert feed.index.prune(T0 + timedelta(days=10)) == 1
    assert feed.index.event_of("p1") is None
    with pytest.raises(KeyError):
        feed.index.summary(ref.id)
    assert feed.post("p2", LIFT_REPOST, minutes=60 * 24 * 11).is_new


def test_events_no_post_can_join_any_more_are_forgotten_as_posts_flow(finder):
    # one post every hour over 20 days with a 2-hour window: only the recent events stay
    feed = Feed(EventIndex(window_hours=2, recent_posts=4, prune_every=2), finder)
    rng = random.Random(3)
    words = [w for w in rjieba.cut(LIFT + CRASH + LIFT_FOLLOW_UP) if len(w) > 1]
    for i in range(480):
        text = "，".join(rng.sample(words, 6)) + f"。编号{i}"  # unrelated to each other
        feed.post(f"p{i}", text, minutes=60 * i, source=f"s{i}")
    held = feed.index.event_ids()
    # what the last 4 posts and the window before them can reach (4 posts + 2 hours)
    assert 1 <= len(held) <= 6
    assert feed.index.event_of("p0") is None and feed.index.event_of("p479") is not None
    # the duplicate index forgets their posts too
    assert len(feed.index.dedupe) <= sum(feed.index.summary(e).post_count for e in held) < 12


def test_an_event_reposted_for_weeks_keeps_only_its_recent_posts_as_duplicate_targets(finder):
    feed = Feed(EventIndex(window_hours=2, recent_posts=4, prune_every=2), finder)
    refs = [feed.post(f"p{i}", LIFT_REPOST if i % 2 else LIFT, minutes=60 * i, source=f"s{i}")
            for i in range(300)]
    assert {r.id for r in refs} == {refs[0].id}  # one matter, reposted hour after hour
    assert feed.index.summary(refs[0].id).post_count == 300  # counted whole
    assert len(feed.index.dedupe) <= 8  # but memory follows the window, not its history
    assert feed.post("late", LIFT, minutes=60 * 300).id == refs[0].id


def test_a_backfill_of_older_posts_still_groups_after_newer_ones(finder):
    feed = Feed(EventIndex(window_hours=2, recent_posts=3, prune_every=1), finder)
    today = feed.post("new", CRASH, minutes=60 * 24 * 30)
    first = feed.post("old1", LIFT)
    follow = feed.post("old2", LIFT_FOLLOW_UP, minutes=30)
    repost = feed.post("old3", LIFT_REPOST, minutes=40)
    assert follow.id == repost.id == first.id != today.id
    assert feed.index.summary(today.id).post_count == 1  # today's event is held as well


def test_content_terms_drop_stop_words_numbers_and_place_words(finder):
    text = "江宁区东山街道的小区 2026 年电梯故障了"
    terms = content_terms(rjieba.cut(text), finder.find(text))
    assert "电梯" in terms and "故障" in terms
    assert not {"的", "了", "2026", "东山街道", "江宁区"} & set(terms)


def test_posts_without_a_time_use_the_clock_and_naive_times_are_utc(finder):
    now = datetime(2026, 11, 22, 9, 30)
    index = EventIndex(clock=lambda: now)
    ref = index.assign(PostInput(id="p1", text=LIFT), LIFT, rjieba.cut(LIFT), finder.find(LIFT))
    s = index.summary(ref.id)
    assert s.first_at == now.replace(tzinfo=UTC)
    assert s.hourly == [("2026-11-22T09:00+00:00", 1)]


def test_an_empty_post_opens_its_own_event_without_crashing():
    index = EventIndex()
    ref = index.assign(PostInput(id="p1", text=""), "", [], [])
    assert ref.is_new
    assert index.summary(ref.id).summary == ""
    other = index.assign(PostInput(id="p2", text=""), "", [], [])
    assert other.id != ref.id


def test_summary_and_stats_serialize_to_json(feed):
    import json

    ref = feed.post("p1", LIFT)
    data = json.loads(json.dumps({"summary": feed.index.summary(ref.id).to_dict(),
                                  "stats": feed.index.stats(ref.id, now=T0).to_dict()}))
    assert data["summary"]["first_at"] == "2026-11-22T08:00:00+00:00"
    assert data["stats"]["post_count"] == 1


def test_the_same_trouble_in_two_compounds_of_one_street_stays_apart(feed):
    first = feed.post("p1", LIFT)
    other = feed.post("p7", "江宁区东山街道金鹰天地小区电梯故障，一名业主被困电梯二十分钟，"
                            "维保人员赶到后将其救出。", minutes=120)
    assert other.is_new and other.id != first.id
    assert any("专名不同" in r for r in other.reasons)


SEWAGE = ("江宁区东山街道竹山路附近某小区门口污水外溢已经第五天了，黑水漫到人行道，气味刺鼻，孩子上学"
          "只能绕行。打了物业电话说是市政管网的问题，市政说是小区内部管道，到底谁来管？")
SEWAGE_REPOST = ("转发扩散：东山街道竹山路小区污水外溢持续多日，有居民称家中老人路过时滑倒受伤。"
                 "视频里污水已经流进了旁边的菜市场，食品安全怎么保障？")
SITE = ("近日，江宁区汤山街道温泉路附近多名居民反映，附近一处在建商住项目连续多晚施工至凌晨两点，"
        "渣土车进出频繁，噪声和扬尘严重影响休息。")
SITE_AGAIN = "汤山街道温泉路工地昨晚又施工到凌晨三点，打12345说会转给城管，结果还是照样干。"


def test_a_repost_that_adds_its_own_details_joins_by_its_follow_up_signal(feed):
    # the demo's 竹山路 sewage report and its repost: similarity 0.39, below the threshold
    first = feed.post("s1", SEWAGE)
    ref = feed.post("s2", SEWAGE_REPOST, minutes=25)
    assert ref.id == first.id and not ref.is_new
    assert any("后续信号词「转发」" in r for r in ref.reasons)
    again = feed.post("s3", SITE, minutes=30)
    follow = feed.post("s4", SITE_AGAIN, minutes=600)
    assert again.id != first.id and follow.id == again.id


def test_a_follow_up_signal_does_not_merge_another_matter_of_the_same_street(feed):
    lift = feed.post("p1", LIFT)
    crash = feed.post("p4", "转发：东山街道双龙大道路口又发生交通事故，一辆电动车与小轿车相撞，"
                            "骑车人受轻伤。", minutes=30)
    assert crash.is_new and crash.id != lift.id


def test_a_follow_up_signal_does_not_merge_another_compound_or_another_street(feed):
    lift = feed.post("p1", LIFT)
    other_compound = feed.post("p7", "最新：江宁区东山街道金鹰天地小区电梯故障，一名业主被困电梯"
                                     "二十分钟，维保人员赶到后将其救出。", minutes=60)
    other_street = feed.post("p8", "转发：秣陵街道某小区电梯又故障，老人被困电梯四十分钟，物业"
                                   "迟迟未到场。", minutes=70)
    assert len({lift.id, other_compound.id, other_street.id}) == 3


def test_without_a_signal_word_the_repost_still_needs_the_full_threshold(feed):
    first = feed.post("s1", SEWAGE)
    plain = feed.post("s2", "东山街道竹山路小区污水外溢，有居民称家中老人路过时滑倒受伤。"
                            "视频里污水已经流进了旁边的菜市场，食品安全怎么保障？", minutes=25)
    assert plain.is_new and plain.id != first.id


def test_places_named_equally_often_are_listed_in_code_order(feed):
    # not in the order of a set of strings, which changes with the interpreter's hash seed
    ref = feed.post("p1", "江宁区东山街道、秣陵街道和淳化街道今日联合开展燃气安全检查，排查隐患二十余处。")
    places = feed.index.summary(ref.id).places
    assert len(places) >= 4
    assert places == sorted(places)


class Clocked:
    """Posts without a publication time, stamped by the index's injected clock."""

    def __init__(self, finder: GazetteerPlaceFinder, **kwargs) -> None:
        self.now = T0
        self.index = EventIndex(clock=lambda: self.now, **kwargs)
        self.finder = finder

    def post(self, pid: str, text: str, hours: float = 0):
        self.now = T0 + timedelta(hours=hours)
        return self.index.assign(PostInput(id=pid, text=text, source="weibo"), text,
                                 rjieba.cut(text), self.finder.find(text))


# The same matter, from the same template, in two compounds of one street (a look-alike that
# the near-duplicate index alone would take for a repost), and a follow-up of the first.
LIFT_CUIPING = "江宁区东山街道翠屏山小区电梯故障，一名老人被困电梯四十分钟，物业迟迟未到场。"
LIFT_JINYING = "江宁区东山街道金鹰天地小区电梯故障，一名老人被困电梯四十分钟，物业迟迟未到场。"
LIFT_CUIPING_LATER = "东山街道翠屏山小区电梯困人一事后续：物业公司已更换电梯控制板，维保单位正在检修。"


def test_the_same_matter_in_another_compound_of_the_street_30_hours_later_is_another_event(
        finder):
    feed = Clocked(finder)
    first = feed.post("a1", LIFT_CUIPING)
    other = feed.post("b1", LIFT_JINYING, hours=30)
    assert other.is_new and other.id != first.id
    assert other.duplicate_of is None  # not taken for a repost of a1 either
    assert any("翠屏山小区" in r and "天地小区" in r for r in other.reasons)


def test_a_follow_up_of_the_same_compound_30_hours_later_stays_in_its_event(finder):
    feed = Clocked(finder)
    first = feed.post("a1", LIFT_CUIPING)
    feed.post("b1", LIFT_JINYING, hours=2)
    later = feed.post("a2", LIFT_CUIPING_LATER, hours=30)
    assert later.id == first.id and not later.is_new
    assert any("同一场所：翠屏山小区" in r for r in later.reasons)


def test_look_alikes_do_not_keep_an_event_open_past_the_window_from_its_first_post(finder):
    # Snowball: each look-alike within the window of the latest one, none naming a compound.
    # The event is the incident of its first post: 80 h later is another one.
    feed = Clocked(finder)
    first = feed.post("a1", "江宁区东山街道一小区电梯故障，一名老人被困电梯四十分钟，物业迟迟未到场。")
    again = feed.post("a2", "东山街道有小区电梯出故障，老人被困在电梯里半小时，物业很久才来处理。",
                      hours=40)
    late = feed.post("a3", "江宁区东山街道小区电梯故障困住老人，被困电梯一个多小时，物业管理不到位。",
                     hours=80)
    assert late.duplicate_of is None  # similar words, no repost (a repost joins however old)
    assert again.id == first.id
    assert late.is_new and late.id != first.id


def test_the_same_compound_keeps_a_long_running_incident_open_past_the_window(finder):
    feed = Clocked(finder)
    first = feed.post("a1", LIFT_CUIPING)
    feed.post("a2", LIFT_CUIPING_LATER, hours=50)
    day5 = feed.post("a3", "东山街道翠屏山小区电梯检修后续：电梯仍未恢复运行，老人下楼只能靠邻居背。",
                     hours=100)
    assert day5.id == first.id


def test_a_follow_up_by_the_compounds_committee_names_the_same_facility(finder):
    # 翠屏山社区 (the residents' committee) answers for 翠屏山小区: one facility, one event
    feed = Clocked(finder)
    first = feed.post("a1", LIFT_CUIPING)
    answer = feed.post("a2", "东山街道翠屏山社区回应电梯困人：已联系维保单位检修，将督促物业整改。",
                       hours=30)
    assert answer.id == first.id


def test_facilities_are_named_places_not_what_happened_there():
    from nlp.event_terms import facilities, lead_of

    def named(text: str) -> set[str]:
        return set(facilities(rjieba.cut(text), lead_of("", text)))

    assert named("江宁区东山街道翠屏山小区电梯故障，一名老人被困") == {"翠屏山小区"}
    assert named("江宁区东山街道双龙大道路口发生交通事故，骑车人受轻伤") == {"双龙大道路口"}
    # a kind, an act or a firm's trade is no name
    assert named("秣陵街道某小区电梯故障，三名老人被困后被送往医院，物业公司迟迟未到场") == set()
    assert named("附近小区居民反映一所学校门口拥堵严重") == set()
