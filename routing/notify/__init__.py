"""Notifier channels behind one small interface, and the outbox that delivers through them."""

from routing.notify.base import (
    REGISTRY,
    Channel,
    Notice,
    TransportError,
    build_channel,
    build_channels,
)
from routing.notify.console import notices_after
from routing.notify.outbox import deliver_due, disabled_channels, enable_channel, enqueue

__all__ = [
    "REGISTRY", "Channel", "Notice", "TransportError", "build_channel", "build_channels",
    "deliver_due", "disabled_channels", "enable_channel", "enqueue", "notices_after",
]
