"""Profile index and profile files, read fresh on every call (live profile updates), as Encore does.

A location (`profilesUrl` of an instance) is an `http(s)://` URL, a `file:` URL or absolute path on the server, or
`classpath:` (the profiles shipped with mediaplane, also used when no location is set). The index maps profile names
to files relative to it; a profile file is a SpEL template (see `template`) rendered with the job, then YAML or JSON.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import yaml
from pydantic import BaseModel, ValidationError

from mediaplane.services.encore.profiles.model import Profile
from mediaplane.services.encore.profiles.template import TemplateError, render_template
from mediaplane.services.encore.schemas.job import EncoreJob

SHIPPED = Path(__file__).with_name("shipped")
INDEX_NAME = "profiles.yml"
MAX_BYTES = 1 << 20
MAX_RENDERED = 4 << 20
MAX_NODES = 100_000
MAX_NESTING = 50
HTTP_TIMEOUT = 10.0


class ProfileError(ValueError):
    """The index or a profile cannot be read, rendered, parsed or validated."""


class UnknownProfileError(ProfileError):
    """The index has no profile file for that name."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where an index or profile file is: an http(s) URL, or a file that must stay inside `root` (if set)."""

    label: str
    url: str | None = None
    path: Path | None = None
    root: Path | None = None

    @property
    def filename(self) -> str:
        return PurePosixPath(urlsplit(self.url).path).name if self.url else self.path.name if self.path else ""


class _TextLoader(yaml.SafeLoader):
    """YAML that keeps scalars as written (`level: 4.10`, `deblock: 1:1`, `bframes: 010`): FFmpeg options are text.

    Only null is resolved; the profile model turns text into numbers and booleans where a field wants them.
    """


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# -- locations


def index_location(profiles_url: str | None) -> Location:
    """The location of the profile index named by an instance's `profilesUrl` (None or "" → shipped profiles)."""
    url = (profiles_url or "").strip()
    if not url:
        return Location(f"classpath:{INDEX_NAME}", path=SHIPPED / INDEX_NAME, root=SHIPPED)
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ProfileError(f"profiles location {url!r}: {error}") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return Location(url, url=url)
    if scheme == "classpath":
        name = PurePosixPath(url[len("classpath:") :]).name or INDEX_NAME
        return Location(f"classpath:{name}", path=SHIPPED / name, root=SHIPPED)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ProfileError(f"profiles location {url!r}: file URLs must name a local file")
        path = unquote(parts.path)
    elif url.startswith("/"):
        path = url
    else:
        raise ProfileError(
            f"unsupported profiles location {url!r}: use an http(s):// URL, a file: URL, an absolute path or classpath:"
        )
    if not posixpath.isabs(path):
        raise ProfileError(f"profiles location {url!r}: the path must be absolute")
    return Location(url, path=Path(path))


def relative_location(index: Location, ref: str) -> Location:
    """The profile file `ref` of the index at `index`; file locations may not leave the index's folder."""
    if index.url is not None:
        try:
            url = urljoin(index.url, ref)
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https"):
            raise ProfileError(f"profile file {ref!r} of {index.label}: only http(s) URLs are allowed")
        return Location(url, url=url)
    assert index.path is not None
    normal = posixpath.normpath(ref.replace("\\", "/"))
    if urlsplit(ref).scheme or posixpath.isabs(normal) or normal == ".." or normal.startswith("../"):
        raise ProfileError(f"profile file {ref!r} of {index.label}: must be a path inside the index's folder")
    root = index.root or index.path.parent
    label = f"classpath:{normal}" if index.label.startswith("classpath:") else str(index.path.parent / normal)
    return Location(label, path=index.path.parent / normal, root=root)


# -- reading


async def read_text(location: Location, client: httpx.AsyncClient | None = None) -> str:
    """The text at `location`, at most `MAX_BYTES`."""
    if location.url is not None:
        data = await _fetch(location.url, client)
    else:
        data = await asyncio.to_thread(_read_file, location)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProfileError(f"{location.label} is not UTF-8 text: {error.reason} at byte {error.start}") from None


def _read_file(location: Location) -> bytes:
    assert location.path is not None
    try:
        path = location.path.resolve()
        inside = location.root is None or path.is_relative_to(location.root.resolve())
        if inside:
            with path.open("rb") as file:
                data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise ProfileError(f"could not read {location.label}: {error.strerror or error}") from None
    except ValueError:  # a NUL in the path
        raise ProfileError(f"could not read {location.label}: invalid path") from None
    if not inside:
        raise ProfileError(f"{location.label} is outside the profiles folder")
    if len(data) > MAX_BYTES:
        raise ProfileError(f"{location.label} is larger than {MAX_BYTES} bytes")
    return data


async def _fetch(url: str, client: httpx.AsyncClient | None) -> bytes:
    if client is None:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=True) as own:
            return await _fetch_with(own, url)
    return await _fetch_with(client, url)


async def _fetch_with(client: httpx.AsyncClient, url: str) -> bytes:
    try:
        async with client.stream("GET", url, follow_redirects=True, timeout=HTTP_TIMEOUT) as response:
            if not response.is_success:
                raise ProfileError(f"could not read {url}: HTTP {response.status_code}")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise ProfileError(f"{url} is larger than {MAX_BYTES} bytes")
            return bytes(data)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise ProfileError(f"could not read {url}: {type(error).__name__}: {error}") from None


