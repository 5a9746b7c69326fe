"""Typed settings: MEDIAPLANE_* environment variables, an optional TOML/YAML file, embedded defaults."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SECRET_FILE = "secret.key"
WEAK_SECRETS = {"", "changeme", "changethis", "secret", "dev"}
MIN_SECRET_LENGTH = 32
CONSOLE_DURATIONS = ("console_idle_timeout", "console_session_lifetime", "console_lockout_window")


class ConfigError(Exception):
    """The settings cannot be used as given."""


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by MEDIAPLANE_CONFIG (or <data dir>/config.yaml when present)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("MEDIAPLANE_CONFIG")
        if not path:
            return {}
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config file {file} does not exist")
        data = yaml.safe_load(file.read_text()) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"config file {file} must hold a mapping")
        return {str(k).lower(): v for k, v in data.items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIAPLANE_", extra="ignore")

    env: Literal["dev", "production"] = "production"
    data_dir: Path = Path("mediaplane-data")
    database_url: str | None = None
    redis_url: str | None = None

    storage: Literal["local", "s3"] = "local"
    s3_endpoint: str | None = None
    s3_bucket: str = "mediaplane"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    base_domain: str | None = None

    secret_key: str | None = None
    # argon2id-fast is for test suites only (one pass over 8 MiB); it is refused unless env is dev.
    password_hash: Literal["argon2id", "argon2id-fast"] = "argon2id"
    sat_lifetime: timedelta = timedelta(hours=1)
    max_upload_bytes: int = 2 * 1024**3

    workers: int = Field(default=4, ge=0)
    run_workers: bool = True
    job_lease: timedelta = timedelta(seconds=30)
    job_retry_delay: timedelta = timedelta(seconds=2)
    job_max_retry_delay: timedelta = timedelta(minutes=5)
    job_shutdown_grace: timedelta = timedelta(seconds=10)
    ffmpeg_path: str | None = None
    # Scratch space for jobs (FFmpeg writes here before files go to storage); data_dir/work when unset.
    work_dir: Path | None = None
    # The live RTMP ingest (nginx with the RTMP module, supervised by serve) and its relays.
    rtmp_enabled: bool = True
    rtmp_host: str | None = None  # the address RTMP listens on; `host` when unset
    rtmp_port: int = Field(default=1935, ge=1, le=65535)
    rtmp_public_url: str | None = None  # what publishers are told, e.g. rtmp://live.example.com:1935
    nginx_path: str | None = None
    nginx_modules_dir: Path | None = None
    # python: publishers are taken by this process itself (nginx, on a loopback port, writes only the HLS
    # previews); nginx: nginx takes them and the relays play them from it. The ffmpeg relays need nginx.
    rtmp_server: Literal["python", "nginx"] = "python"
    relay_engine: Literal["fanout", "ffmpeg"] = "fanout"
    # fanout: every live stream is read on one shared tick this many seconds apart (latency for CPU)
    relay_read_interval: float = Field(default=0.2, ge=0, le=2)
    rtmp_heartbeat_seconds: int = Field(default=20, ge=1)  # how often a live publish is checked again
    ingest_node: str | None = None  # this ingest's name in stream state; the host name when unset
    # The MQTT broker device nodes (gosd) talk through: an external one (mqtt://user:pass@host:port), or, when
    # unset and mqtt_enabled, one embedded in serve on mqtt_host:mqtt_port.
    mqtt_url: str | None = None
    mqtt_enabled: bool = True
    mqtt_host: str | None = None  # the address the embedded broker listens on; `host` when unset
    mqtt_port: int = Field(default=1884, ge=1, le=65535)  # not 1883: a system Mosquitto often has it
    mqtt_public_url: str | None = None  # what node agents are told, e.g. mqtt://mqtt.example.com:1884
    mqtt_topic_prefix: str = ""  # put before every topic, to share one broker between deployments
    # gosd plan scripts: the script of a plan without files.lua (a built-in one that says so when unset), and
    # each run's limits (memory of the Lua state; CPU time of the script itself, not its waits).
    gosd_lua_file: Path | None = None
    gosd_lua_memory_mb: int = Field(default=64, ge=1, le=4096)
    gosd_lua_cpu_seconds: float = Field(default=60.0, gt=0)
    # eyeson rooms: the composed picture (eyeson's canvas is 1280x960) and its frame rate; a meeting nobody
    # joins with media ends after eyeson_empty_timeout s, one whose last participant left after
    # eyeson_departure_timeout s. eyeson_ice_host limits the media's host candidates to one address.
    eyeson_width: int = Field(default=1280, ge=160, le=3840)
    eyeson_height: int = Field(default=960, ge=120, le=2160)
    eyeson_fps: int = Field(default=15, ge=1, le=60)
    eyeson_empty_timeout: float = Field(default=300.0, gt=0)
    eyeson_departure_timeout: float = Field(default=15.0, ge=0)
    eyeson_ice_host: str | None = None
    eyeson_stun_urls: list[str] = Field(default_factory=list)
    # The web console: a session ends after console_idle_timeout without a request or console_session_lifetime
    # after sign-in; console_lockout_attempts failed sign-ins of one user within console_lockout_window lock it.
    console_idle_timeout: timedelta = timedelta(hours=2)
    console_session_lifetime: timedelta = timedelta(hours=12)
    console_lockout_attempts: int = Field(default=5, gt=0)
    console_lockout_window: timedelta = timedelta(minutes=15)
    log_level: str = "INFO"
    log_json: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls), file_secret_settings)

    @field_validator(
        "sat_lifetime",
        "job_lease",
        "job_retry_delay",
        "job_max_retry_delay",
        "job_shutdown_grace",
        *CONSOLE_DURATIONS,
        mode="before",
    )
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        """Plain numbers (as environment variables give them) are seconds; ISO 8601 durations work too."""
        if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
            return float(value)
        return value

    @field_validator(*CONSOLE_DURATIONS)
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0 seconds")
        return value

    @field_validator("public_url", "rtmp_public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def publishers_in_process(self) -> bool:
        """Whether the ingest takes publishers itself (the relays read them without a second hop)."""
        return self.rtmp_server == "python" and self.relay_engine == "fanout"

    @property
    def rtmp_base_url(self) -> str:
        """rtmp://HOST:PORT that publishers use; an app and a key follow."""
        if self.rtmp_public_url:
            return self.rtmp_public_url
        host = self.rtmp_host or self.host
        if host in ("0.0.0.0", "::"):
            host = urlsplit(self.base_url).hostname or "127.0.0.1"
        return f"rtmp://{host}:{self.rtmp_port}"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'mediaplane.db').resolve()}"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    def prepared(self) -> Settings:
        """Create the data dir, load or create the persisted secret, and refuse weak secrets."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.secret_key is None:
            self.secret_key = load_or_create_secret(self.data_dir / SECRET_FILE)
        if self.env != "dev" and (self.secret_key in WEAK_SECRETS or len(self.secret_key) < MIN_SECRET_LENGTH):
            raise ConfigError(
                f"MEDIAPLANE_SECRET_KEY is too weak: use at least {MIN_SECRET_LENGTH} random characters "
                "(or leave it unset to have one generated)"
            )
        if self.env != "dev" and self.password_hash != "argon2id":
            raise ConfigError(f"MEDIAPLANE_PASSWORD_HASH={self.password_hash} is for tests only (MEDIAPLANE_ENV=dev)")
        from mediaplane.kit.security import use_password_hash

        use_password_hash(self.password_hash)
        return self

    @property
    def secret(self) -> str:
        if self.secret_key is None:
            raise ConfigError("settings were not prepared")
        return self.secret_key


def load_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return value
