"""The enqueue form: the fields of `mediaplane encore enqueue` (the rarer ones folded under "More options"),
checked field by field so each problem is told next to its field, with the values kept."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from starlette.datastructures import FormData, QueryParams

from mediaplane.kit.storage import Storage
from mediaplane.services.encore.locations import LocationError, area_key
from mediaplane.services.encore.schemas.job import EncoreJob

INPUT_TYPES = ("AudioVideo", "Video", "Audio")
PACKAGES = ("hls", "dash")
DEFAULT_PROFILE = "program"
# The form's field for each job field pydantic may complain about.
FIELD_OF = {
    "profile": "profile",
    "outputFolder": "output_folder",
    "baseName": "base_name",
    "priority": "priority",
    "externalId": "external_id",
    "progressCallbackUri": "callback",
    "profileParams": "params",
    "seekTo": "seek_to",
    "duration": "duration",
    "segmentLength": "segment_length",
}
# The "More options" fields: seconds, and whether 0 is allowed.
SECONDS = {"seek_to": True, "duration": True, "segment_length": False}


def input_stem(uri: str) -> str:
    """`https://x/a b.mp4` → `a_b`: the default base name and folder, as the CLI makes them."""
    path = urlsplit(uri).path if "://" in uri else uri
    stem = PurePosixPath(path).stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "job"


@dataclass
class EnqueueForm:
    input_uri: str = ""
    input_type: str = "AudioVideo"
    profile: str = DEFAULT_PROFILE
    output_folder: str = ""
    base_name: str = ""
    priority: str = "0"
    packages: list[str] = field(default_factory=list)
    external_id: str = ""
    callback: str = ""
    params: str = ""  # profileParams, a KEY=VALUE a line (the CLI's repeated --param)
    seek_to: str = ""
    duration: str = ""
    segment_length: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, form: FormData) -> EnqueueForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            input_uri=text("input_uri"),
            input_type=text("input_type") or "AudioVideo",
            profile=text("profile"),
            output_folder=text("output_folder"),
            base_name=text("base_name"),
            priority=text("priority") or "0",
            packages=[p for p in form.getlist("packages") if isinstance(p, str) and p in PACKAGES],
            external_id=text("external_id"),
            callback=text("callback"),
            params=text("params"),
            seek_to=text("seek_to"),
            duration=text("duration"),
            segment_length=text("segment_length"),
        )

    @classmethod
    def prefilled(cls, query: QueryParams) -> EnqueueForm:
        """A new form with the input or profile that a link chose (from the files or the profiles page)."""
        kind = query.get("input_type", "")
        return cls(
            input_uri=query.get("input_uri", "").strip(),
            input_type=kind if kind in INPUT_TYPES else "AudioVideo",
            profile=query.get("profile", "").strip() or DEFAULT_PROFILE,
        )

    @property
    def more(self) -> bool:
        """Whether "More options" starts open: one of them is set or refused."""
        names = ("external_id", "callback", "params", *SECONDS)
        return any(getattr(self, name) or name in self.errors for name in names)

    def profile_params(self) -> dict[str, str]:
        """`KEY=VALUE` lines as a dict; raises ValueError naming the first bad line."""
        params: dict[str, str] = {}
        for number, line in enumerate(self.params.splitlines(), 1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"Line {number} is not KEY=VALUE: {line.strip()!r}.")
            params[key.strip()] = value.strip()
        return params

    def body(self) -> dict[str, Any]:
        """The EncoreJob body, with the CLI's defaults for what was left empty."""
        stem = input_stem(self.input_uri)
        base = self.base_name or f"{stem}_"
        body: dict[str, Any] = {
            "profile": self.profile,
            "outputFolder": self.output_folder or f"/usercontent/{base.rstrip('_') or stem}",
            "baseName": base,
            "priority": int(self.priority) if self.priority.isdigit() else self.priority,
            "inputs": [{"uri": self.input_uri, "type": self.input_type}],
        }
        if self.packages:
            body["packageFormats"] = self.packages
        optional = {
            "externalId": self.external_id,
            "progressCallbackUri": self.callback,
            "profileParams": self.profile_params() if self.params else None,
            "seekTo": float(self.seek_to) if self.seek_to else None,
            "duration": float(self.duration) if self.duration else None,
            "segmentLength": float(self.segment_length) if self.segment_length else None,
        }
        body.update({key: value for key, value in optional.items() if value})
        return body

    async def check(self, area: Storage, profiles: list[str]) -> dict[str, Any] | None:
        """The job body when every field is good; otherwise None, with `errors` by field. `profiles`: the names
        in the instance's index (empty when it could not be read: any name is let through, as the API does)."""
        errors: dict[str, str] = {}
        if not self.input_uri:
            errors["input_uri"] = "Give the input: a URL, an s3:// URI or a /usercontent/ path."
        else:
            problem = await input_problem(self.input_uri, area)
            if problem:
                errors["input_uri"] = problem
        if self.input_type not in INPUT_TYPES:
            errors["input_type"] = f"Choose one of {', '.join(INPUT_TYPES)}."
        if not self.profile:
            errors["profile"] = "Give a profile name from the instance's profile index."
        elif profiles and self.profile not in profiles:
            errors["profile"] = f"The instance's profile index has no {self.profile!r}: one of {', '.join(profiles)}."
        if not self.priority.isdigit() or not 0 <= int(self.priority) <= 100:
            errors["priority"] = "A whole number from 0 to 100 (higher runs first)."
        if self.output_folder and not self.output_folder.startswith(("/usercontent/", "s3://")):
            errors["output_folder"] = "A folder under /usercontent/ (or an s3:// URI)."
        errors.update(self._more_problems())
        if errors:
            self.errors = errors
            return None
        body = self.body()
        try:
            EncoreJob.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors():
                name = FIELD_OF.get(str(error["loc"][0]) if error["loc"] else "", "input_uri")
                self.errors.setdefault(name, str(error["msg"]).removeprefix("Value error, ").capitalize() + ".")
            return None
        return body

    def _more_problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.callback and (
            urlsplit(self.callback).scheme not in ("http", "https") or not urlsplit(self.callback).netloc
        ):
            errors["callback"] = "An http:// or https:// URL that gets a POST with the job's progress."
        try:
            self.profile_params()
        except ValueError as exc:
            errors["params"] = str(exc)
        for name, zero in SECONDS.items():
            value = getattr(self, name)
            if value and not _seconds(value, zero):
                errors[name] = "A number of seconds, e.g. 10 or 2.5" + (" (0 or more)." if zero else " (more than 0).")
        return errors


def _seconds(text: str, zero: bool) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and (value >= 0 if zero else value > 0)


async def input_problem(uri: str, area: Storage) -> str | None:
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("http", "https", "s3"):
        return None if urlsplit(uri).netloc else "This URL has no host (or bucket)."
    if scheme not in ("", "file"):
        return "Use an http(s):// URL, an s3:// URI or a /usercontent/ path."
    try:
        key = area_key(uri)
    except LocationError:
        return "This path is not a file of the instance's storage."
    if not key.startswith("usercontent/") or not await area.exists(key):
        return f"There is no file {uri} in the instance's storage (upload it with `mediaplane encore enqueue`)."
    return None
