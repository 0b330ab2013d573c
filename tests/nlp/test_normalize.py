from nlp.normalize import MAX_CHARS, analysis_text, normalize


def test_it_converts_traditional_to_simplified():
    assert normalize("網傳江寧區將強制拆遷，補償標準砍半") == "网传江宁区将强制拆迁，补偿标准砍半"


def test_it_strips_tags_scripts_and_decodes_entities():
    raw = ("<div><p>东山街道&nbsp;积水&amp;停电</p><script>var x='<p>广告</p>';</script>"
           "<style>p{color:red}</style><!-- 注释 --><br>居民&quot;很着急&quot;</div>")
    out = normalize(raw)
    assert "东山街道 积水&停电" in out
    assert '居民"很着急"' in out
    for junk in ("广告", "color", "注释", "<", "var x"):
        assert junk not in out


def test_it_decodes_double_encoded_entities():
    assert normalize("&amp;quot;网传&amp;quot;") == '"网传"'


def test_it_maps_fullwidth_letters_and_digits_but_keeps_chinese_punctuation():
    out = normalize("１２３４５热线　ＡＢＣ公司：欠薪（三个月）！")
    assert out == "12345热线 ABC公司：欠薪（三个月）！"


def test_it_collapses_whitespace_and_drops_invisible_characters():
    assert normalize("  江宁\u200b区 \t\t 暴雨\r\n\r\n\n  内涝  ") == "江宁区 暴雨\n内涝"


def test_it_survives_empty_and_huge_input():
    assert normalize(None) == ""
    assert normalize("") == ""
    assert len(normalize("很" * (MAX_CHARS + 500))) == MAX_CHARS


def test_analysis_text_joins_title_once():
    assert analysis_text("標題", "正文") == "标题\n正文"
    assert analysis_text("网传拆迁", "网传拆迁，是真的吗") == "网传拆迁，是真的吗"
    assert analysis_text(None, "正文") == "正文"
