"""Write a briefing ``Document`` as DOCX (python-docx) or PDF (fpdf2).

PDF writer: fpdf2. It is pure Python (no Pango/Cairo system libraries, unlike WeasyPrint),
maintained, embeds a TrueType font as a subset with a ToUnicode map (the text stays
extractable and searchable), and lays out tables with wrapped CJK text. ReportLab would also
embed the TTF but its tables need more code for the same result; WeasyPrint renders HTML but
needs Pango from the system and is far slower. The shipped Noto Sans SC is a TrueType (glyf)
font, which every one of them reads; CFF-flavoured OTF (Source Han Sans) would not suit
ReportLab. fpdf2 has no bold of this font, so headings are drawn as fill+stroke text.
"""

from __future__ import annotations

import io
import re
from typing import Any

from docx import Document as Docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from fpdf import FPDF
from fpdf.enums import TextMode, XPos, YPos
from fpdf.fonts import FontFace

from webui.briefing.charts import FONT_PATH
from webui.briefing.document import Bullets, Chart, Document, Heading, Paragraph, Table

# Crawled text may hold control characters: XML (DOCX) refuses them, a PDF shows boxes.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
FONT_NAME = "Noto Sans SC"  # Word falls back to its own CJK font where this one is missing
RED = (183, 28, 28)
GREY = (102, 102, 119)


# ---- DOCX ------------------------------------------------------------------------------------

def clean(text: str) -> str:
    return CONTROL.sub("", str(text))


def _font(run: Any, size: float | None = None, bold: bool = False,
          color: tuple[int, int, int] | None = None) -> None:
    run.font.name = FONT_NAME
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT_NAME)
    if size:
        run.font.size = Pt(size)
    run.font.bold = bold or None
    if color:
        run.font.color.rgb = RGBColor(*color)


def to_docx(doc: Document) -> bytes:
    out = Docx()
    section = out.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    for style in ("Normal", "Title", "Heading 1", "Heading 2"):
        st = out.styles[style]
        st.font.name = FONT_NAME
        st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT_NAME)
    title = out.add_heading(level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(clean(doc.title)), 20, True, RED)
    sub = out.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(sub.add_run(clean(doc.subtitle)), 12)
    meta = out.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(meta.add_run(clean("　".join(doc.meta))), 9, color=GREY)
    for block in doc.blocks:
        if isinstance(block, Heading):
            h = out.add_heading(level=1 if block.level <= 2 else 2)
            _font(h.add_run(clean(block.text)), 14, True, (31, 45, 61))
        elif isinstance(block, Paragraph):
            p = out.add_paragraph()
            color = RED if block.style == "risk" else GREY if block.style == "muted" else None
            _font(p.add_run(clean(block.text)), 11, block.style in ("summary", "risk"), color)
        elif isinstance(block, Bullets):
            for item in block.items:
                _font(out.add_paragraph(style="List Bullet").add_run(clean(item)), 11)
        elif isinstance(block, Table):
            table = out.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.headers, strict=True):
                _font(cell.paragraphs[0].add_run(clean(text)), 10, True)
            for row in block.rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    _font(cell.paragraphs[0].add_run(clean(text)), 10)
            out.add_paragraph()
        elif isinstance(block, Chart):
            out.add_picture(io.BytesIO(block.png), width=Cm(16))
            cap = out.add_paragraph()
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(cap.add_run(clean(block.caption)), 9, color=GREY)
    core = out.core_properties
    core.title, core.subject = clean(doc.title), clean(doc.subtitle)[:200]
    core.author = "舆情监测与回应协同平台"
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


# ---- PDF -------------------------------------------------------------------------------------

class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("noto", size=8)
        self.set_text_color(*GREY)
        self.cell(0, 6, f"{self.footer_text}　第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")


def _bold(pdf: FPDF, text: str, size: float, color: tuple[int, int, int], align: str = "L",
          height: float = 9) -> None:
    pdf.set_font("noto", size=size)
    # the shipped font has one weight: stroke the glyphs to draw them bolder; the local
    # context restores the text mode and colours afterwards
    with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.22,
                           text_color=color, draw_color=color):
        pdf.multi_cell(0, height, clean(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def to_pdf(doc: Document) -> bytes:
    pdf = _Pdf(format="A4")
    pdf.footer_text = clean(doc.title)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("noto", fname=str(FONT_PATH))
    pdf.set_title(clean(doc.title))
    pdf.set_subject(clean(doc.subtitle))
    pdf.set_creator("舆情监测与回应协同平台")
    pdf.set_lang("zh-CN")
    pdf.add_page()
    _bold(pdf, doc.title, 20, RED, "C", 12)
    pdf.set_font("noto", size=12)
    pdf.multi_cell(0, 8, clean(doc.subtitle), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("noto", size=9)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 6, "　".join(doc.meta), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(5)
    for block in doc.blocks:
        if isinstance(block, Heading):
            pdf.ln(2)
            _bold(pdf, block.text, 13, (31, 45, 61))
        elif isinstance(block, Paragraph):
            color = RED if block.style == "risk" else GREY if block.style == "muted" else (0, 0, 0)
            if block.style in ("summary", "risk"):
                _bold(pdf, block.text, 11, color, height=7)
            else:
                pdf.set_font("noto", size=10.5)
                pdf.set_text_color(*color)
                pdf.multi_cell(0, 6.5, clean(block.text), align="L", new_x=XPos.LMARGIN,
                               new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1)
        elif isinstance(block, Bullets):
            pdf.set_font("noto", size=10.5)
            for item in block.items:  # hanging indent: wrapped lines start under the text
                pdf.cell(5, 6.5, "•")
                pdf.multi_cell(0, 6.5, clean(item), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif isinstance(block, Table):
            pdf.set_font("noto", size=9)
            pdf.set_draw_color(190, 196, 206)
            pdf.set_line_width(0.2)
            with pdf.table(col_widths=tuple(block.widths or [1] * len(block.headers)),
                           headings_style=FontFace(emphasis="", fill_color=(232, 236, 243)),
                           line_height=5.5, padding=1.2, text_align="LEFT") as table:
                for row in [block.headers, *block.rows]:
                    cells = table.row()
                    for text in row:
                        cells.cell(clean(text))
            pdf.ln(3)
        elif isinstance(block, Chart):
            width = pdf.w - pdf.l_margin - pdf.r_margin
            pdf.image(io.BytesIO(block.png), w=width)
            pdf.set_font("noto", size=8.5)
            pdf.set_text_color(*GREY)
            pdf.cell(0, 5, block.caption, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
            pdf.ln(2)
    return bytes(pdf.output())


def render(doc: Document, fmt: str) -> bytes:
    if fmt == "docx":
        return to_docx(doc)
    if fmt == "pdf":
        return to_pdf(doc)
    raise ValueError(f"unknown format {fmt!r}")
