"""Text normalization: HTML, full-width forms, traditional → simplified, whitespace.

The caller keeps the original text; ``normalize`` returns a new string used by every
later step (tokens, models, rules). Conversion uses the native OpenCC package with its
shipped ``t2s`` data, built once per process on first use.
"""

from __future__ import annotations

import html
import re
import threading

# Script/style bodies are code, never content: drop them with their tags.
_SCRIPT_RE = re.compile(r"<(script|style|noscript)\b[^>]*>.*?(</\1\s*>|$)", re.I | re.S)
_COMMENT_RE = re.compile(r"<!--.*?(-->|$)", re.S)
_BLOCK_TAG_RE = re.compile(r"<\s*/?\s*(br|p|div|li|tr|h[1-6]|section|article)\b[^>]*>", re.I)
_TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>")
# Zero-width and other invisible format characters that break word matching.
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u3000]+")
_NEWLINES_RE = re.compile(r"\s*\n\s*")

# Full-width ASCII (FF01–FF5E) maps to ASCII, except the punctuation Chinese text uses
# natively: keeping ，！？ etc. leaves sentences as people write them.
_KEEP_FULLWIDTH = set("，！？：；（）")
_FULLWIDTH_TABLE = {
    cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP_FULLWIDTH
}
_FULLWIDTH_TABLE[0x3000] = 0x20
# str.translate looks every character up in the table (60 µs for a 400-character post): most
# texts hold none of these characters, and a regex finds that out 70x faster
_FULLWIDTH_RE = re.compile("[" + "".join(map(chr, sorted(_FULLWIDTH_TABLE))) + "]")

MAX_CHARS = 20_000  # a huge page is cut here: the head carries the matter, the tail is noise

_converter = None
_converter_lock = threading.Lock()


def _t2s():
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                import opencc  # native binding; its t2s data ships inside the wheel

                _converter = opencc.OpenCC("t2s")
    return _converter


def strip_html(text: str) -> str:
    """Remove tags (keeping block breaks as newlines) and decode entities."""
    if "<" in text:
        text = _COMMENT_RE.sub(" ", text)
        text = _SCRIPT_RE.sub(" ", text)
        text = _BLOCK_TAG_RE.sub("\n", text)
        text = _TAG_RE.sub("", text)
    # entities may be double-encoded by careless feeds (&amp;quot;)
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    return text


def to_halfwidth(text: str) -> str:
    return text.translate(_FULLWIDTH_TABLE) if _FULLWIDTH_RE.search(text) else text


def to_simplified(text: str) -> str:
    return _t2s().convert(text) if text else text


def normalize(text: str | None, max_chars: int = MAX_CHARS) -> str:
    """The text every analysis step reads; never raises on odd input."""
    if not text:
        return ""
    text = strip_html(str(text))
    text = _INVISIBLE_RE.sub("", text)
    text = _CONTROL_RE.sub(" ", text)
    text = to_halfwidth(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES_RE.sub(" ", text)
    if "\n" in text:  # the pattern is tried at every space otherwise
        text = _NEWLINES_RE.sub("\n", text)
    text = text.strip()
    if len(text) > max_chars:
        text = text[:max_chars]
    return to_simplified(text)


def join_title(title: str, text: str) -> str:
    """Title and body as one analysis text; the title is not repeated when the body starts with it."""
    title, text = title.strip(), text.strip()
    if not title or text.startswith(title):
        return text
    if not text:
        return title
    return f"{title}\n{text}"


def analysis_text(title: str | None, text: str | None, max_chars: int = MAX_CHARS) -> str:
    """What the models read: normalized title and body (training uses the same function)."""
    return normalize(join_title(title or "", text or ""), max_chars)
