"""The upload limit is set in one place and Streamlit's own limit agrees with it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from geo import config
from geo.errors import WardscopeError

ROOT = Path(__file__).resolve().parent.parent


def test_streamlit_max_upload_size_matches_wardscope_default(monkeypatch):
    monkeypatch.delenv("WARDSCOPE_MAX_UPLOAD_MB", raising=False)
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["maxUploadSize"] == config.DEFAULT_MAX_UPLOAD_MB == config.max_upload_mb() == 50
    assert config.streamlit_upload_limit_problem(settings["server"]["maxUploadSize"]) is None
    assert config.upload_limits().max_bytes == 50 * 1024 * 1024  # Streamlit counts MB as MiB


def test_streamlit_keeps_xsrf_protection_and_hides_tracebacks():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["client"]["showErrorDetails"] == "none"
    assert settings["browser"]["gatherUsageStats"] is False


def test_environment_variable_changes_the_limit_and_flags_a_smaller_streamlit_limit(monkeypatch):
    monkeypatch.setenv("WARDSCOPE_MAX_UPLOAD_MB", "120")
    assert config.max_upload_mb() == 120
    assert config.upload_limits().max_bytes == 120 * 1024 * 1024
    problem = config.streamlit_upload_limit_problem(50)
    assert problem and "50 MB" in problem and "120 MB" in problem
    assert config.streamlit_upload_limit_problem(200) is None


@pytest.mark.parametrize("bad", ["0", "-5", "lots", "1.5"])
def test_bad_limit_setting_is_a_clear_error(monkeypatch, bad):
    monkeypatch.setenv("WARDSCOPE_MAX_UPLOAD_MB", bad)
    with pytest.raises(WardscopeError, match="WARDSCOPE_MAX_UPLOAD_MB must be a whole number"):
        config.max_upload_mb()


def test_streamlit_reads_the_config_file():
    """Streamlit itself, started in the project directory, sees our values."""
    out = subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    shown = {line.split(" = ")[0]: line.split(" = ")[1] for line in out.stdout.splitlines() if " = " in line}
    assert shown["maxUploadSize"] == "50"
    assert shown["enableXsrfProtection"] == "true"
    assert shown["showErrorDetails"] == '"none"'
