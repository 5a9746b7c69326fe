from mediaplane.core.catalog.registry import Registry, discover_services
from mediaplane.core.catalog.spec import InstanceContext, InstanceOption, ServiceHooks, ServiceSpec

__all__ = ["InstanceContext", "InstanceOption", "Registry", "ServiceHooks", "ServiceSpec", "discover_services"]
