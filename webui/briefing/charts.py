"""Charts of the briefings as PNG images, drawn on the server (matplotlib, Agg backend).

The same PNG goes into the HTML page (a data: URI), the DOCX and the PDF, so every format
shows the same picture. Chinese labels use the Noto Sans SC TTF shipped in
``webui/static/fonts/noto-sans-sc-ttf`` (no system font, no network).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

# Figure + FigureCanvasAgg directly, never pyplot: no global backend, no display needed.
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

FONT_PATH = (Path(__file__).resolve().parent.parent / "static" / "fonts" / "noto-sans-sc-ttf"
             / "NotoSansSC-Regular.ttf")
COLORS = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037",
          "#455a64"]
WIDTH_IN, HEIGHT_IN, DPI = 6.4, 2.6, 150
_lock = threading.Lock()  # rc_context changes global state: one chart at a time


@cache
def font_family() -> str:
    font_manager.fontManager.addfont(str(FONT_PATH))
    return font_manager.FontProperties(fname=str(FONT_PATH)).get_name()


def _render(draw: Any) -> bytes:
    with _lock, rc_context({"font.family": font_family(), "font.size": 9,
                            "axes.spines.top": False, "axes.spines.right": False,
                            "axes.unicode_minus": False}):
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw(ax)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
        return out.getvalue()


def line_chart(points: Sequence[Sequence[Any]], ylabel: str = "信息量（条）") -> bytes:
    labels = [str(p[0]) for p in points]
    values = [int(p[1]) for p in points]

    def draw(ax: Any) -> None:
        xs = range(len(values))
        ax.plot(xs, values, color=COLORS[0], marker="o", markersize=3, linewidth=1.6)
        ax.fill_between(xs, values, color=COLORS[0], alpha=0.08)
        step = max(1, len(labels) // 12)  # at most about twelve tick labels
        ax.set_xticks(list(xs)[::step], labels[::step], rotation=0)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0, top=max(values or [0]) * 1.15 + 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # posts come whole
        ax.grid(axis="y", alpha=0.3)
        if values:
            peak = max(range(len(values)), key=values.__getitem__)
            ax.annotate(str(values[peak]), (peak, values[peak]), textcoords="offset points",
                        xytext=(0, 5), ha="center", color=COLORS[0])

    return _render(draw)


def bar_chart(rows: Sequence[tuple[str, int]], xlabel: str = "信息量（条）") -> bytes:
    """Horizontal bars, largest on top."""
    names = [r[0] for r in rows][::-1]
    values = [int(r[1]) for r in rows][::-1]

    def draw(ax: Any) -> None:
        bars = ax.barh(range(len(values)), values, color=COLORS[1], height=0.6)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel(xlabel)
        ax.bar_label(bars, padding=3)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(0, max(values or [1]) * 1.15 + 1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    return _render(draw)
