"""The console's Jinja2 environment: its own templates, and each dashboard's under `<serviceId>/`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mediaplane import __version__
from mediaplane.console.auth import SignedIn
from mediaplane.console.security import console_root, platform_root

TEMPLATES_DIR = Path(__file__).parent / "templates"


def when(value: datetime | None) -> str:
    if value is None:
        return "never"
    return value.strftime("%Y-%m-%d %H:%M UTC")


class Templates:
    def __init__(self) -> None:
        self._dashboards: dict[str, BaseLoader] = {}
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(TEMPLATES_DIR), PrefixLoader(self._dashboards)]),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = when

    def add_folder(self, prefix: str, folder: Path) -> None:
        """A dashboard's templates, named `<prefix>/<file>`; they may extend `base.html`."""
        self._dashboards[prefix] = FileSystemLoader(folder)

    def render(
        self,
        request: Request,
        template: str,
        /,
        *,
        signed: SignedIn | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        root = console_root(request)
        context: dict[str, Any] = {
            "title": "mediaplane",
            "root": root,
            "api_root": platform_root(request),
            "static": f"{root}/static",
            "signed": signed,
            "csrf_token": signed.csrf_token if signed else None,
            "nav": None,
            "notice": None,
            "version": __version__,
        }
        context.update(values)
        html = self.env.get_template(template).render(context)
        return HTMLResponse(html, status_code=status_code, headers=headers)
