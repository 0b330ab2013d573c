"""Routing scenarios against the shipped 江宁区 configuration, one row per rule and edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlp.types import PlaceMatch
from routing import Facts, RoutingConfig, decide
from yuqing.routing_setup import routing_config_from_settings
from yuqing.settings import Settings

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 2, 9, 0, tzinfo=SH)

PLACES = {
    "东山街道": ("320115001", "township"), "秣陵街道": ("320115011", "township"),
    "汤山街道": ("320115010", "township"), "湖熟街道": ("320115012", "township"),
    "百家湖社区": ("320115001005", "village"), "江宁区": ("320115", "district"),
    "南京市": ("320100", "city"), "雨花台区": ("320114", "district"),
    "玄武区": ("320102", "district"), "海淀区": ("110108", "district"),
    "当涂县": ("340521", "district"),
}


def place(name: str, confidence: float = 0.9, text: str | None = None) -> PlaceMatch:
    code, level = PLACES[name]
    return PlaceMatch(name=name, code=code, level=level, confidence=confidence,
                      text=name if text is None else text)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> RoutingConfig:
    from yuqing.settings import load_settings

    settings = load_settings(tmp_path_factory.mktemp("instance"), environ={})
    return routing_config_from_settings(settings)


@dataclass
class Row:
    id: str
    facts: Facts
    rule: str
    lead: str | None
    co: list[str] = field(default_factory=list)
    says: list[str] = field(default_factory=list)  # the explanation names these facts
    informed: list[str] = field(default_factory=list)
    triage: bool = False
    outside: bool = False


ROWS = [
    Row("one street", Facts(text="东山街道某小学收费不规范，家长反映强烈", topic="education",
                            severity=3, places=[place("东山街道")]),
        "R1-单一属地", "jn-dongshan", [], ["R1-单一属地", "东山街道", "区教育局", "教育"],
        informed=["jn-edu"]),
    Row("a community belongs to its street",
        Facts(text="百家湖社区垃圾堆放", topic="environment", severity=4,
              places=[place("百家湖社区")]),
        "R1-单一属地", "jn-dongshan", [], ["百家湖社区", "东山街道"], informed=["jn-eco"]),
    Row("two streets", Facts(text="汤山和湖熟交界处工厂排污，河道黑臭", topic="environment",
                             severity=3, places=[place("汤山街道"), place("湖熟街道")]),
        "R2-多属地", "jn-eco", ["jn-tangshan", "jn-hushu"],
        ["R2-多属地", "汤山街道", "湖熟街道", "江宁生态环境局", "生态环境", "各自辖区"]),
    Row("two departments by name", Facts(text="东山街道一小学食堂食物中毒，区教育局称正在调查",
                                         topic="food_drug", severity=2,
                                         places=[place("东山街道")]),
        "R3-多部门", "jn-market", ["jn-edu", "jn-dongshan"],
        ["R3-多部门", "区市场监管局", "区教育局", "正文点名", "食品药品", "牵头顺序"]),
    Row("two departments by topic", Facts(text="江宁区学校周边商家虚假宣传", topic="education",
                                          topic_alternatives=[("education", 0.5),
                                                              ("market", 0.4)],
                                          severity=4, places=[place("江宁区")]),
        "R3-多部门", "jn-edu", ["jn-market"], ["兼涉领域「市场监管」", "区教育局牵头"]),
    Row("a weak second topic does not make a second department",
        Facts(text="江宁区学校收费", topic="education",
              topic_alternatives=[("market", 0.2)], severity=4, places=[place("江宁区")]),
        "R1-单一部门", "jn-edu", [], ["全区范围", "区教育局"]),
    Row("outside: a neighbour", Facts(text="雨花台区某工地塌方", topic="work_safety", severity=2,
                                      places=[place("雨花台区")]),
        "R4-属地外通报", None, [], ["R4-属地外通报", "雨花台区", "通报", "南京市雨花台区委宣传部"],
        informed=["yht-publicity"], outside=True),
    Row("outside: elsewhere in the city goes to the upper level",
        Facts(text="玄武区道路积水", topic="disaster", severity=3, places=[place("玄武区")]),
        "R4-属地外通报", None, [], ["玄武区", "南京市委宣传部"], informed=["nj-publicity"],
        outside=True),
    Row("outside: another province goes to the upper level",
        Facts(text="海淀区一学校", topic="education", severity=4, places=[place("海淀区")]),
        "R4-属地外通报", None, [], ["海淀区"], informed=["nj-publicity"], outside=True),
    Row("home and a neighbour: ours, the neighbour informed",
        Facts(text="禄口与当涂交界处非法排污", topic="environment", severity=3,
              places=[place("东山街道"), place("当涂县")]),
        "R1-单一属地", "jn-dongshan", [], ["当涂县", "当涂县委宣传部"],
        informed=["jn-eco", "dt-publicity"]),
    Row("keyword override", Facts(text="网传东山街道民警执法时推搡群众", topic="public_security",
                                  severity=3, places=[place("东山街道"), place("秣陵街道")]),
        "R0-关键词优先", "jn-police", ["jn-dongshan", "jn-moling"],
        ["R0-关键词优先", "涉警舆情", "民警", "公安江宁分局"]),
    Row("override to the monitors", Facts(text="东山街道外籍人员聚集", topic="public_security",
                                          severity=3, places=[place("东山街道")]),
        "R0-关键词优先", None, [], ["涉外涉军敏感信息", "外籍人员", "不自动确定"], triage=True),
    Row("an override never assigns a matter outside",
        Facts(text="雨花台区民警", topic="public_security", severity=3,
              places=[place("雨花台区")]),
        "R4-属地外通报", None, [], ["雨花台区"], informed=["yht-publicity"], outside=True),
    Row("unknown place", Facts(text="某地学校乱收费", topic="education", severity=3),
        "R9-待研判", None, [], ["R9-待研判", "未识别到涉及地点", "区教育局"], triage=True),
    Row("a home department named without a place",
        Facts(text="江宁区教育局回应招生争议", topic="education", severity=4),
        "R1-单一部门", "jn-edu", [], ["正文点名本区单位区教育局"]),
    Row("a generic department name alone does not make it ours",
        Facts(text="某区教育局回应招生争议", topic="education", severity=4),
        "R9-待研判", None, [], ["未识别到涉及地点"], triage=True),
    Row("several departments but no place",
        Facts(text="学校周边商家虚假宣传", topic="education",
              topic_alternatives=[("market", 0.4)], severity=4),
        "R9-待研判", None, [], ["可能涉及区教育局、区市场监管局"], triage=True),
    Row("only the city named", Facts(text="南京市某学校", topic="education", severity=3,
                                     places=[place("南京市")]),
        "R9-待研判", None, [], ["南京市", "无法判断是否属本辖区"], triage=True),
    Row("low-confidence places are ignored and said so",
        Facts(text="汤山温泉", topic="market", severity=4,
              places=[place("汤山街道", confidence=0.3)]),
        "R9-待研判", None, [], ["低置信度", "汤山街道"], triage=True),
    Row("several streets but no topic", Facts(text="东山和秣陵", topic=None, severity=4,
                                              places=[place("东山街道"), place("秣陵街道")]),
        "R9-待研判", None, [], ["多个街道", "未能确定领域主管部门"], triage=True),
    Row("the source's default place", Facts(text="小区门口积水严重", topic="disaster", severity=4,
                                            default_place="320115011"),
        "R1-单一属地", "jn-moling", [], ["信息源默认属地秣陵街道"], informed=["jn-emergency"]),
    Row("traditional text: override keyword",
        Facts(text="東山街道執法人員打人，視頻瘋傳", topic="public_security", severity=3,
              places=[place("东山街道", text="東山街道")]),
        "R0-关键词优先", "jn-police", ["jn-dongshan"], ["执法人员打人"]),
    Row("traditional text: a department named",
        Facts(text="東山街道小學食堂食物中毒，區教育局回應", topic="food_drug", severity=3,
              places=[place("东山街道", text="東山街道")]),
        "R3-多部门", "jn-market", ["jn-edu", "jn-dongshan"], ["区教育局：正文点名"]),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_routing_scenario(row: Row, cfg: RoutingConfig):
    d = decide(row.facts, cfg, start=START)
    assert d.rule == row.rule, d.explanation
    assert (d.lead.code if d.lead else None) == row.lead, d.explanation
    assert [u.code for u in d.co] == row.co, d.explanation
    assert [u.code for u in d.informed] == row.informed, d.explanation
    assert d.triage is row.triage and d.outside is row.outside
    assert d.explanation.startswith(f"【{row.rule}】")
    for fact in row.says:
        assert fact in d.explanation, (fact, d.explanation)
    if d.triage:
        assert d.reason and d.reason in d.explanation
    assert d.coordinator is not None and d.coordinator.code == "jn-publicity"


def test_lead_order_decides_between_departments(cfg: RoutingConfig):
    # work_safety precedes education in lead_order: the emergency bureau leads
    facts = Facts(text="东山街道一学校工地坍塌", topic="education",
                  topic_alternatives=[("work_safety", 0.45)], severity=2,
                  places=[place("东山街道")])
    d = decide(facts, cfg, start=START)
    assert (d.rule, d.lead.code) == ("R3-多部门", "jn-emergency")
    assert [u.code for u in d.co] == ["jn-edu", "jn-dongshan"]


def test_dispatch_follows_the_severity_setting(cfg: RoutingConfig):
    base = {"text": "东山街道小区物业纠纷", "topic": "housing", "places": [place("东山街道")]}
    assert decide(Facts(severity=1, **base), cfg, START).auto_dispatch is False
    assert "待舆情监测人员研判后派发" in decide(Facts(severity=2, **base), cfg, START).explanation
    three = decide(Facts(severity=3, **base), cfg, START)
    assert three.auto_dispatch is True and "自动派发" in three.explanation
    # never automatically: triage and outside
    assert decide(Facts(severity=4, text="无地点", topic="housing"), cfg, START).auto_dispatch \
        is False


def test_urgent_topics_are_flagged_and_get_tighter_deadlines(cfg: RoutingConfig):
    facts = Facts(text="东山街道餐馆食物中毒", topic="food_drug", severity=3,
                  places=[place("东山街道")])
    d = decide(facts, cfg, start=START)
    assert d.urgent and d.urgent_category == "public_health"
    assert "公共卫生" in d.explanation
    assert d.deadlines["sign"] == datetime(2026, 11, 2, 10, 0, tzinfo=SH)
    assert d.deadlines["first_response"] == datetime(2026, 11, 3, 9, 0, tzinfo=SH)


def test_deadlines_come_from_the_sla_clock_and_outside_has_none(cfg: RoutingConfig):
    d = decide(Facts(text="东山街道", topic="housing", severity=1, places=[place("东山街道")]),
               cfg, start=START)
    assert d.deadlines == {"sign": datetime(2026, 11, 2, 9, 30, tzinfo=SH),
                           "first_response": datetime(2026, 11, 2, 14, 0, tzinfo=SH),
                           "press_conference": datetime(2026, 11, 3, 9, 0, tzinfo=SH),
                           "answer": datetime(2026, 11, 4, 9, 0, tzinfo=SH)}
    out = decide(Facts(text="雨花台区", topic="housing", severity=1, places=[place("雨花台区")]),
                 cfg, start=START)
    assert out.deadlines == {} and out.lead is None


def test_a_post_below_alert_level_is_routed_but_not_an_alert(cfg: RoutingConfig):
    d = decide(Facts(text="东山街道", topic="housing", severity=None,
                     places=[place("东山街道")]), cfg, start=START)
    assert d.alert is False and d.lead.code == "jn-dongshan"
    assert all(v is None for v in d.deadlines.values())
    assert "未达预警级别" in d.explanation


def test_decision_serializes_to_json_ready_data(cfg: RoutingConfig):
    d = decide(Facts(text="汤山和湖熟", topic="environment", severity=3,
                     places=[place("汤山街道"), place("湖熟街道")]), cfg, start=START)
    data = d.to_dict()
    assert data["lead"] == {"name": "南京市江宁生态环境局", "code": "jn-eco"}
    assert data["deadlines"]["answer"] == "2026-11-04T09:00:00+08:00"
    assert data["place_code"] == "320115010"


def test_source_default_place_from_config(settings: Settings):
    from yuqing.settings import load_settings

    src = {"sources": [{"key": "moling-board", "name": "秣陵街道动态", "kind": "feed",
                        "start_urls": ["http://127.0.0.1:9/feed.xml"],
                        "default_place": "320115011"}]}
    s = load_settings(settings.home, environ={}, overrides={"sources": src})
    cfg = routing_config_from_settings(s)
    d = decide(Facts(text="路灯不亮", topic="urban_planning", severity=4, source="moling-board"),
               cfg, start=START)
    assert d.lead.code == "jn-moling" and "信息源默认属地秣陵街道" in d.explanation


def test_explanations_use_the_short_names_people_know(cfg: RoutingConfig):
    full = [PlaceMatch("江苏省南京市江宁区汤山街道", "320115010", "township", 0.9, "汤山"),
            PlaceMatch("江苏省南京市江宁区湖熟街道龙都社区", "320115012003", "village", 0.9, "龙都"),
            PlaceMatch("江苏省南京市雨花台区", "320114", "district", 0.9, "雨花台")]
    d = decide(Facts(text="汤山 龙都 雨花台", topic="environment", severity=3, places=full), cfg,
               START)
    assert "涉及多个街道（汤山街道、湖熟街道龙都社区）" in d.explanation
    assert "另涉及辖区外雨花台区" in d.explanation
    assert "江苏省" not in d.explanation


def test_the_case_form_carries_unit_codes_and_every_deadline(cfg: RoutingConfig):
    d = decide(Facts(text="东山街道食堂", topic="food_drug", severity=2,
                     places=[place("东山街道")]), cfg, start=START).for_case()
    # a food matter: market supervision co-handles by duty (D3-食品安全), it no longer only advises
    assert (d.lead, d.co, d.coordinator, d.informed) == ("jn-dongshan", ["jn-market"],
                                                         "jn-publicity", [])
    assert d.deadlines["press"] == d.deadlines["press_conference"] == \
        datetime(2026, 11, 3, 9, 0, tzinfo=SH)
    assert d.place == "320115001" and d.rule == "R1-单一属地" and not d.auto_dispatch


def test_an_events_posts_combine_into_one_decision(cfg: RoutingConfig):
    first = Facts(text="汤山一工厂排污", topic="environment", severity=4,
                  places=[place("汤山街道", confidence=0.6)], source="weibo")
    follow = Facts(text="湖熟河道也黑臭了", topic="environment", severity=3,
                   places=[place("湖熟街道"), place("汤山街道", confidence=0.95)])
    noise = Facts(text="转发", topic=None, severity=None)
    facts = Facts.combine([first, follow, noise])
    assert facts.severity == 3 and facts.topic == "environment" and facts.source == "weibo"
    assert {p.code: p.confidence for p in facts.places} == {"320115010": 0.95,
                                                             "320115012": 0.9}
    d = decide(facts, cfg, START)
    assert (d.rule, d.lead.code) == ("R2-多属地", "jn-eco")
    assert Facts.combine([]).severity is None


def test_the_case_place_is_the_home_one_even_when_a_neighbour_comes_first(cfg: RoutingConfig):
    d = decide(Facts(text="当涂县与东山街道", topic="environment", severity=3,
                     places=[place("当涂县"), place("东山街道"), place("东山街道")]), cfg, START)
    assert d.place_code == "320115001" and d.lead.code == "jn-dongshan"
    assert d.explanation.count("东山街道牵头") == 1


def test_an_unknown_severity_is_not_an_alert(cfg: RoutingConfig):
    d = decide(Facts(text="东山街道", topic="housing", severity=7, places=[place("东山街道")],
                     topic_alternatives=[("market", None)]), cfg, START)  # type: ignore[list-item]
    assert d.alert is False and d.auto_dispatch is False


def test_a_named_water_bureau_co_handles_a_flood_the_emergency_bureau_leads(cfg: RoutingConfig):
    d = decide(Facts(text="麒麟街道暴雨内涝，区水务局泵站没开", topic="disaster", severity=3,
                     places=[PlaceMatch("麒麟街道", "320115006", "township", 0.9, "麒麟")]),
               cfg, START)
    assert (d.rule, d.lead.code) == ("R3-多部门", "jn-emergency")
    assert [u.code for u in d.co] == ["jn-water", "jn-qilin"]


def test_source_overrides_match_the_source_and_both_criteria_must_hold(settings: Settings):
    from yuqing.settings import load_settings

    src = {"sources": [{"key": "hotline", "name": "12345热线", "kind": "import",
                        "path": "/tmp/none"}]}
    rules = {"overrides": [
        {"name": "热线营商投诉", "sources": ["hotline"], "keywords": ["营商环境"],
         "lead": "jn-govservice"},
        {"name": "热线工单", "sources": ["hotline"], "lead": "jn-govservice", "co": ["jn-cac"]}]}
    cfg = routing_config_from_settings(load_settings(settings.home, environ={},
                                                     overrides={"sources": src,
                                                                "routing": rules}))
    both = decide(Facts(text="东山街道营商环境差", topic="gov_service", severity=4,
                        places=[place("东山街道")], source="hotline"), cfg, START)
    assert "热线营商投诉" in both.explanation and "信息源「hotline」" in both.explanation
    only_source = decide(Facts(text="东山街道路灯坏了", topic="urban_planning", severity=4,
                               places=[place("东山街道")], source="hotline"), cfg, START)
    assert "「热线工单」" in only_source.explanation
    assert [u.code for u in only_source.co] == ["jn-cac", "jn-dongshan"]
    other = decide(Facts(text="东山街道营商环境差", topic="gov_service", severity=4,
                         places=[place("东山街道")], source="weibo"), cfg, START)
    assert other.rule == "R1-单一属地"
