"""Fixtures for nlp tests: the shipped taxonomy and severity config as plain data, and one
Analyzer per session whose default models are built once into a session cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlp.analyzer import Analyzer

ROOT = Path(__file__).resolve().parents[2]
HOME_WORDS = ["江宁区", "南京市", "东山街道", "秣陵街道", "汤山街道", "禄口街道", "百家湖",
              "九龙湖", "麒麟街道"]


def _yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def taxonomy() -> dict:
    return _yaml("taxonomy.yaml")


@pytest.fixture(scope="session")
def severity_config() -> dict:
    return _yaml("severity.yaml")["severity"]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def analyzer(taxonomy: dict, severity_config: dict, model_cache: Path) -> Analyzer:
    return Analyzer(taxonomy["topics"], severity_config, home_places=HOME_WORDS,
                    cache_dir=model_cache, urgent_categories=taxonomy["urgent_categories"])
