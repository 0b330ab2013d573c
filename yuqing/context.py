"""AppContext: settings plus the database and search index, opened on first use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cached_property

from store import Database, utcnow
from store.search import SearchIndex, open_index
from yuqing.settings import ConfigError, Settings, console_stamp, load_settings, reload_settings

log = logging.getLogger(__name__)


class AppContext:
    """``clock`` is the one source of "now" for jobs and commands (tests pass a fixed one)."""

    def __init__(self, home: str | None = None, settings: Settings | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self._home = home
        self._settings = settings
        self.clock = clock
        # the console's config files as last seen: a change (admin desk, another process)
        # makes fresh_settings() load again, so routing uses it without a restart
        self._stamp = console_stamp(settings.home) if settings else None

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def settings(self) -> Settings:
        loaded = self._settings or load_settings(self._home)
        if self._stamp is None:
            self._stamp = console_stamp(loaded.home)
        return loaded

    def fresh_settings(self) -> Settings:
        """The settings, loaded again if the console's files changed since (a cheap stat)."""
        current = self.settings
        stamp = console_stamp(current.home)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self.use_settings(reload_settings(current))
            except ConfigError as exc:  # a bad hand edit: keep running on the last good one
                log.error("控制台配置无法加载，沿用原配置：%s", exc)
        return self.settings

    def use_settings(self, settings: Settings) -> None:
        """Replace the settings (the admin desk just saved and validated an edit)."""
        self.__dict__["settings"] = settings
        self._stamp = console_stamp(settings.home)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def index(self) -> SearchIndex:
        from nlp.normalize import normalize

        # query terms are normalized as the indexed text was (繁→简, full-width, spaces)
        return open_index(self.settings.search_url, timezone=self.settings.app.timezone,
                          normalize=normalize)

    @cached_property
    def analysis(self):  # type: ignore[no-untyped-def]  # -> yuqing.analysis.AnalysisStep
        """The leader's analysis step (one per process: it holds the event index)."""
        from yuqing.analysis import AnalysisStep
        from yuqing.casework import case_router
        from yuqing.jobs import configure_workflow
        from yuqing.workers import DeferredRouter

        configure_workflow(self)
        # no fixed policy: each batch routes with the SLA of the settings in force; a worker
        # defers the routing until its analysis lock is released (yuqing/workers.py)
        return AnalysisStep(self, on_events=DeferredRouter(case_router(self)))

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        worker = self.__dict__.get("_worker")
        if worker is not None and worker.locks is not None:
            worker.locks.close()
        if "db" in self.__dict__:
            self.db.dispose()
