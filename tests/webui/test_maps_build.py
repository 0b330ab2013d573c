"""The schematic street map: rebuilt from the shipped outline, it matches the committed file."""

from __future__ import annotations

import json

from webui.maps_build import DEFAULT_OUT, build, clip, district_outline


def test_the_committed_schematic_is_what_the_build_script_makes() -> None:
    built = build()
    shipped = json.loads((DEFAULT_OUT / "320115.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(built)) == shipped
    assert built["yuqing"]["schematic"] is True


def test_street_cells_stay_inside_the_district_box_and_cover_its_area() -> None:
    outline = district_outline("320115")
    xs = [x for ring in outline for x, _ in ring]
    ys = [y for ring in outline for _, y in ring]
    built = build()
    for f in built["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for ring in (p[0] for p in polys):
            assert all(min(xs) - 1e-4 <= x <= max(xs) + 1e-4 for x, _ in ring)
            assert all(min(ys) - 1e-4 <= y <= max(ys) + 1e-4 for _, y in ring)

    def area(ring: list[list[float]]) -> float:
        return abs(sum(a[0] * b[1] - b[0] * a[1]
                       for a, b in zip(ring, ring[1:] + ring[:1], strict=True))) / 2

    whole = sum(area(r) for r in outline)
    parts = sum(area(p[0][:-1]) for f in built["features"]
                for p in ([f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon"
                          else f["geometry"]["coordinates"]))
    assert abs(parts - whole) / whole < 0.01  # the cells tile the district


def test_clipping_a_square_by_a_half_plane_triangle() -> None:
    square = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]
    got = clip(square, [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    assert sorted(map(tuple, got)) == sorted([(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)])
    assert clip(square, [[5.0, 5.0], [6.0, 5.0], [5.0, 6.0]]) == []
