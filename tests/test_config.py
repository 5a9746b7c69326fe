from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mediaplane.config import ConfigError, Settings


def test_secret_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).prepared()
    second = Settings(data_dir=tmp_path).prepared()
    assert first.secret == second.secret and len(first.secret) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_weak_secret_refused_outside_dev(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Settings(data_dir=tmp_path, secret_key="changeme").prepared()
    assert Settings(data_dir=tmp_path, secret_key="changeme", env="dev").prepared().secret == "changeme"


def test_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "mediaplane.yaml"
    config.write_text("port: 9000\nbase_domain: media.test\n")
    monkeypatch.setenv("MEDIAPLANE_CONFIG", str(config))
    monkeypatch.setenv("MEDIAPLANE_PORT", "9100")
    monkeypatch.setenv("MEDIAPLANE_SAT_LIFETIME", "120")
    monkeypatch.setenv("MEDIAPLANE_JOB_RETRY_DELAY", "PT3S")
    settings = Settings()
    assert settings.port == 9100  # the environment wins over the file
    assert settings.base_domain == "media.test"
    assert settings.sat_lifetime == timedelta(seconds=120)
    assert settings.job_retry_delay == timedelta(seconds=3)
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
