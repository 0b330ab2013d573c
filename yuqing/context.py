"""AppContext: settings plus the database and search index, opened on first use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property

from store import Database, utcnow
from store.search import SearchIndex, open_index
from yuqing.settings import Settings, load_settings


class AppContext:
    """``clock`` is the one source of "now" for jobs and commands (tests pass a fixed one)."""

    def __init__(self, home: str | None = None, settings: Settings | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self._home = home
        self._settings = settings
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def settings(self) -> Settings:
        return self._settings or load_settings(self._home)

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

        return AnalysisStep(self, on_events=case_router(self, configure_workflow(self)))

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        if "db" in self.__dict__:
            self.db.dispose()
