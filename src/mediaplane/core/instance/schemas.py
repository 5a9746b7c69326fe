"""The instance object as OSC clients read it: options at the top level, resources and _links."""

from __future__ import annotations

from typing import Any

from mediaplane.config import Settings
from mediaplane.core.catalog import ServiceSpec
from mediaplane.core.instance.models import Instance
from mediaplane.core.urls import instance_url


def instance_links(service_id: str, name: str) -> dict[str, dict[str, str]]:
    # Origin-relative, as OSC's SDK expects (it re-hosts them onto the apiUrl's host).
    self_href = f"/{service_id}instance/{name}"
    return {
        "self": {"href": self_href},
        "update": {"href": self_href},
        "health": {"href": f"{self_href}/health"},
        "logs": {"href": f"{self_href}/logs"},
        "ports": {"href": f"{self_href}/ports"},
        "restart": {"href": f"{self_href}/restart"},
    }


SECRET_MASK = "********"


def instance_object(
    settings: Settings, base: str, spec: ServiceSpec, instance: Instance, *, reveal_secrets: bool = False
) -> dict[str, Any]:
    """The instance as OSC shows it; secret options are masked except in the answer to the create call."""
    url = instance_url(settings, base, spec.id, instance.tenant_id, instance.name)
    resources: dict[str, Any] = {
        "license": {"url": f"{base}/licenses/{spec.id}"},
        "apiDocs": {"url": f"{url}docs"},
        "openApi": {"url": f"{url}v3/api-docs"},
    }
    resources.update(spec.hooks.resources(instance, url))
    data: dict[str, Any] = {"name": instance.name, "url": url}
    for key, value in instance.options.items():
        option = spec.option(key)
        hidden = option is not None and option.secret and value not in (None, "") and not reveal_secrets
        data[key] = SECRET_MASK if hidden else value
    data.update(
        {
            "status": instance.status,
            "created": instance.created_at.isoformat(),
            "resources": resources,
            "_links": instance_links(spec.id, instance.name),
        }
    )
    return data
