"""江宁区 scenarios end to end: text → analysis (real models, real gazetteer) → routing decision.

Each row is a post as it could arrive from a 留言板, Weibo or a news site; the decision must
name the right rule, lead, co-units and 通报 recipients. Written for issue 13 (duty rules,
rumours, 属地外, place traps); none is taken from a held-out corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlp.analyzer import Analyzer
from nlp.types import PostInput
from routing import Facts, RoutingConfig, decide
from yuqing.commands.nlp import build_analyzer, place_finder_for
from yuqing.routing_setup import routing_config_from_settings
from yuqing.settings import Settings, load_settings

START = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(tmp_path_factory.mktemp("instance"), environ={})


@pytest.fixture(scope="module")
def cfg(shipped: Settings) -> RoutingConfig:
    return routing_config_from_settings(shipped)


@pytest.fixture(scope="module")
def analyzer(shipped: Settings) -> Analyzer:
    # the wiring the service uses: shipped models, the gazetteer with the home jurisdiction
    return build_analyzer(shipped, place_finder_for(shipped))


@dataclass
class Scene:
    id: str
    text: str
    rule: str
    lead: str | None
    co: list[str] = field(default_factory=list)
    informed: list[str] | None = None  # None: not checked
    duty: list[str] = field(default_factory=list)  # duty rule ids named in the explanation
    max_level: int | None = None  # severity at least this grave (1 = I)
    outside: bool = False
    triage: bool = False


SCENES = [
    Scene("factory fire with injuries: emergency bureau co-handles",
          "谷里街道一家家具厂今天上午发生火灾，现场浓烟滚滚，两名工人受伤被送往医院。",
          "R1-单一属地", "jn-guli", ["jn-emergency"], informed=[], duty=["D1-安全生产伤亡"]),
    Scene("scaffold collapse with a death",
          "禄口街道一建筑工地脚手架坍塌，致1人死亡2人受伤，施工方未设置安全防护。",
          "R1-单一属地", "jn-lukou", ["jn-emergency"], duty=["D1-安全生产伤亡"], max_level=4),
    Scene("explosion, many injured: III at least",
          "湖熟街道一化工厂发生爆炸，多人受伤，周边居民紧急疏散。",
          "R1-单一属地", "jn-hushu", ["jn-emergency"], duty=["D1-安全生产伤亡"], max_level=3),
    Scene("pupils fall ill after lunch: health and market supervision co-handle",
          "东山街道一小学十几名学生午餐后出现呕吐腹泻症状，家长担心食品安全问题。",
          "R1-单一属地", "jn-dongshan", ["jn-health", "jn-market"],
          duty=["D2-群体性疾病", "D3-食品安全"], max_level=3),
    Scene("kindergarten outbreak",
          "麒麟街道一幼儿园多名孩子发烧呕吐，疑似诺如病毒感染，园方未及时通报。",
          "R1-单一属地", "jn-qilin", ["jn-health"], duty=["D2-群体性疾病"], max_level=3),
    Scene("something found in a restaurant meal",
          "东山街道竹山路一餐馆饭菜里吃出异物，顾客投诉后店家拒不赔偿。",
          "R1-单一属地", "jn-dongshan", ["jn-market"], duty=["D3-食品安全"]),
    Scene("expired milk in a supermarket",
          "秣陵街道一超市出售过期牛奶，多名顾客投诉无人处理。",
          "R1-单一属地", "jn-moling", ["jn-market"], informed=[], duty=["D3-食品安全"]),
    Scene("tower crane collapse, two dead",
          "东山街道一工地塔吊倒塌，致2名工人死亡。",
          "R1-单一属地", "jn-dongshan", ["jn-emergency"], duty=["D1-安全生产伤亡"], max_level=3),
    Scene("a group falls ill in a care home: health co-handles, III at least",
          "汤山街道一养老院群体发烧，老人们被送往医院。",
          "R1-单一属地", "jn-tangshan", ["jn-health"], duty=["D2-群体性疾病"], max_level=3),
    Scene("stampede at a school: III whatever the topic",
          "江宁区某小学课间发生踩踏，十几名学生受伤送医。",
          "R1-单一部门", "jn-edu", [], max_level=3),
    Scene("rumour of a district-wide water cut: the water bureau answers",
          "网传江宁区下周起全区停水检修三天，大家赶紧囤水！",
          "D4-谣言澄清", "jn-water", ["jn-publicity"], duty=["D4-谣言澄清"]),
    Scene("rumour about the housing fund: 住建 leads, publicity clarifies",
          "网传江宁区住房公积金提取政策收紧，下月起不能提取了？大家快去取！",
          "D4-谣言澄清", "jn-housing", ["jn-publicity"], duty=["D4-谣言澄清"]),
    Scene("rumour about demolition in a street",
          "网传东山街道下月起全面强制拆迁，补偿标准砍半，大家快转发！",
          "D4-谣言澄清", "jn-planning", ["jn-publicity", "jn-dongshan"], duty=["D4-谣言澄清"]),
    Scene("official debunking of an enrolment rumour",
          "江宁区教育局辟谣：网传我区小学招生政策调整的消息不实，请以官方发布为准。",
          "D4-谣言澄清", "jn-edu", ["jn-publicity"], duty=["D4-谣言澄清"]),
    Scene("another city's district: 属地外",
          "杭州市临平区一小区连续三天停水，居民苦不堪言，物业电话打不通。",
          "R4-属地外通报", None, [], informed=["nj-publicity"], outside=True),
    Scene("another province's district: 属地外",
          "北京市海淀区一所中学招生争议，家长质疑录取不公。",
          "R4-属地外通报", None, [], informed=["nj-publicity"], outside=True),
    Scene("a neighbour's street: 通报 the neighbour",
          "雨花台区板桥街道一工地塌方，所幸无人员伤亡。",
          "R4-属地外通报", None, [], informed=["yht-publicity"], outside=True),
    Scene("a weak foreign place decides nothing",
          "昆山一工厂拖欠工资，工人讨薪无门。",
          "R9-待研判", None, [], triage=True),
    Scene("company name is weak evidence; a named home department leads",
          "南京某公司拖欠我们工资三个月了，江宁区人社局管不管？",
          "R1-单一部门", "jn-hrss", []),
    Scene("one street, a housing matter",
          "秣陵街道九龙湖附近一小区物业乱收费，业主多次反映无果。",
          "R1-单一属地", "jn-moling", []),
    Scene("two streets, pollution: the environment bureau leads",
          "汤山街道和湖熟街道交界处的工厂偷排废水，河道发黑发臭。",
          "R2-多属地", "jn-eco", ["jn-tangshan", "jn-hushu"]),
    Scene("trap: 重大安全 is no 大安",
          "这是重大安全隐患！横溪街道一加油站旁违规堆放易燃物品，无人管理。",
          "R1-单一属地", "jn-hengxi", []),
    Scene("trap: 拆迁安置 is no 迁安",
          "拆迁安置房质量太差，江宁街道的安置小区墙面开裂漏水。",
          "R1-单一属地", "jn-jiangning", []),
    Scene("a homonym street guessed in the home province decides nothing",
          "东湖街道一小区停水两天了，没人管",
          "R9-待研判", None, [], informed=[], triage=True),
    Scene("trap: 龙井小区 is an estate, not 龙井市",
          "龙井小区门口垃圾成堆，秣陵街道不管",
          "R1-单一属地", "jn-moling", [], informed=["jn-urban"]),
    Scene("trap: 医保定点 is no 保定",
          "医保定点药店拒绝刷卡，淳化街道居民反映多次没有结果。",
          "R1-单一属地", "jn-chunhua", []),
]


@pytest.mark.parametrize("scene", SCENES, ids=[s.id for s in SCENES])
def test_scenario_routes_by_place_and_duty(scene: Scene, analyzer: Analyzer,
                                           cfg: RoutingConfig):
    post = PostInput(id=scene.id, text=scene.text, source="weibo")
    analysis = analyzer.analyze(post)
    d = decide(Facts.from_analysis(analysis, post), cfg, START)
    seen = (f"{d.explanation} | 领域 {analysis.topic.label} | 等级 {analysis.severity.level} | "
            f"地点 {[(p.name, p.confidence) for p in analysis.places]}")
    assert d.rule == scene.rule, seen
    assert (d.lead.code if d.lead else None) == scene.lead, seen
    assert [u.code for u in d.co] == scene.co, seen
    if scene.informed is not None:
        assert [u.code for u in d.informed] == scene.informed, seen
    assert d.outside is scene.outside and d.triage is scene.triage, seen
    for rule_id in scene.duty:
        assert rule_id in d.explanation and rule_id in d.duty_rules, seen
    if scene.max_level is not None:
        assert analysis.severity.level is not None, seen
        assert analysis.severity.level <= scene.max_level, seen
