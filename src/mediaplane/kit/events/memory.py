"""The in-process bus for the embedded (single-process) setup."""

from __future__ import annotations

from mediaplane.kit.events.base import EventBus, Message, check_channel, encode

__all__ = ["InMemoryEventBus"]


class InMemoryEventBus(EventBus):
    """Fan-out inside one event loop. Messages go through JSON like on Redis, so each subscriber
    gets its own copy and a message that Redis would refuse is refused here too."""

    async def publish(self, channel: str, message: Message) -> None:
        self._check_open()
        self._fan_out(check_channel(channel), encode(message))
