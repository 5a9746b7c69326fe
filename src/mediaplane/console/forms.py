"""The "create instance" form, generated from a service's instance options, and its field-by-field checks.

The checks are the options' own (`InstanceOption.validate`), run one field at a time so each message can stand
next to its field; creating still goes through `instance_service.create`, as the API does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from mediaplane.core.catalog import InstanceOption, ServiceSpec
from mediaplane.core.instance.service import instance_service
from mediaplane.kit.errors import BadRequest

MAX_VALUE = 4096


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text | password | select | checkbox | list
    required: bool = False
    description: str = ""
    hint: str = ""
    choices: tuple[str, ...] = ()
    value: Any = ""
    error: str | None = None

    @property
    def id(self) -> str:
        return f"field-{self.name}"


@dataclass
class InstanceForm:
    fields: list[Field]
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None  # what went wrong that belongs to no one field

    @property
    def valid(self) -> bool:
        return not self.errors and self.message is None


def _kind(option: InstanceOption) -> str:
    if option.secret:
        return "password"
    return {"enum": "select", "boolean": "checkbox", "list": "list"}.get(option.type, "text")


def _hint(option: InstanceOption) -> str:
    parts = []
    if option.type == "list":
        parts.append("Separate values with commas.")
    if option.regex_validator:
        parts.append(f"Must match {option.regex_validator}.")
    if option.generate is not None:
        parts.append("Leave empty to have one generated; it is shown once, after creation.")
    elif option.default is not None and option.type != "boolean":
        parts.append(f"Default: {option.default}.")
    return " ".join(parts)


def _initial(option: InstanceOption) -> Any:
    if option.type == "boolean":
        return bool(option.default)
    return ""


def empty_form(spec: ServiceSpec) -> InstanceForm:
    fields = [
        Field(
            "name",
            "Name",
            "text",
            required=True,
            hint="Lowercase letters and digits; part of the instance's URL.",
        )
    ]
    for option in spec.options:
        fields.append(
            Field(
                option.name,
                option.label or option.name,
                _kind(option),
                required=option.mandatory,
                description=option.description,
                hint=_hint(option),
                choices=option.enums,
                value=_initial(option),
            )
        )
    return InstanceForm(fields)


def _message(option: InstanceOption, exc: ValueError) -> str:
    if option.type == "enum":
        return f"Choose one of: {', '.join(option.enums)}."
    if option.regex_validator and "does not match" in str(exc):
        return f"Does not match {option.regex_validator}."
    if option.type == "list":
        return "Give a comma-separated list."
    return str(exc).replace(f"option {option.name} ", "").capitalize() + "."


def parse_form(spec: ServiceSpec, form: FormData) -> tuple[InstanceForm, dict[str, Any]]:
    """The form as posted (values kept, except secrets) with a message by field, and the body to create."""
    result = empty_form(spec)
    by_name = {f.name: f for f in result.fields}
    body: dict[str, Any] = {}

    raw_name = form.get("name")
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    by_name["name"].value = name[:MAX_VALUE]
    try:
        body["name"] = instance_service.validate_name(name)
    except BadRequest:
        result.errors["name"] = "Use lowercase letters and digits only (at most 63)." if name else "Required."

    for option in spec.options:
        current = by_name[option.name]
        raw = form.get(option.name)
        if option.type == "boolean":
            current.value = isinstance(raw, str) and raw.lower() in ("on", "true", "1", "yes")
            body[option.name] = current.value
            continue
        value = raw.strip() if isinstance(raw, str) else ""
        current.value = "" if option.secret else value[:MAX_VALUE]
        if not value:
            if option.mandatory and option.default is None and option.generate is None:
                result.errors[option.name] = "Required."
            continue
        if len(value) > MAX_VALUE:
            result.errors[option.name] = f"Use at most {MAX_VALUE} characters."
            continue
        try:
            body[option.name] = option.validate(value)
        except ValueError as exc:
            result.errors[option.name] = _message(option, exc)

    for name_, message in result.errors.items():
        by_name[name_].error = message
    return result, body


def field_error(form: InstanceForm, name: str, message: str) -> None:
    form.errors[name] = message
    for f in form.fields:
        if f.name == name:
            f.error = message
