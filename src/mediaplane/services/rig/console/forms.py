"""rig's validation errors as a form shows them: next to the field they name, in rig's own words."""

from __future__ import annotations

from dataclasses import dataclass, field

from mediaplane.services.rig.errors import RigError

# rig's validator tags, said plainly; the tag itself stays in the message.
PLAIN = {
    "zero value": "Required",
    "less than min": "Too short",
    "greater than max": "Too long",
    "not a string": "Not text",
    "invalid character": "Has a character that is not allowed",
}


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None  # about the form as a whole


def refused(error: RigError, values: dict[str, str], fields: tuple[str, ...], fallback: str) -> FormState:
    """The form again, with each of rig's per-field details beside its field; the rest above the form."""
    state = FormState(values=values)
    details = error.details if isinstance(error.details, dict) else {}
    for name, problems in details.items():
        text = "; ".join(f"{PLAIN[p]} ({p})" if p in PLAIN else str(p) for p in problems)
        if name in fields:
            state.errors[name] = text
        else:
            state.message = f"{name}: {text}"
    if not state.errors and state.message is None:
        if fallback in fields:
            state.errors[fallback] = error.message
        else:
            state.message = error.message
    return state
