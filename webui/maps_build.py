"""Build the schematic street map (示意图) of the home district for the dashboard.

No official street (街道/乡镇) outlines ship with the console and none can be fetched offline,
so this draws Voronoi cells around approximate street-office locations and clips them to the
district outline shipped in ``static/vendor/nanjing-map.js``. Borders are therefore only
indicative. An installation replaces the result with official data by putting a GeoJSON
FeatureCollection at ``<instance>/map/<district code>.json`` (features carry ``properties.name``
and ``properties.code``); the console uses that file instead of the shipped one.

    python -m webui.maps_build [--config config/jurisdictions.yaml] [--out webui/static/maps]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.spatial import Voronoi

HERE = Path(__file__).resolve().parent
VENDOR_MAP = HERE / "static" / "vendor" / "nanjing-map.js"
DEFAULT_OUT = HERE / "static" / "maps"
DEFAULT_CONFIG = HERE.parent / "config" / "jurisdictions.yaml"
# Approximate locations (longitude, latitude) of the street offices of 江宁区, read off public
# maps by hand; good enough for a schematic, not for surveying.
SEATS: dict[str, tuple[float, float]] = {
    "320115001": (118.853, 31.953),  # 东山街道
    "320115004": (118.870, 31.735),  # 禄口街道
    "320115005": (118.960, 31.925),  # 淳化街道
    "320115006": (118.950, 32.035),  # 麒麟街道
    "320115007": (118.745, 31.715),  # 横溪街道
    "320115008": (118.640, 31.840),  # 江宁街道
    "320115009": (118.735, 31.885),  # 谷里街道
    "320115010": (119.060, 32.060),  # 汤山街道
    "320115011": (118.810, 31.880),  # 秣陵街道
    "320115012": (119.000, 31.820),  # 湖熟街道
}
NOTE = ("示意图：街道边界由各街道办事处的大致位置推算（Voronoi 划分并裁剪到区界），"
        "仅供示意，不代表官方行政区划界线；可用官方数据替换。")


def _decode_ring(encoded: str, offset: list[float], scale: float = 1024) -> list[list[float]]:
    """ECharts' compressed ring format: zigzag deltas from an offset, two chars a point."""
    x, y = offset
    ring = []
    for i in range(0, len(encoded), 2):
        dx, dy = ord(encoded[i]) - 64, ord(encoded[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append([x / scale, y / scale])
    return ring


def district_outline(code: str, vendor: Path = VENDOR_MAP) -> list[list[list[float]]]:
    """The outer rings of the district's polygons, decoded from the shipped ECharts map."""
    source = vendor.read_text(encoding="utf-8")
    start = re.search(r"registerMap\('[^']+',\s*", source)
    if start is None:
        raise ValueError(f"{vendor} 中没有 registerMap 数据")
    data, _ = json.JSONDecoder().raw_decode(source, start.end())
    feature = next((f for f in data["features"] if str(f.get("id")) == code), None)
    if feature is None:
        raise ValueError(f"{vendor} 中没有区划 {code}")
    geometry = feature["geometry"]
    polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                else geometry["coordinates"])
    offsets = ([geometry["encodeOffsets"]] if geometry["type"] == "Polygon"
               else geometry["encodeOffsets"])
    return [_decode_ring(rings[0], offs[0]) for rings, offs in zip(polygons, offsets, strict=True)]


def _area(ring: list[list[float]]) -> float:
    return 0.5 * sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True))


def _centroid(ring: list[list[float]]) -> list[float]:
    """Where the street's name is drawn: the centroid of its (largest) polygon."""
    a = _area(ring)
    pairs = list(zip(ring, ring[1:] + ring[:1], strict=True))
    cx = sum((p[0] + q[0]) * (p[0] * q[1] - q[0] * p[1]) for p, q in pairs) / (6 * a)
    cy = sum((p[1] + q[1]) * (p[0] * q[1] - q[0] * p[1]) for p, q in pairs) / (6 * a)
    return [round(cx, 4), round(cy, 4)]


def clip(subject: list[list[float]], convex: list[list[float]]) -> list[list[float]]:
    """Sutherland–Hodgman: a (possibly concave) ring clipped by a convex ring."""
    if _area(convex) < 0:
        convex = convex[::-1]
    out = subject
    for a, b in zip(convex, convex[1:] + convex[:1], strict=True):
        if not out:
            break

        def inside(p: list[float], a: list[float] = a, b: list[float] = b) -> bool:
            return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0

        def cross(p: list[float], q: list[float], a: list[float] = a, b: list[float] = b
                  ) -> list[float]:
            x1, y1, x2, y2 = *p, *q
            x3, y3, x4, y4 = *a, *b
            den = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
            t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / den
            return [x1 + t * (x2 - x1), y1 + t * (y2 - y1)]

        given, out = out, []
        for p, q in zip(given, given[1:] + given[:1], strict=True):
            if inside(q):
                if not inside(p):
                    out.append(cross(p, q))
                out.append(q)
            elif inside(p):
                out.append(cross(p, q))
    return out


def voronoi_cells(seats: dict[str, tuple[float, float]]) -> dict[str, list[list[float]]]:
    """Bounded Voronoi cells: far-away guard points close every real cell."""
    codes = list(seats)
    points = np.array([seats[c] for c in codes])
    cx, cy = points.mean(axis=0)
    far = 10.0
    guards = [(cx - far, cy - far), (cx + far, cy - far), (cx + far, cy + far),
              (cx - far, cy + far)]
    vor = Voronoi(np.vstack([points, guards]))
    cells = {}
    for i, code in enumerate(codes):
        region = vor.regions[vor.point_region[i]]
        assert region and -1 not in region, "guard points leave every real cell bounded"
        cells[code] = [list(map(float, vor.vertices[v])) for v in region]
    return cells


def build(config: Path = DEFAULT_CONFIG, vendor: Path = VENDOR_MAP) -> dict[str, Any]:
    home = yaml.safe_load(config.read_text(encoding="utf-8"))["home"]
    children = {c["code"]: c["name"] for c in home.get("children", [])}
    missing = sorted(set(children) - set(SEATS))
    if missing:
        raise ValueError(f"缺少街道位置：{', '.join(missing)}（请在 SEATS 中补充）")
    outline = district_outline(home["code"], vendor)
    features = []
    for code, cell in voronoi_cells({c: SEATS[c] for c in children}).items():
        parts = [clip(ring, cell) for ring in outline]
        parts = [[[round(x, 5), round(y, 5)] for x, y in p] for p in parts if len(p) >= 3]
        rings = [[p + p[:1]] for p in parts]  # GeoJSON rings repeat their first point
        geometry = ({"type": "Polygon", "coordinates": rings[0]} if len(rings) == 1
                    else {"type": "MultiPolygon", "coordinates": rings})
        features.append({"type": "Feature", "id": code,
                         "properties": {"name": children[code], "code": code,
                                        "cp": _centroid(max(parts, key=lambda p: abs(_area(p))))},
                         "geometry": geometry})
    return {"type": "FeatureCollection", "name": home["name"],
            "yuqing": {"code": home["code"], "level": "township", "schematic": True,
                       "note": NOTE},
            "features": features}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="生成本区街道示意图（GeoJSON）")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    data = build(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{data['yuqing']['code']}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                    encoding="utf-8")
    print(f"已生成 {path}（{len(data['features'])} 个街道，示意图）")


if __name__ == "__main__":
    main()
