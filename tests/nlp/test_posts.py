import pytest

from nlp.posts import PostError, parse_count, parse_time, post_from_dict


@pytest.mark.parametrize(("raw", "value"), [
    (123, 123), ("1,234", 1234), ("1.2万", 12000), ("10w+", 100000), ("3千", 3000),
    ("", 0), (None, 0), ("很多", 0), (-5, 0), ("2亿", 200_000_000)])
def test_engagement_counts_are_read_as_sites_print_them(raw, value):
    assert parse_count(raw) == value


def test_a_record_becomes_a_post_with_missing_fields_allowed():
    post = post_from_dict({"id": 7, "title": "標題", "reposts": "1.5万",
                           "published_at": "2026-11-01T08:00:00Z"}, fallback_id="x")
    assert post.id == "7" and post.text == "" and post.title == "標題"
    assert post.reposts == 15000 and post.published_at.year == 2026
    assert post_from_dict({"text": "正文"}, fallback_id="line-3").id == "line-3"
    assert parse_time("3分钟前") is None


@pytest.mark.parametrize(("record", "reason"), [
    ({"id": "1"}, "缺少 text"), ({"text": ["x"]}, "字符串"), ("just text", "JSON 对象")])
def test_unusable_records_are_refused_with_a_reason(record, reason):
    with pytest.raises(PostError, match=reason):
        post_from_dict(record)
