"""Connection name → adapter, created lazily; engine modules (and drivers) imported on first use."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterable

from dbspecialist.adapters.base import DatabaseAdapter, NotSupportedError
from dbspecialist.config import ConnectionConfig
from dbspecialist.errors import UnknownConnectionError

# engine → "module:Class"; modules are imported only when a connection of that engine is used.
ADAPTERS: dict[str, str] = {
    "sqlite": "dbspecialist.adapters.sqlite:SQLiteAdapter",
    "postgresql": "dbspecialist.adapters.postgres:PostgresAdapter",
    "mysql": "dbspecialist.adapters.mysql:MySQLAdapter",
    "mongodb": "dbspecialist.adapters.mongodb:MongoAdapter",
    "redis": "dbspecialist.adapters.redis:RedisAdapter",
}


class AdapterRegistry:
    """Holds one adapter per configured connection for the life of the process."""

    def __init__(self, connections: Iterable[ConnectionConfig]) -> None:
        self.configs: dict[str, ConnectionConfig] = {c.name: c for c in connections}
        self._adapters: dict[str, DatabaseAdapter] = {}
        self._lock = asyncio.Lock()

    def config(self, name: str) -> ConnectionConfig:
        key = name.strip().lower()
        if key not in self.configs:
            known = ", ".join(sorted(self.configs)) or "(none)"
            raise UnknownConnectionError(
                f"unknown connection {name!r}. Configured connections: {known}. "
                "Call list_connections to see them, or add one with --db NAME=URL."
            )
        return self.configs[key]

    async def get(self, name: str) -> DatabaseAdapter:
        config = self.config(name)
        adapter = self._adapters.get(config.name)
        if adapter is not None:
            return adapter
        async with self._lock:
            adapter = self._adapters.get(config.name)
            if adapter is None:
                target = ADAPTERS.get(config.engine)
                if target is None:
                    raise NotSupportedError(
                        f"connection {config.name!r} is a {config.engine} database; live {config.engine} "
                        "support is not available in this version yet (SQLite is)."
                    )
                module_name, _, class_name = target.partition(":")
                try:
                    cls = getattr(importlib.import_module(module_name), class_name)
                except ImportError as exc:
                    raise NotSupportedError(
                        f"connection {config.name!r} is a {config.engine} database, but its adapter could not "
                        f"be loaded ({exc}); live {config.engine} support is not available in this version yet."
                    ) from None
                adapter = cls(config)
                self._adapters[config.name] = adapter
        return adapter

    async def close(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            await adapter.close()
