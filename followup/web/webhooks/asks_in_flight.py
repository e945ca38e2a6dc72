"""At most a few activity asks of one user at the same time, per web process.

Each ask of the activity list answers at once, so a browser never has more than one in flight;
more than ``ASKS_PER_USER`` at once is a script, or a database so slow that asks pile up: the
extra ones get 429 at once rather than taking threads the Twilio webhooks need.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: activity asks of one user that one web process serves at the same time
ASKS_PER_USER = 3


class TooManyAsks(Exception):
    """The user already has ``ASKS_PER_USER`` activity asks in flight in this process."""


class AsksInFlight:
    """Counts each user's asks in flight (one web process; its threads share it)."""

    def __init__(self, limit: int = ASKS_PER_USER) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}

    @contextmanager
    def ask(self, user_id: int) -> Iterator[None]:
        """Hold one of the user's slots while the ask is answered; :class:`TooManyAsks` when none is free."""
        with self._lock:
            if self._counts.get(user_id, 0) >= self.limit:
                raise TooManyAsks
            self._counts[user_id] = self._counts.get(user_id, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._counts[user_id] - 1
                if left:
                    self._counts[user_id] = left
                else:
                    del self._counts[user_id]


#: the process's counter, shared by every app in it
ASKS = AsksInFlight()
