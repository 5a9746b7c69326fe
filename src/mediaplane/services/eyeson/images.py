"""Pictures for layers: read from an upload or fetched from a URL, checked, and decoded — PNG, JPEG and WebP with
Pillow, SVG with resvg (a renderer without scripting or network access; references to other files are refused
before it sees the document, so an SVG cannot make the server read its own files).

Every failure is a 400 in eyeson's format: a picture the server cannot use is the client's to fix."""

from __future__ import annotations

import asyncio
import io
import re
import urllib.parse
import warnings

import httpx
import resvg_py
from PIL import Image, UnidentifiedImageError

from mediaplane.kit.storage import ObjectNotFound, Storage
from mediaplane.services.eyeson.errors import bad_request

MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_SVG_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
"""Larger pictures are refused before they are decoded (a small file can unpack to gigabytes)."""
FORMATS = {"PNG", "JPEG", "WEBP"}
TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/svg+xml"}
FETCH_TIMEOUT = 10.0
MAX_REDIRECTS = 3

_SVG_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]", re.S | re.I)
_HREF = re.compile(r"""\bhref\s*=\s*(["'])(.*?)\1""", re.S | re.I)
_CSS_URL = re.compile(r"""url\(\s*(["']?)(.*?)\1\s*\)""", re.S | re.I)


def is_svg(data: bytes) -> bool:
    return bool(_SVG_START.match(data[:4096]))


def _local_reference(target: str) -> bool:
    target = target.strip()
    return target.startswith("#") or target.lower().startswith("data:")


def check_svg(text: str) -> None:
    """Refuses what would reach outside the document: entity declarations, files or URLs in `href` and CSS
    `url(...)`, stylesheet imports."""
    lowered = text.lower()
    if "<!entity" in lowered:
        raise bad_request("SVG with entity declarations is not accepted")
    if "@import" in lowered:
        raise bad_request("SVG with stylesheet imports is not accepted")
    for pattern in (_HREF, _CSS_URL):
        for match in pattern.finditer(text):
            if not _local_reference(match.group(2)):
                raise bad_request("SVG may only refer to its own elements or data: URLs, not to other files")


def render_svg(data: bytes, width: int, height: int) -> Image.Image:
    """The SVG drawn at the canvas size, with its transparency."""
    if len(data) > MAX_SVG_BYTES:
        raise bad_request(f"the SVG is larger than {MAX_SVG_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the SVG is not UTF-8 text") from None
    check_svg(text)
    try:
        png = resvg_py.svg_to_bytes(svg_string=text, width=width, height=height)
    except ValueError as exc:
        raise bad_request(f"the SVG cannot be drawn: {exc}") from None
    return Image.open(io.BytesIO(bytes(png))).convert("RGBA")


def decode_image(data: bytes, width: int, height: int) -> Image.Image:
    """A PNG, JPEG, WebP or SVG picture, loaded (blocking: call it in a worker thread). SVG is drawn at the canvas
    size; the others keep their size (the room stretches them to the canvas)."""
    if not data:
        raise bad_request("the image is empty")
    if is_svg(data):
        return render_svg(data, width, height)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise bad_request(f"{image.format} images are not accepted: send PNG, JPEG, WebP or SVG")
            w, h = image.size
            if w * h > MAX_PIXELS:
                raise bad_request(f"the image is {w}x{h}: at most {MAX_PIXELS} pixels")
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bad_request("the file is not an image: send PNG, JPEG, WebP or SVG") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise bad_request(f"the image cannot be read: {exc}") from None
    return image


def check_url(url: str, field: str) -> str:
    """An http(s) URL with a host, else a 400."""
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad_request(f"{field} must be an http or https URL")
    return url


async def fetch_image(url: str, field: str, *, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes of a picture at an http(s) URL: answered 200 with an image content type, at most `limit`
    bytes, within the timeout; anything else is a 400 that says why."""
    url = check_url(url, field)
    try:
        async with asyncio.timeout(FETCH_TIMEOUT * 2):
            return await _fetch(url, field, limit)
    except TimeoutError:
        raise bad_request(f"{field}: no answer from {url} in time") from None
    except httpx.HTTPError as exc:
        raise bad_request(f"{field}: cannot fetch {url}: {exc.__class__.__name__}") from None


async def _fetch(url: str, field: str, limit: int) -> bytes:
    timeout = httpx.Timeout(FETCH_TIMEOUT)
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS) as client,
        client.stream("GET", url, headers={"Accept": ", ".join(sorted(TYPES))}) as response,
    ):
        if response.status_code != 200:
            raise bad_request(f"{field}: {url} answered {response.status_code}")
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in TYPES:
            raise bad_request(f"{field}: {url} is {kind or 'of no type'}, not a PNG, JPEG, WebP or SVG image")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise bad_request(f"{field}: the image is larger than {limit // (1024 * 1024)} MB")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise bad_request(f"{field}: the image is larger than {limit // (1024 * 1024)} MB")
        return bytes(body)


async def load_stored(storage: Storage, key: str) -> Image.Image | None:
    """A picture this service stored (a layer's PNG), None when it is gone."""
    data = bytearray()
    try:
        async for chunk in storage.open(key):
            data += chunk
    except ObjectNotFound:
        return None
    return await asyncio.to_thread(lambda: Image.open(io.BytesIO(bytes(data))).convert("RGBA"))
