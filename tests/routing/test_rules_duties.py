"""Duty rules (duty_rules in config/routing.yaml) and the confidence bar for 属地外, on the
shipped 江宁区 configuration with hand-made facts (the analysis is tested elsewhere)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlp.types import PlaceMatch
from routing import Facts, RoutingConfig, decide
from routing.duties import people
from yuqing.routing_setup import routing_config_from_settings
from yuqing.settings import ConfigError, load_settings

START = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DONGSHAN = PlaceMatch("江苏省南京市江宁区东山街道", "320115001", "township", 0.9, "东山街道")
JIANGNING = PlaceMatch("江苏省南京市江宁区", "320115", "district", 0.95, "江宁区")


def foreign(confidence: float) -> PlaceMatch:
    return PlaceMatch("浙江省杭州市临平区", "330113", "district", confidence, "临平区")


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> RoutingConfig:
    return routing_config_from_settings(load_settings(tmp_path_factory.mktemp("i"), environ={}))


def codes(units) -> list[str]:
    return [u.code for u in units]


def test_a_safety_accident_with_casualties_brings_the_emergency_bureau_in_as_co_unit(cfg):
    d = decide(Facts(text="东山街道一工厂车间起火，3名工人受伤", topic="work_safety",
                     severity=3, places=[DONGSHAN]), cfg, START)
    assert (d.rule, d.lead.code) == ("R1-单一属地", "jn-dongshan")
    assert codes(d.co) == ["jn-emergency"] and codes(d.informed) == []
    assert "D1-安全生产伤亡" in d.explanation and d.duty_rules == ["D1-安全生产伤亡"]
    assert "知悉并指导" not in d.explanation


def test_an_accident_without_casualties_leaves_the_bureau_advising(cfg):
    d = decide(Facts(text="东山街道一工厂车间起火，无人员伤亡", topic="work_safety",
                     severity=4, places=[DONGSHAN]), cfg, START)
    # 无人员伤亡 names no casualty word of the rule
    assert codes(d.co) == [] and codes(d.informed) == ["jn-emergency"]
    assert d.duty_rules == []


def test_the_accident_keywords_stand_in_for_a_missed_topic(cfg):
    d = decide(Facts(text="东山街道一工地脚手架坍塌，两人受伤", topic="urban_planning",
                     severity=3, places=[DONGSHAN]), cfg, START)
    assert "jn-emergency" in codes(d.co)


def test_mass_illness_brings_health_in_and_one_sick_person_does_not(cfg):
    mass = decide(Facts(text="东山街道一小学十几名学生发烧呕吐", topic="education", severity=3,
                        places=[DONGSHAN]), cfg, START)
    assert "jn-health" in codes(mass.co) and "D2-群体性疾病" in mass.explanation
    assert mass.urgent and mass.urgent_category == "public_health"  # from the duty rule
    one = decide(Facts(text="东山街道一小学一名学生发烧呕吐", topic="education", severity=4,
                       places=[DONGSHAN]), cfg, START)
    assert "jn-health" not in codes(one.co)


def test_food_safety_brings_market_supervision_in(cfg):
    d = decide(Facts(text="东山街道一餐馆饭菜变质，顾客腹泻", topic="market", severity=4,
                     places=[DONGSHAN]), cfg, START)
    # market is the lead department's topic here: it leads R1 through the street, and co-handles
    assert codes(d.co) == ["jn-market"] and "D3-食品安全" in d.explanation


def test_a_rumour_is_answered_by_its_fields_department_with_the_publicity_department(cfg):
    d = decide(Facts(text="网传江宁区公积金下月起停止提取", topic="policy", severity=4,
                     places=[JIANGNING]), cfg, START)
    assert (d.rule, d.lead.code) == ("D4-谣言澄清", "jn-housing")
    assert codes(d.co) == ["jn-publicity"]
    assert "公积金" in d.explanation and d.explanation.startswith("【D4-谣言澄清】")
    assert d.urgent_category == "policy_misreading" and d.urgent


@pytest.mark.parametrize("text", ["江宁区公积金中心要撤销的谣言传得到处都是，到底真的假的",
                                  "网传江宁区住房公积金贷款额度下月减半",
                                  "江宁区住建局辟谣：公积金提取政策没有变化"])
def test_every_rumour_word_brings_the_publicity_department_and_the_field_leads(cfg, text):
    # the topic model may call these policy or housing; the field word decides the lead
    for topic in ("policy", "housing"):
        d = decide(Facts(text=text, topic=topic, severity=4, places=[JIANGNING]), cfg, START)
        assert (d.rule, d.lead.code, codes(d.co)) == ("D4-谣言澄清", "jn-housing",
                                                       ["jn-publicity"]), d.explanation
        assert d.urgent_category == "policy_misreading"


def test_a_rumour_without_a_field_word_goes_by_its_topic_and_keeps_its_streets(cfg):
    d = decide(Facts(text="东山街道有人造谣说学校要停课", topic="education", severity=4,
                     places=[DONGSHAN]), cfg, START)
    assert (d.rule, d.lead.code) == ("D4-谣言澄清", "jn-edu")
    assert codes(d.co) == ["jn-publicity", "jn-dongshan"]


def test_a_rumour_with_neither_field_nor_department_goes_to_the_publicity_department(cfg):
    d = decide(Facts(text="网传江宁区要合并了", topic="policy", severity=4, places=[JIANGNING]),
               cfg, START)
    assert (d.rule, d.lead.code) == ("D4-谣言澄清", "jn-publicity")


def test_a_police_override_still_wins_over_a_rumour(cfg):
    d = decide(Facts(text="网传东山街道民警打人", topic="public_security", severity=3,
                     places=[DONGSHAN]), cfg, START)
    assert (d.rule, d.lead.code) == ("R0-关键词优先", "jn-police")


def test_a_rumour_about_elsewhere_is_still_outside(cfg):
    d = decide(Facts(text="网传临平区公积金停止提取", topic="policy", severity=4,
                     places=[foreign(0.95)]), cfg, START)
    assert d.rule == "R4-属地外通报" and d.lead is None and d.outside


def test_a_high_confidence_foreign_place_is_outside_and_a_weak_one_decides_nothing(cfg):
    strong = decide(Facts(text="临平区一小区停水", topic="housing", severity=4,
                          places=[foreign(0.95)]), cfg, START)
    assert (strong.rule, strong.lead, strong.outside) == ("R4-属地外通报", None, True)
    assert codes(strong.informed) == ["nj-publicity"]
    weak = decide(Facts(text="临平某公司欠薪", topic="housing", severity=4,
                        places=[foreign(0.55)]), cfg, START)
    assert weak.rule == "R9-待研判" and not weak.outside
    assert "置信度不足" in weak.explanation
    # with a home place, a weak foreign one is neither informed nor named as outside
    mixed = decide(Facts(text="东山街道 临平某公司", topic="housing", severity=4,
                         places=[DONGSHAN, foreign(0.55)]), cfg, START)
    assert mixed.lead.code == "jn-dongshan" and codes(mixed.informed) == ["jn-housing"]
    assert "另涉及辖区外" not in mixed.explanation


def test_outside_goes_to_the_coordinator_with_no_lead_under_rule_r4(cfg):
    d = decide(Facts(text="杭州市临平区一工厂爆炸，多人受伤", topic="work_safety", severity=2,
                     places=[foreign(0.95)]), cfg, START)
    assert (d.rule, d.lead, codes(d.co), d.outside) == ("R4-属地外通报", None, [], True)
    assert d.coordinator is not None and d.coordinator.code == "jn-publicity"
    assert d.explanation.startswith("【R4-属地外通报】")
    assert "报区委宣传部，由其向南京市委宣传部通报" in d.explanation
    # no duty rule brings a home unit into a matter that is not ours, and nothing waits on us
    assert d.duty_rules == [] and not d.auto_dispatch and d.deadlines == {}
    assert "统筹协调" not in d.explanation


def test_duty_units_are_suggested_when_the_monitors_must_judge(cfg):
    d = decide(Facts(text="某工厂爆炸，多人受伤", topic="work_safety", severity=2), cfg, START)
    assert d.triage and "D1-安全生产伤亡" in d.explanation and "供研判参考" in d.explanation


@pytest.mark.parametrize(("text", "n"), [("30名学生", 30), ("十几名学生", 10), ("两人", 2),
                                         ("没有人", 0)])
def test_people_counts(text, n):
    assert people(text) == n


def test_a_duty_rule_naming_an_unknown_unit_is_refused(tmp_path):
    rules = {"duty_rules": [{"id": "X1", "keywords": ["爆炸"], "co": ["no-such-unit"]}]}
    with pytest.raises(ConfigError, match="duty_rules"):
        load_settings(tmp_path, environ={}, overrides={"routing": rules})
    with pytest.raises(ConfigError, match="duty_rules"):
        load_settings(tmp_path, environ={}, overrides={"routing": {"duty_rules": [
            {"id": "X2", "co": ["jn-health"]}]}})