def parse_document(text: str, filename: str, label: str) -> Any:
    """JSON for `*.json`, else YAML (which reads JSON too); parse errors say where, not what the file holds."""
    try:
        data = json.loads(text) if filename.lower().endswith(".json") else yaml.load(text, Loader=_TextLoader)
    except json.JSONDecodeError as error:
        raise ProfileError(f"{label}: invalid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ProfileError(f"{label}: invalid YAML: {error.problem or error.context}{where}") from None
    except RecursionError:
        raise ProfileError(f"{label}: document nested too deeply") from None
    except (yaml.YAMLError, ValueError) as error:
        raise ProfileError(f"{label}: unreadable document: {type(error).__name__}") from None
    _check_size(data, label)
    return data


def _check_size(data: Any, label: str) -> None:
    # YAML aliases can make a small file a huge tree; count what validation would walk.
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_NESTING:
            raise ProfileError(f"{label}: document too large or nested too deeply")
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


# -- index


async def read_index(
    profiles_url: str | None, client: httpx.AsyncClient | None = None
) -> tuple[Location, dict[str, str | None]]:
    """The index's location and its entries (name → profile file as written, None for an empty entry)."""
    location = index_location(profiles_url)
    data = parse_document(await read_text(location, client), location.filename, location.label)
    if data is None:
        return location, {}
    if not isinstance(data, dict):
        raise ProfileError(f"{location.label}: a profile index maps profile names to files")
    index: dict[str, str | None] = {}
    for name, ref in data.items():
        if isinstance(ref, dict | list):
            raise ProfileError(f"{location.label}: entry {name!r} must be a file name")
        index[str(name)] = None if ref is None or not str(ref).strip() else str(ref).strip()
    return location, index


async def list_profiles(profiles_url: str | None, *, client: httpx.AsyncClient | None = None) -> dict[str, str | None]:
    """Profile name → profile file as the index names it (None: listed without a file, like `none:`)."""
    return (await read_index(profiles_url, client))[1]


# -- profiles


def job_context(job: Mapping[str, Any] | BaseModel | None = None, profile: str | None = None) -> dict[str, Any]:
    """The template's root object: the job by its camelCase names; fields not given are null, profileParams {}."""
    context: dict[str, Any] = {field.alias or name: None for name, field in EncoreJob.model_fields.items()}
    context["profile"] = profile
    if isinstance(job, BaseModel):
        context.update(job.model_dump(mode="json", by_alias=True))
    elif job is not None:
        context.update(job)
    params = context.get("profileParams")
    context["profileParams"] = dict(params) if isinstance(params, Mapping) else {}
    return context


def profile_from_text(
    text: str,
    job: Mapping[str, Any] | BaseModel | None = None,
    *,
    filename: str = "profile.yml",
    label: str = "profile",
) -> Profile:
    """Render `text` with the job, parse it (JSON if `filename` ends in .json, else YAML) and validate it."""
    try:
        rendered = render_template(text, job_context(job))
    except TemplateError as error:
        raise ProfileError(f"{label}: template error: {error}") from None
    if len(rendered) > MAX_RENDERED:
        raise ProfileError(f"{label}: rendered profile is larger than {MAX_RENDERED} bytes")
    data = parse_document(rendered, filename, label)
    if not isinstance(data, dict):
        raise ProfileError(f"{label}: a profile is a mapping with name and encodes")
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise ProfileError(f"{label}: invalid profile: {describe_errors(error)}") from None


def describe_errors(error: ValidationError, limit: int = 5) -> str:
    """`encodes[0].X264Encode.suffix: Field required; …` — field paths as in the profile."""
    lines = []
    for item in error.errors()[:limit]:
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
        lines.append(f"{path}: {item['msg']}" if path else item["msg"])
    more = error.error_count() - limit
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


async def load_profile(
    profiles_url: str | None,
    name: str,
    job: Mapping[str, Any] | BaseModel | None,
    *,
    client: httpx.AsyncClient | None = None,
) -> Profile:
    """The profile `name` from the index at `profiles_url`, rendered with `job` (an EncoreJob or its camelCase dump)."""
    index_at, index = await read_index(profiles_url, client)
    return await _load_listed(index_at, index, name, job, client)


async def _load_listed(
    index_at: Location,
    index: dict[str, str | None],
    name: str,
    job: Mapping[str, Any] | BaseModel | None,
    client: httpx.AsyncClient | None,
) -> Profile:
    if name not in index:
        known = ", ".join(sorted(index)[:50]) or "none"
        raise UnknownProfileError(f"unknown profile {name!r}; known profiles: {known}")
    ref = index[name]
    if ref is None:
        raise UnknownProfileError(f"profile {name!r} has no profile file in {index_at.label}")
    location = relative_location(index_at, ref)
    text = await read_text(location, client)
    context = job_context(job, profile=name)
    return profile_from_text(text, context, filename=location.filename, label=f"profile {name!r} ({location.label})")


async def check_all(profiles_url: str | None) -> list[tuple[str, str | None, Profile | ProfileError]]:
    """Every profile of the index, rendered with empty profileParams: (name, file, profile or its error).
    The index is read once and http locations share one connection pool."""
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=True) as client:
        index_at, index = await read_index(profiles_url, client)
        checked: list[tuple[str, str | None, Profile | ProfileError]] = []
        for name, ref in index.items():
            try:
                checked.append((name, ref, await _load_listed(index_at, index, name, None, client)))
            except ProfileError as error:
                checked.append((name, ref, error))
        return checked


async def check_profile(
    profiles_url: str | None,
    name: str,
    job_like: Mapping[str, Any] | BaseModel | None = None,
    *,
    client: httpx.AsyncClient | None = None,
) -> Profile:
    """Load and validate profile `name` as a job would, by default with empty profileParams."""
    return await load_profile(profiles_url, name, job_like, client=client)
