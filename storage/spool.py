"""The inbound spool: where a resident's message waits when the database cannot take it.

Twilio does not retry a messaging webhook, so a message refused while PostgreSQL restarts is
lost for good. Like RapidPro's courier, the webhook keeps the signed, parsed message instead and
answers 200; a replayer hands the spooled messages to the service in arrival order once the
database is back. Redis holds them when it is up (every web process and worker sees them); a
local directory when Redis is down too (written to a temporary name, flushed to disk, then
renamed, so a crash never leaves half a message). An item leaves the spool only after the service
took it; taken twice (a crash in between, two replayers), the MessageSid dedupe runs it once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
REDIS_KEY = "hotline:spool"
BATCH = 200  # items replayed per round: a long outage drains over a few sweeps


class Spool:
    def __init__(self, directory: Path, redis: Any = None) -> None:
        self.directory = directory
        self.redis = redis
        self._replaying = threading.Lock()

    # -- keeping ---------------------------------------------------------------------------------

    def put(self, item: dict[str, Any]) -> str:
        """Keep one message; returns where ("redis" or "disk"). Raises only if both fail."""
        item = {**item, "spooled_at": time.time_ns()}
        if self.redis is not None:
            try:
                self.redis.rpush(REDIS_KEY, json.dumps(item, ensure_ascii=False))
                return "redis"
            except Exception as exc:  # Redis down too: the disk still works
                log.warning("spool to Redis failed (%s); spooling to disk", type(exc).__name__)
        self._write(item)
        return "disk"

    def _write(self, item: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{item['spooled_at']:020d}-{uuid.uuid4().hex}.json"
        tmp = self.directory / f".{name}.tmp"
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(item, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(self.directory / name)

    # -- reading ---------------------------------------------------------------------------------

    def _set_aside(self, item: dict[str, Any]) -> None:
        dead = self.directory / "dead"
        dead.mkdir(parents=True, exist_ok=True)
        (dead / f"{item['spooled_at']:020d}-{uuid.uuid4().hex}.json").write_text(json.dumps(item), "utf-8")

    def waiting_on_disk(self) -> bool:
        """Cheap: whether this instance's directory holds anything (checked after each message)."""
        if not self.directory.is_dir():
            return False
        with os.scandir(self.directory) as entries:
            return any(_spooled(e.name) for e in entries)

    def size(self) -> int:
        on_disk = len(self._files())
        if self.redis is None:
            return on_disk
        try:
            return on_disk + int(self.redis.llen(REDIS_KEY))
        except Exception:
            return on_disk

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if _spooled(p.name))

    def _items(self) -> Iterator[tuple[int, dict[str, Any], Callable[[], None]]]:
        """(arrival, item, remove) for a batch of the oldest items of both stores."""
        found: list[tuple[int, dict[str, Any], Callable[[], None]]] = []
        for path in self._files()[:BATCH]:
            try:
                item = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # another replayer took it meanwhile
            found.append((item["spooled_at"], item, lambda p=path: p.unlink(missing_ok=True)))
        if self.redis is not None:
            try:
                raw = self.redis.lrange(REDIS_KEY, 0, BATCH - 1)
            except Exception:
                raw = []
            for entry in raw:
                item = json.loads(entry)
                found.append((item["spooled_at"], item, lambda e=entry: self.redis.lrem(REDIS_KEY, 1, e)))
        yield from sorted(found, key=lambda f: f[0])

    def empty(self) -> bool:
        """Nothing waiting (checked before each message: while older ones wait, newer ones queue
        behind them, so one sender's messages run in the order they were sent)."""
        if self.waiting_on_disk():
            return False
        if self.redis is None:
            return True
        try:
            return not self.redis.llen(REDIS_KEY)
        except Exception:
            return True  # Redis down: what it holds is replayed once it is back

    def replay(
        self, handle: Callable[[dict[str, Any]], None], unavailable: tuple[type[BaseException], ...]
    ) -> int:
        """Hand the spooled messages to `handle` oldest first. The database still `unavailable`:
        stop and keep that message and those after it. Any other error is a bug in that message's
        handling: it is set aside (logged, kept in the dead-letter store) so it cannot block the
        rest for ever. Returns how many were handled."""
        if not self._replaying.acquire(blocking=False):
            return 0  # this process is replaying already
        done = 0
        try:
            for _, item, remove in self._items():
                fields = {k: v for k, v in item.items() if k != "spooled_at"}
                try:
                    handle(fields)
                except unavailable as exc:
                    log.warning("spool replay stopped: %s", type(exc).__name__)
                    break
                except Exception as exc:
                    log.error("spooled message %s set aside: %s", fields.get("sid"), type(exc).__name__)
                    self._set_aside(item)
                remove()
                done += 1
        finally:
            self._replaying.release()
        if done:
            log.info("replayed %d spooled messages", done)
        return done


def _spooled(name: str) -> bool:
    """A whole spooled message (a file still being written has a leading dot)."""
    return name.endswith(".json") and not name.startswith(".")
