"""Which local addresses ICE offers as host candidates.

aioice gathers a host candidate on every interface address (and skips 127.0.0.1). It reads them from one
module-level function, ``aioice.ice.get_host_addresses(use_ipv4, use_ipv6)``, which ``Connection.gather_candidates``
calls by name, so replacing that function is the one hook that needs no aiortc or aioice subclass. The setting is
process-wide, as that function is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import aioice.ice

__all__ = ["restrict_ice_hosts"]

_ORIGINAL = aioice.ice.get_host_addresses
_hosts: tuple[str, ...] | None = None


def restrict_ice_hosts(hosts: Iterable[str] | None) -> tuple[str, ...] | None:
    """Gather host candidates on `hosts` only (IP literals; 127.0.0.1 allowed); None restores all interfaces.

    Returns the previous setting, so a caller can put it back."""
    global _hosts
    previous = _hosts
    if hosts is None:
        aioice.ice.get_host_addresses = _ORIGINAL
        _hosts = None
        return previous
    try:
        chosen = tuple(ipaddress.ip_address(host) for host in hosts)
    except ValueError as exc:
        raise ValueError(f"ICE hosts must be IP addresses: {exc}") from None

    def restricted(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [str(ip) for ip in chosen if (ip.version == 4 and use_ipv4) or (ip.version == 6 and use_ipv6)]

    aioice.ice.get_host_addresses = restricted
    _hosts = tuple(str(ip) for ip in chosen)
    return previous
