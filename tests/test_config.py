import re
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def _settings(tmp_path: Path, env: dict[str, str] | None = None, policy: str | None = None):
    if policy is not None:
        (tmp_path / "whocreated.toml").write_text(policy)
    return load_settings({"AWS_CONFIG_FILE": str(tmp_path / "none"), **(env or {})}, cwd=tmp_path)


def test_aws_region_wins_over_default_region_and_policy(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"},
        '[aws]\nregion = "ap-south-1"\n',
    )
    assert settings.aws_region == "eu-west-1"


def test_default_region_then_policy_region(tmp_path: Path) -> None:
    assert _settings(tmp_path, {"AWS_DEFAULT_REGION": "us-west-2"}).aws_region == "us-west-2"
    assert _settings(tmp_path, {}, '[aws]\nregion = "ap-south-1"\n').aws_region == "ap-south-1"


def test_profile_region_is_used_when_no_variable_is_set(tmp_path: Path) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[profile sandbox]\nregion = eu-north-1\n")
    settings = load_settings(
        {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "sandbox"}, cwd=tmp_path
    )
    assert settings.aws_region == "eu-north-1"


def test_no_region_at_all_is_a_clear_error_when_needed(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.aws_region is None
    with pytest.raises(ConfigError, match="AWS_REGION"):
        settings.require_region()


def test_dotenv_fills_what_the_environment_lacks(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-file\nPORT=4000\n")
    settings = _settings(tmp_path, {"PORT": "5000"})
    assert settings.slack_bot_token == "xoxb-from-file"
    assert settings.port == 5000


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("[aws]\nregoin = 'us-east-1'\n", "unknown key aws.regoin"),
        ("[awz]\n", r"unknown section \[awz\]"),
        ("[aws]\nregions = 'us-east-1'\n", "aws.regions must be a list"),
        ("[aws]\nregion = 'us-east-9'\n", "unknown AWS region 'us-east-9'"),
        ("[directory.users]\nalice = 'alice'\n", "directory.users.alice must be a Slack user id"),
        ("[aws\n", "not valid TOML"),
    ],
)
def test_malformed_policy_file_names_the_key(tmp_path: Path, policy: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, {}, policy)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWS_REGION": "mars-1"}, "AWS_REGION: unknown AWS region"),
        ({"PORT": "http"}, "PORT must be a TCP port"),
        ({"SLACK_API_URL": "https://slack.example.com/"}, "ending in /api/"),
        ({"WHOCREATED_CONFIG": "/nonexistent/whocreated.toml"}, "does not exist"),
    ],
)
def test_bad_environment_is_a_clear_error(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "must be a bot token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "HTTP mode needs SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "app-level token"),
        # The placeholders an old .env.example shipped are refused before Slack is asked.
        ({"SLACK_BOT_TOKEN": "xoxb-"}, "SLACK_BOT_TOKEN is only the placeholder 'xoxb-'"),
        ({"SLACK_BOT_TOKEN": "xoxb-…"}, "SLACK_BOT_TOKEN is only the placeholder"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-"},
            r"SLACK_APP_TOKEN is only the placeholder 'xapp-'.* or leave it empty for HTTP mode",
        ),
    ],
)
def test_serve_requirements(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, env).require_slack()


def test_the_env_example_as_shipped_means_http_mode_and_asks_for_the_tokens(
    tmp_path: Path,
) -> None:
    example = Path(__file__).parents[1] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    settings = load_settings({}, cwd=tmp_path)
    assert not settings.socket_mode
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        settings.require_slack()


def test_socket_mode_follows_the_app_token(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    settings.require_slack()
    assert settings.socket_mode


def test_the_shutdown_grace_period_defaults_to_25_seconds(tmp_path: Path) -> None:
    assert _settings(tmp_path).grace_s == 25.0
    assert _settings(tmp_path, {"WHOCREATED_GRACE_S": "7.5"}).grace_s == 7.5


@pytest.mark.parametrize("value", ["soon", "-1", "86400"])
def test_a_bad_grace_period_names_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(
        ConfigError, match=f"WHOCREATED_GRACE_S must be a number of seconds .*{value}"
    ):
        _settings(tmp_path, {"WHOCREATED_GRACE_S": value})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgres://app:s3cret@db/whocreated",
            "unknown scheme 'postgres' (use postgresql+psycopg",
        ),
        ("postgresql+nope://app:s3cret@db/w", "unknown scheme 'postgresql+nope'"),
        ("notaurl", "DATABASE_URL is not a database URL"),
        ("mysql://app:s3cret@db/whocreated", "the driver for 'mysql' (MySQLdb) is not installed"),
        ("mysql+pymysql://app:s3cret@db/w", "pip install '.[postgres]'"),
    ],
)
def test_a_database_url_that_cannot_be_opened_is_a_config_error(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        _settings(tmp_path, {"DATABASE_URL": url})
    assert "s3cret" not in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_postgres_url_without_its_driver_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # not installed
    with pytest.raises(ConfigError, match=re.escape("pip install '.[postgres]'")) as raised:
        _settings(tmp_path, {"DATABASE_URL": "postgresql+psycopg://app:s3cret@db/w"})
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    "url", ["sqlite:///state.sqlite3", "sqlite://", "postgresql+psycopg://app:s3cret@db/w"]
)
def test_usable_database_urls_are_kept_as_given(tmp_path: Path, url: str) -> None:
    assert _settings(tmp_path, {"DATABASE_URL": url}).database_url == url
