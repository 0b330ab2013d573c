"""One access rule for every report surface: who sees which units' figures."""

from __future__ import annotations

from routing.reports.access import narrow, refusal, report_scope
from routing.reports.history import UnitInfo

UNITS = {"jn-dongshan": UnitInfo("jn-dongshan", "东山街道", "320115001"),
         "jn-edu": UnitInfo("jn-edu", "区教育局", "320115"),
         "gl-street": UnitInfo("gl-street", "鼓楼某街道", "320106001"),
         "jn-publicity": UnitInfo("jn-publicity", "区委宣传部", "320115")}


def test_monitors_and_admins_see_every_unit() -> None:
    assert report_scope("monitor", None, UNITS) is None
    assert report_scope("admin", None, UNITS) is None


def test_a_leader_sees_his_jurisdiction_or_everything_when_unbound() -> None:
    assert report_scope("leader", None, UNITS) is None
    # bound to the district's publicity department: the district and its streets, not 鼓楼
    assert report_scope("leader", "jn-publicity", UNITS) == ["jn-dongshan", "jn-edu",
                                                             "jn-publicity"]


def test_a_unit_user_sees_only_his_unit() -> None:
    assert report_scope("unit", "jn-edu", UNITS) == ["jn-edu"]
    assert report_scope("unit", None, UNITS) == []
    assert report_scope("unit", "gone", UNITS) == []


def test_narrowing_never_widens_a_scope() -> None:
    assert narrow(None, "jn-edu") == ["jn-edu"]
    assert narrow(["jn-edu"], "jn-edu") == ["jn-edu"]
    assert narrow(["jn-edu"], "jn-dongshan") == []
    assert narrow(["jn-edu"], None) == ["jn-edu"]


def test_a_refusal_names_the_data_of_the_report_asked_for() -> None:
    assert refusal("response") == "无权查看其他单位的考核数据"
    assert refusal("replies") == "无权查看其他单位的答复时效数据"
    assert refusal("replies", "jn-edu", "dongshan") == "用户 dongshan 无权查看单位「jn-edu」的答复时效数据"
    assert refusal("response", "jn-edu", "dongshan") == "用户 dongshan 无权查看单位「jn-edu」的考核数据"
