"""The registry of services, filled from the `mediaplane.services` entry-point group (or by hand in tests)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from importlib.metadata import entry_points

from mediaplane.core.catalog.spec import ServiceSpec

ENTRY_POINT_GROUP = "mediaplane.services"
log = logging.getLogger(__name__)


class Registry:
    def __init__(self, services: list[ServiceSpec] | None = None) -> None:
        self._services: dict[str, ServiceSpec] = {}
        for spec in services or []:
            self.register(spec)

    def register(self, spec: ServiceSpec) -> None:
        if spec.id in self._services:
            raise ValueError(f"service {spec.id} is registered twice")
        self._services[spec.id] = spec
        for module in spec.job_modules:
            importlib.import_module(module)

    def get(self, service_id: str) -> ServiceSpec | None:
        return self._services.get(service_id)

    def __contains__(self, service_id: object) -> bool:
        return service_id in self._services

    def __iter__(self) -> Iterator[ServiceSpec]:
        return iter(sorted(self._services.values(), key=lambda s: s.id))

    def __len__(self) -> int:
        return len(self._services)


def discover_services() -> Registry:
    registry = Registry()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {ep.name} does not point to a ServiceSpec")
        registry.register(spec)
        log.debug("service %s registered from %s", spec.id, ep.value)
    return registry
