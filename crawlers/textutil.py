"""Text helpers every spider shares: decoding, URL canonicalization, HTML to plain text.

Crawled pages are hostile (wrong charsets, scripts, broken markup), so every helper here takes
bytes or markup as untrusted input and never raises on bad content.
"""

from __future__ import annotations

import codecs
import html as html_mod
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from charset_normalizer import from_bytes
from lxml import etree
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# Query parameters that only track the click; they make one article look like many.
TRACKING_PARAMS = frozenset({
    "spm", "scm", "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid",
    "share_token", "share_source", "share_medium", "share_from", "sharer", "sharesource",
    "wfr", "isappinstalled", "from_share", "vd_source", "ref_src", "_hsenc", "_hsmi",
    "igshid", "si", "xhsshare", "app_platform", "timestamp", "nsukey", "clicktime",
    "enterid", "sessionid", "scene", "srcid", "chksm",
})
TRACKING_PREFIXES = ("utm_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci", "pk_")
# Parameters that say where a click came from (from=hot, from=timeline, ref=share) but are also
# used as offsets on some lists (from=20): dropped only when the value is not a number.
REFERRER_PARAMS = frozenset({"from", "ref", "refer", "referer", "referrer", "fr", "tt_from",
                             "wxfrom", "share_type", "spm_id_from", "source_from", "_from",
                             "frm"})


def _is_tracking(key: str, value: str) -> bool:
    key = key.lower()
    if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
        return True
    return key in REFERRER_PARAMS and not value.strip().isdigit()

# Elements whose content is never text a reader sees.
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "object",
              "embed", "head", "form", "button", "select", "textarea")
# Elements that end a paragraph (or line) when rendered.
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "dl",
    "figure", "figcaption", "hr", "main", "aside", "nav", "address", "center", "td", "th",
})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000\u200b\ufeff]+")
_MANY_BREAKS = re.compile(r"\n\s*\n+")


def normalize_encoding(name: str | None) -> str | None:
    """Canonical codec name; the GB family widens to GB18030, which decodes all of them."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("'\"")).name
    except LookupError:
        return None
    if codec in {"gbk", "gb2312", "gb18030", "hz"} or name.lower() in {"x-gbk", "cp936"}:
        return "gb18030"
    return codec


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page: BOM, then HTTP header, then <meta>, then sniffing; returns (text, codec).

    A declared charset is trusted only when the bytes decode cleanly under it: servers often
    send ``charset=utf-8`` for GBK pages and the other way round.
    """
    bom_enc, bom = read_bom(body)
    if bom_enc:
        return body[len(bom):].decode(bom_enc, errors="replace"), normalize_encoding(bom_enc) or bom_enc
    declared = [
        http_content_type_encoding(content_type) if content_type else None,
        html_body_declared_encoding(body[:4096]),
    ]
    candidates = [normalize_encoding(c) for c in declared if c]
    if not any(candidates):
        candidates.append(_sniff(body))
    candidates += ["utf-8", "gb18030"]
    seen: set[str] = set()
    for codec in candidates:
        if not codec or codec in seen:
            continue
        seen.add(codec)
        try:
            return body.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("gb18030", errors="replace"), "gb18030"


def _sniff(body: bytes) -> str | None:
    """Undeclared, not UTF-8: GB18030 decodes almost any bytes, so ask which of the Chinese
    encodings fits best (Big5 pages from traditional-character sources otherwise turn to junk)."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[:65536], cp_isolation=["gb18030", "big5"]).best()
    return normalize_encoding(best.encoding) if best else None


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute URL without fragment, tracking parameters, default port or host case noise."""
    url = (url or "").strip()
    if not url:
        return ""
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in {None, 80 if scheme == "http" else 443} else None
    netloc = host if port is None else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k, v)]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def _parse_html(html: str) -> etree._Element | None:
    if not html or not html.strip():
        return None
    try:
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, recover=True)
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    return root


def clean_text(text: str) -> str:
    """Collapse runs of spaces inside lines, keep paragraph breaks as single newlines."""
    text = unicodedata.normalize("NFC", text or "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    joined = "\n".join(line for line in lines if line)
    return _MANY_BREAKS.sub("\n", joined).strip()


def element_text(el: etree._Element) -> str:
    """Visible text of an element, one line per block element, scripts and styles dropped.

    The element's own tail is not its text (it belongs to the parent), so it is left out.
    """
    out: list[str] = []

    def walk(node: etree._Element, top: bool = False) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in _DROP_TAGS:
            if node.tail and not top:
                out.append(node.tail)
            return
        block = tag in _BLOCK_TAGS
        if block:
            out.append("\n")
        if tag and node.text:
            out.append(node.text)
        for child in node:
            walk(child)
        if block:
            out.append("\n")
        if node.tail and not top:
            out.append(node.tail)

    walk(el, top=True)
    return clean_text("".join(out))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment or page; never executes or keeps markup."""
    if "<" not in (html or ""):
        return clean_text(unescape_entities(html or ""))
    root = _parse_html(html)
    if root is None:
        return ""
    body = root.find("body")
    return element_text(body if body is not None else root)


def unescape_entities(text: str) -> str:
    return html_mod.unescape(text)


def extract_main_text(html: str, url: str = "") -> str:
    """Main article text when no selector found it: trafilatura, then the whole visible body."""
    import trafilatura  # heavy import: only on pages that need it

    try:
        text = trafilatura.extract(html, url=url or None, include_comments=False,
                                   include_tables=True, favor_recall=True, deduplicate=False)
    except Exception:  # a hostile page must not end the crawl; fall back below
        text = None
    return clean_text(text) if text else html_to_text(html)
