"""The options of a rig instance, as `POST /riginstance` takes them, read into one typed object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mediaplane.core.catalog import InstanceOption

YOUTUBE_URL = "rtmp://a.rtmp.youtube.com/live2"
TWITCH_URL = "rtmp://live.twitch.tv/app"
RTMP_URL = r"rtmps?://[^\s/?#]{1,255}(/[^\s?#]{0,700})?"

OPTIONS = [
    InstanceOption(
        name="youtubeUrl",
        label="YouTube ingest URL",
        description="Where YouTube destinations are relayed to; the destination's stream key is appended",
        regex_validator=RTMP_URL,
        default=YOUTUBE_URL,
    ),
    InstanceOption(
        name="twitchUrl",
        label="Twitch ingest URL",
        description="Where Twitch destinations are relayed to; the destination's stream key is appended",
        regex_validator=RTMP_URL,
        default=TWITCH_URL,
    ),
    InstanceOption(
        name="webhookUrl",
        label="Webhook URL",
        description="Receives stream.live, stream.offline, destination.error and destination.recovered",
        regex_validator=r"(https?://\S+)?",
    ),
    InstanceOption(
        name="webhookSecret",
        label="Webhook secret",
        description="When set, webhooks carry an HMAC-SHA256 signature header made with it",
        secret=True,
    ),
    InstanceOption(
        name="allowSignup",
        label="Open sign-up",
        type="boolean",
        description="Anyone may create an account (POST /accounts/); when off, only with the owner's token",
        default=True,
    ),
]


@dataclass(frozen=True)
class RigOptions:
    youtube_url: str
    twitch_url: str
    webhook_url: str | None
    webhook_secret: str | None
    allow_signup: bool

    @classmethod
    def of(cls, options: dict[str, Any]) -> RigOptions:
        def text(name: str) -> str | None:
            value = options.get(name)
            return str(value) if value not in (None, "") else None

        signup = options.get("allowSignup", True)
        if isinstance(signup, str):
            signup = signup.lower() in ("true", "1", "yes")
        return cls(
            youtube_url=(text("youtubeUrl") or YOUTUBE_URL).rstrip("/"),
            twitch_url=(text("twitchUrl") or TWITCH_URL).rstrip("/"),
            webhook_url=text("webhookUrl"),
            webhook_secret=text("webhookSecret"),
            allow_signup=bool(signup),
        )
