"""The "create instance" and "edit options" forms, generated from a service's instance options, and their
field-by-field checks.

The checks are the options' own (`InstanceOption.validate`), run one field at a time so each message can stand
next to its field; creating and editing still go through `instance_service.create` and `.update`, as the API does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from mediaplane.core.catalog import InstanceOption, ServiceSpec
from mediaplane.core.instance.service import instance_service
from mediaplane.kit.errors import BadRequest

MAX_VALUE = 4096
RESET_SUFFIX = ".reset"  # the form field of a secret's "replace it" box: `clientSecret.reset=on`


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
    reset: str = ""  # editing a secret: the label of its "replace it" box (a new value generated, or none)

    @property
    def id(self) -> str:
        return f"field-{self.name}"

    @property
    def reset_name(self) -> str:
        return f"{self.name}{RESET_SUFFIX}"


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


def _hint(option: InstanceOption, *, editing: bool) -> str:
    parts = []
    if option.type == "list":
        parts.append("Separate values with commas.")
    if option.regex_validator:
        parts.append(f"Must match {option.regex_validator}.")
    if editing and option.secret:
        parts.append("Leave empty to keep the current value, or tick the box below.")
    elif option.generate is not None:
        parts.append(
            "Leave empty to have a new one generated."
            if editing
            else "Leave empty to have one generated; it is shown once, after creation."
        )
    elif option.default is not None and option.type != "boolean":
        parts.append(f"Default: {option.default}.")
    return " ".join(parts)


def _shown(option: InstanceOption, value: Any) -> Any:
    """A value as its field shows it: a secret never goes back to the page."""
    if option.type == "boolean":
        return bool(value)
    if option.secret or value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _reset(option: InstanceOption) -> str:
    """Editing a secret: what its box does — a new value (generated, shown once) or none (if it may be empty)."""
    if option.generate is not None:
        return "Make a new one (shown once, after saving); the current one stops working"
    return "" if option.mandatory else "Remove it"


def _option_fields(spec: ServiceSpec, values: dict[str, Any], *, editing: bool) -> list[Field]:
    return [
        Field(
            option.name,
            option.label or option.name,
            _kind(option),
            required=option.mandatory,
            description=option.description,
            hint=_hint(option, editing=editing),
            choices=option.enums,
            value=_shown(option, values.get(option.name)),
            reset=_reset(option) if editing and option.secret else "",
        )
        for option in spec.options
    ]


def _defaults(spec: ServiceSpec) -> dict[str, Any]:
    return {option.name: bool(option.default) for option in spec.options if option.type == "boolean"}


def empty_form(spec: ServiceSpec) -> InstanceForm:
    name = Field(
        "name", "Name", "text", required=True, hint="Lowercase letters and digits; part of the instance's URL."
    )
    return InstanceForm([name, *_option_fields(spec, _defaults(spec), editing=False)])


def options_form(spec: ServiceSpec, current: dict[str, Any]) -> InstanceForm:
    """The "edit options" form, filled with the instance's current values (secrets left empty)."""
    return InstanceForm(_option_fields(spec, current, editing=True))


def _message(option: InstanceOption, exc: ValueError) -> str:
    if option.type == "enum":
        return f"Choose one of: {', '.join(option.enums)}."
    if option.regex_validator and "does not match" in str(exc):
        return f"Does not match {option.regex_validator}."
    if option.type == "list":
        return "Give a comma-separated list."
    return str(exc).replace(f"option {option.name} ", "").capitalize() + "."


def _read_options(spec: ServiceSpec, form: FormData, result: InstanceForm, body: dict[str, Any], editing: bool) -> None:
    """Each option's posted value into `body` (validated) or a message into `result.errors`; the fields keep what
    was posted, but secrets. Left empty, an option is left out when creating (its default or a generated value
    applies); when editing, a secret keeps its value and any other is cleared (None, as in a PATCH)."""
    by_name = {f.name: f for f in result.fields}
    for option in spec.options:
        current = by_name[option.name]
        raw = form.get(option.name)
        if option.type == "boolean":
            current.value = isinstance(raw, str) and raw.lower() in ("on", "true", "1", "yes")
            body[option.name] = current.value
            continue
        value = raw.strip() if isinstance(raw, str) else ""
        current.value = "" if option.secret else value[:MAX_VALUE]
        if current.reset and form.get(current.reset_name) == "on":
            if value:
                result.errors[option.name] = "Give a new value or tick the box, not both."
            else:
                body[option.name] = None  # as null in a PATCH: generated anew, or removed
            continue
        if not value:
            if editing and option.secret:
                continue
            if option.mandatory and option.default is None and option.generate is None:
                result.errors[option.name] = "Required."
            elif editing:
                body[option.name] = None
            continue
        if len(value) > MAX_VALUE:
            result.errors[option.name] = f"Use at most {MAX_VALUE} characters."
            continue
        try:
            body[option.name] = option.validate(value)
        except ValueError as exc:
            result.errors[option.name] = _message(option, exc)


def _mark_errors(result: InstanceForm) -> None:
    for f in result.fields:
        f.error = result.errors.get(f.name)


def parse_form(spec: ServiceSpec, form: FormData) -> tuple[InstanceForm, dict[str, Any]]:
    """The form as posted (values kept, except secrets) with a message by field, and the body to create."""
    result = empty_form(spec)
    body: dict[str, Any] = {}
    raw_name = form.get("name")
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    result.fields[0].value = name[:MAX_VALUE]
    try:
        body["name"] = instance_service.validate_name(name)
    except BadRequest:
        result.errors["name"] = "Use lowercase letters and digits only (at most 63)." if name else "Required."
    _read_options(spec, form, result, body, editing=False)
    _mark_errors(result)
    return result, body


def _same(option: InstanceOption, new: Any, old: Any) -> bool:
    """Whether a posted value is what the instance has (as the form showed it: a stored 2 is the posted "2")."""
    if option.secret:
        return bool(new == old)
    return bool(_shown(option, new) == _shown(option, old))


def parse_options_form(
    spec: ServiceSpec, form: FormData, current: dict[str, Any]
) -> tuple[InstanceForm, dict[str, Any]]:
    """The "edit options" form as posted, and the changes to apply (what `PATCH …instance/<name>` takes): only
    what differs from `current`, so the service hears of the options the user changed and no others."""
    result = options_form(spec, {})
    posted: dict[str, Any] = {}
    _read_options(spec, form, result, posted, editing=True)
    _mark_errors(result)
    options = {option.name: option for option in spec.options}
    changes = {k: v for k, v in posted.items() if not _same(options[k], v, current.get(k))}
    return result, changes


def field_error(form: InstanceForm, name: str, message: str) -> None:
    form.errors[name] = message
    for f in form.fields:
        if f.name == name:
            f.error = message
