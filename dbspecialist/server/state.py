"""Process-wide server state (shared by every session and transport)."""

from __future__ import annotations

from dataclasses import dataclass

from dbspecialist.adapters.registry import AdapterRegistry
from dbspecialist.config import ConnectionSet


@dataclass
class ServerState:
    connections: ConnectionSet
    registry: AdapterRegistry

    @classmethod
    def from_connections(cls, connections: ConnectionSet) -> ServerState:
        return cls(connections=connections, registry=AdapterRegistry(connections))

    @property
    def any_writable(self) -> bool:
        return any(not c.options.read_only for c in self.connections)
