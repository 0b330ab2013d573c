"""Report figures as pure functions over stored history, shared by pages, API, CLI and exports."""

from routing.reports.periods import (
    DEFAULT_PRESET,
    PRESETS,
    Period,
    PeriodError,
    median,
    parse_period,
    percentile,
    preset,
    rate,
)

__all__ = ["DEFAULT_PRESET", "PRESETS", "Period", "PeriodError", "median", "parse_period",
           "percentile", "preset", "rate"]
