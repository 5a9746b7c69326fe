"""The options of an encore instance, as OSC's `POST /encoreinstance` takes them, read into one typed object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mediaplane.core.catalog import InstanceOption

DEFAULT_CONCURRENCY = 2

OPTIONS = [
    InstanceOption(
        name="profilesUrl",
        label="Profiles URL",
        description="URL of a profile index (YAML or JSON); empty for the profiles shipped with mediaplane",
        regex_validator=r"(https?://\S+|classpath:\S*)?",
        default="",
    ),
    InstanceOption(name="s3AccessKeyId", label="S3 access key id", description="For s3:// inputs and outputs"),
    InstanceOption(name="s3SecretAccessKey", label="S3 secret access key", secret=True),
    InstanceOption(name="s3SessionToken", label="S3 session token", secret=True),
    InstanceOption(name="s3Region", label="S3 region"),
    InstanceOption(
        name="s3Endpoint", label="S3 endpoint", description="An S3-compatible server, e.g. http://minio:9000"
    ),
    InstanceOption(
        name="concurrency",
        label="Concurrency",
        description="How many jobs of this instance run at once (1-64)",
        regex_validator=r"[1-9]|[1-5][0-9]|6[0-4]",
        default=str(DEFAULT_CONCURRENCY),
    ),
    InstanceOption(
        name="callbackSecret",
        label="Callback secret",
        description="When set, progress callbacks carry an HMAC-SHA256 signature header made with it",
        secret=True,
    ),
]


@dataclass(frozen=True)
class S3Access:
    access_key_id: str | None
    secret_access_key: str | None
    session_token: str | None
    region: str | None
    endpoint: str | None


@dataclass(frozen=True)
class EncoreOptions:
    profiles_url: str | None
    s3: S3Access
    concurrency: int
    callback_secret: str | None

    @classmethod
    def of(cls, options: dict[str, Any]) -> EncoreOptions:
        def text(name: str) -> str | None:
            value = options.get(name)
            return str(value) if value not in (None, "") else None

        concurrency = text("concurrency")
        return cls(
            profiles_url=text("profilesUrl"),
            s3=S3Access(
                access_key_id=text("s3AccessKeyId"),
                secret_access_key=text("s3SecretAccessKey"),
                session_token=text("s3SessionToken"),
                region=text("s3Region"),
                endpoint=text("s3Endpoint"),
            ),
            concurrency=int(concurrency) if concurrency and concurrency.isdigit() else DEFAULT_CONCURRENCY,
            callback_secret=text("callbackSecret"),
        )
