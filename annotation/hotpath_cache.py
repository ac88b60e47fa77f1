"""What the labelling hot path reads on every request but rarely changes, cached: token → user, (project, user) →
access, project → active label values.

Invalidation is by version keys, not by deleting entries: an entry is stored with the versions it was read under
and is served only while they are still current. Two versions exist: the auth version (any user or token change)
and one per project (its settings, label set, guidelines, memberships and acknowledgements). They are bumped only
by ``project_changed`` and ``auth_changed``, which the services writing those rows call (``annotation.services.
projects``, the label-schema services, the admin; users and tokens, owned by Django's auth apps, through
``annotation.apps``); ``tests/annotation/test_hotpath_cache.py`` checks that every module writing those rows
bumps. A bump happens at once and again after commit, and each is needed (``_bump_now_and_on_commit``).

Only a cache every process shares is used (``LABELGATE_HOTPATH_CACHE``, see config/settings.py); without one
every read goes to the database. A value read inside a transaction is not stored (the transaction may roll back,
or its snapshot may predate a bump), and a cache that fails is logged and bypassed, never fatal: labelling keeps
working on the database when Redis is down.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import connection, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Entries also expire, so a bump lost to a cache outage cannot keep a stale entry beyond this.
ENTRY_SECONDS = 600
AUTH_VERSION = "hotpath:v:auth"


def project_version_key(project_id: int) -> str:
    return f"hotpath:v:project:{project_id}"


def _cache() -> BaseCache | None:
    alias = settings.LABELGATE_HOTPATH_CACHE
    return caches[alias] if alias else None


def cached(*, key: str, versions: tuple[str, ...], load: Callable[[], T], store_none: bool = True) -> T:
    """``load()``'s value, from the cache while the version keys it was stored under are unchanged."""
    cache = _cache()
    if cache is None:
        return load()
    try:
        found = cache.get_many([key, *versions])
        current = tuple(found.get(name) for name in versions)
        entry = found.get(key)
        if entry is not None and entry[0] == current and None not in current:
            return entry[1]
        if None in current:
            # A version key never set or lost (restart, eviction): start it at the clock, so it cannot come
            # back to a value an old entry was stored under. Set before loading, so a bump during the load wins.
            for name, value in zip(versions, current, strict=True):
                if value is None:
                    cache.add(name, time.time_ns(), None)
            found = cache.get_many(list(versions))
            current = tuple(found.get(name) for name in versions)
    except Exception:  # noqa: BLE001 - a cache outage must not stop labelling
        logger.warning("hot-path cache unavailable; reading %s from the database", key, exc_info=True)
        return load()
    value = load()
    if (value is not None or store_none) and None not in current and not connection.in_atomic_block:
        try:
            cache.set(key, (current, value), ENTRY_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("hot-path cache unavailable; %s not stored", key, exc_info=True)
    return value


def _bump(name: str) -> None:
    cache = _cache()
    if cache is None:
        return
    try:
        try:
            cache.incr(name)
        except ValueError:  # missing: any new value outdates the entries stored under the lost one
            cache.set(name, time.time_ns(), None)
    except Exception:  # noqa: BLE001 - entries still expire after ENTRY_SECONDS
        logger.warning("hot-path cache unavailable; version %s not bumped", name, exc_info=True)


def _bump_now_and_on_commit(name: str) -> None:
    # At once: a read later in the writer's own transaction would otherwise be served the entry stored before the
    # write (entries are checked, not stored, inside a transaction). After commit: another process may read the
    # still-committed old rows between the first bump and the commit and store them under the new version.
    _bump(name)
    transaction.on_commit(lambda: _bump(name))


def project_changed(*, project_id: int) -> None:
    """A project's settings, label set, guidelines or memberships changed: its cached access and labels go."""
    _bump_now_and_on_commit(project_version_key(project_id))


def auth_changed() -> None:
    """A user or a token changed: every cached token → user entry goes."""
    _bump_now_and_on_commit(AUTH_VERSION)
