"""Wiring: the routing package's configuration built from validated settings.

``routing`` never imports ``yuqing``; it receives plain data. These two functions are the only
bridge, used by the CLI, the ingest flow, the workflow and the web console alike.
"""

from __future__ import annotations

from routing.rules import RoutingConfig
from routing.sla import SlaConfig
from yuqing.settings import Settings


def sla_config_from_settings(settings: Settings) -> SlaConfig:
    return SlaConfig.from_mapping(settings.sla.model_dump(), tz=settings.app.timezone)


def routing_config_from_settings(settings: Settings) -> RoutingConfig:
    return RoutingConfig.from_mapping(
        jurisdictions=settings.jurisdictions.model_dump(),
        units=settings.units.model_dump()["units"],
        taxonomy=settings.taxonomy.model_dump(),
        routing=settings.routing.model_dump(),
        sla=sla_config_from_settings(settings),
        source_places={s.key: s.default_place for s in settings.sources.sources},
    )
