import pytest

from crawlers.textutil import canonical_url, decode_body, extract_main_text, html_to_text

GBK_PAGE = '<html><head><meta charset="gb2312"><title>江宁</title></head><body><p>江宁区秣陵街道积水严重</p></body></html>'


def test_it_decodes_gbk_declared_in_meta():
    text, codec = decode_body(GBK_PAGE.encode("gbk"))
    assert codec == "gb18030"
    assert "秣陵街道积水严重" in text


def test_it_distrusts_a_header_that_lies_about_utf8():
    body = GBK_PAGE.replace('<meta charset="gb2312">', "").encode("gbk")
    text, codec = decode_body(body, "text/html; charset=utf-8")
    assert codec == "gb18030"
    assert "积水严重" in text


def test_it_prefers_the_header_when_it_is_right():
    body = "<p>汤山街道 ☺ 温泉</p>".encode("gb18030")
    text, _ = decode_body(body, "text/html; charset=GBK")
    assert "汤山街道" in text


def test_it_honours_a_utf8_bom_and_plain_utf8():
    assert decode_body("\ufeff<p>淳化</p>".encode())[0] == "<p>淳化</p>"
    text, codec = decode_body("<p>东山街道</p>".encode())
    assert (text, codec) == ("<p>东山街道</p>", "utf-8")


def test_html_to_text_drops_scripts_styles_and_keeps_paragraphs():
    html = """<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>
    <div><p>第一段 文字</p><script>document.write('x')</script>
    <img src=x onerror="alert(2)"><p>第二段<br>换行</p><!-- hidden --></div>
    <noscript>请启用脚本</noscript></body></html>"""
    assert html_to_text(html) == "第一段 文字\n第二段\n换行"


def test_html_to_text_survives_broken_markup():
    assert html_to_text("<div><p>未闭合<b>加粗<p>下一段</div></span>") == "未闭合加粗\n下一段"
    assert html_to_text("") == ""
    assert html_to_text("纯文本 &amp; 实体") == "纯文本 & 实体"


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTP://News.Example.CN:80/a/1.html?utm_source=wx&id=5#comments",
     "http://news.example.cn/a/1.html?id=5"),
    ("https://example.cn:443/p?spm=a.b.c&from=timeline&page=2", "https://example.cn/p?page=2"),
    ("https://example.cn/p?id=7&from=hot&ref=share", "https://example.cn/p?id=7"),
    ("https://example.cn/list?from=20&size=10", "https://example.cn/list?from=20&size=10"),
    ("https://example.cn", "https://example.cn/"),
    ("http://127.0.0.1:8080/x?b=2&a=1", "http://127.0.0.1:8080/x?b=2&a=1"),
])
def test_it_canonicalizes_urls(url, expected):
    assert canonical_url(url) == expected


def test_it_resolves_relative_links():
    assert canonical_url("../b/2.html#top", "http://x.cn/a/list/index.html") == "http://x.cn/a/b/2.html"
    assert canonical_url("   ") == ""


def test_main_text_extractor_finds_the_article_among_navigation():
    paragraphs = "".join(f"<p>江宁区第{i}段正文，居民反映小区门口道路坑洼不平，雨天积水严重，出行十分不便。</p>" for i in range(8))
    html = f"""<html><body><div class="nav"><a href="/">首页</a><a href="/n">新闻</a></div>
    <div class="content">{paragraphs}</div><div class="footer">版权所有 联系我们</div></body></html>"""
    text = extract_main_text(html)
    assert "第0段正文" in text and "第7段正文" in text
    assert "版权所有" not in text
    assert text.count("\n") >= 7


def test_undeclared_big5_is_sniffed_not_read_as_gbk():
    body = "<p>江寧區政府回應民眾關於道路積水的問題，相關部門已經派員處理。</p>".encode("big5")
    text, codec = decode_body(body)
    assert codec == "big5" and "道路積水" in text


def test_undeclared_gbk_is_sniffed():
    body = "<p>江宁区政府回应民众关于道路积水的问题，相关部门已经派员处理。</p>".encode("gbk")
    text, codec = decode_body(body)
    assert codec == "gb18030" and "道路积水" in text
