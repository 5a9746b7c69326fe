"""`mediaplane catalog`."""

from __future__ import annotations

from mediaplane.cli.catalog import describe_option
from tests.cli.conftest import Platform


def test_json_lists_the_services(platform: Platform) -> None:
    services = {s["serviceId"]: s for s in platform.anonymous.ok("catalog", "--json").json()}
    notes = services["notes"]
    assert notes["apiUrl"] == f"{platform.url}/notesinstance"
    assert [o["name"] for o in notes["serviceInstanceOptions"]] == ["color", "motto", "loud"]


def test_table(platform: Platform) -> None:
    table = platform.anonymous.ok("catalog").stdout
    assert "notes" in table and f"{platform.url}/notesinstance" in table
    assert "color:enum(red|blue)" in table


def test_describe_option() -> None:
    assert describe_option({"name": "url", "type": "string", "mandatory": True}) == "url*:string"
