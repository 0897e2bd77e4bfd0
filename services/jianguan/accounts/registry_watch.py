"""The provider registry as a running process sees it: re-read whenever its file changes, so a
provider added, a token rotated or a provider revoked (`jianguan providers …`) reaches the
gateway, the Kafka inbound validator, the rules' clock and the console within seconds, without a
restart.

The file is checked (one ``stat``) at most every ``interval_s``; a change of its modification
time, size or inode re-reads it. A file that cannot be read or is not a valid registry keeps the
last good registry in force, and says so (log and ``jianguan_registry_reload_failures_total``),
once per version of the file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from jianguan import metrics
from jianguan.accounts.registry import ProviderRegistry, RegistryError, load_registry

log = logging.getLogger(__name__)
Stamp = tuple[int, int, int] | None


class RegistrySource(Protocol):
    """Where a service reads the registry from: a fixed ``ProviderRegistry`` or a watcher."""

    def current(self) -> ProviderRegistry: ...


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class RegistryWatcher:
    """``current()`` is the registry in ``path`` as of at most ``interval_s`` ago. The first
    read must succeed (RegistryError otherwise): a service does not start on a broken registry.
    Safe to call from several threads."""

    def __init__(
        self,
        path: Path,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = path
        self._interval = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp = _stamp(path)
        self._registry = load_registry(path)
        self._checked = clock()
        self._failed: Stamp = None

    def current(self) -> ProviderRegistry:
        now = self._clock()
        if now - self._checked < self._interval:
            return self._registry
        with self._lock:
            if now - self._checked >= self._interval:
                self._checked = now
                self._reload_if_changed()
            return self._registry

    def _reload_if_changed(self) -> None:
        stamp = _stamp(self._path)
        if stamp == self._stamp:
            return
        try:
            registry = load_registry(self._path)
        except RegistryError as exc:
            if stamp != self._failed:  # once per version of the file
                self._failed = stamp
                metrics.REGISTRY_RELOAD_FAILURES.inc()
                log.error("provider registry %s not taken, the last good one stays: %s",
                          self._path, exc)  # fmt: skip
            return
        before = {p.id for p in self._registry.providers}
        after = {p.id for p in registry.providers}
        self._registry, self._stamp, self._failed = registry, stamp, None
        metrics.REGISTRY_RELOADS.inc()
        log.info("provider registry reloaded: %d provider(s), added %s, removed %s",
                 len(after), sorted(after - before) or "none",
                 sorted(before - after) or "none")  # fmt: skip
