"""Settings from the environment, `.env` (python-dotenv) and the policy file `whocreated.toml`.

Everything wrong is a ConfigError naming the variable or key, raised at start-up, never later.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from dotenv import dotenv_values

DEFAULT_POLICY_FILE = "whocreated.toml"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names it and says what is expected."""


@dataclass(frozen=True)
class DirectorySettings:
    """How AWS identities become Slack users."""

    users: Mapping[str, str] = field(default_factory=dict)  # AWS name or ARN → Slack user id
    email_domain: str | None = None  # "alice" → alice@example.com → users.lookupByEmail


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str | None = None
    port: int = 3000
    database_url: str | None = None
    policy_path: Path | None = None
    aws_region: str | None = None  # the default region, resolved as DESIGN.md §3 says
    aws_regions: tuple[str, ...] = ()  # regions to search when enabled regions cannot be listed
    aws_profile: str | None = None
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    lookup_workers: int = 8

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def fallback_regions(self) -> tuple[str, ...]:
        if self.aws_regions:
            return self.aws_regions
        return (self.aws_region,) if self.aws_region else ()

    def require_region(self) -> str:
        if not self.aws_region:
            raise ConfigError(
                "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION, a profile "
                "region, or [aws] region in whocreated.toml)"
            )
        return self.aws_region

    def require_slack(self) -> None:
        """What `serve` needs: a bot token, and either an app token or a signing secret."""
        if not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set (the xoxb- bot token, see .env.example)")
        if not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if not self.slack_app_token and not self.slack_signing_secret:
            raise ConfigError(
                "HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)"
            )


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    use_dotenv: bool = True,
) -> Settings:
    """Read settings: real environment first, then `.env` in the working directory."""
    env = dict(os.environ if environ is None else environ)
    cwd = cwd or Path.cwd()
    if use_dotenv and (cwd / ".env").is_file():
        for key, value in dotenv_values(cwd / ".env").items():
            if value is not None:
                env.setdefault(key, value)
    policy_path = _policy_path(env, cwd)
    policy = read_policy(policy_path) if policy_path else {}
    aws = policy.get("aws", {})
    return Settings(
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_api_url=_slack_api_url(env.get("SLACK_API_URL")),
        port=_port(env.get("PORT")),
        database_url=env.get("DATABASE_URL") or None,
        policy_path=policy_path,
        aws_region=_default_region(env, aws.get("region")),
        aws_regions=tuple(aws.get("regions", ())),
        aws_profile=env.get("AWS_PROFILE") or None,
        directory=_directory(policy.get("directory", {})),
    )


def _policy_path(env: Mapping[str, str], cwd: Path) -> Path | None:
    configured = env.get("WHOCREATED_CONFIG")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ConfigError(f"WHOCREATED_CONFIG names {configured}, which does not exist")
        return path
    default = cwd / DEFAULT_POLICY_FILE
    return default if default.is_file() else None


# The keys the policy file may hold, and their types: an unknown key is an error, not ignored.
_POLICY_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "aws": {"region": str, "regions": list},
    "directory": {"email_domain": str, "users": dict},
}


def read_policy(path: Path) -> dict[str, Any]:
    """Parse and validate the policy file; errors name the file and the key."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from error
    for section, values in data.items():
        if section not in _POLICY_SCHEMA:
            known = ", ".join(f"[{name}]" for name in _POLICY_SCHEMA)
            raise ConfigError(f"{path}: unknown section [{section}] (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: {section} must be a table, e.g. [{section}]")
        for key, value in values.items():
            expected = _POLICY_SCHEMA[section].get(key)
            if expected is None:
                known = ", ".join(_POLICY_SCHEMA[section])
                raise ConfigError(f"{path}: unknown key {section}.{key} (known: {known})")
            if not isinstance(value, expected):
                raise ConfigError(
                    f"{path}: {section}.{key} must be a {_type_name(expected)}, "
                    f"not {type(value).__name__}"
                )
    _check_policy_values(path, data)
    return data


def _check_policy_values(path: Path, data: Mapping[str, Any]) -> None:
    aws = data.get("aws", {})
    for name in [aws.get("region"), *aws.get("regions", [])]:
        if name is not None and not is_known_region(name):
            raise ConfigError(f"{path}: aws.region(s): unknown AWS region {name!r}")
    users = data.get("directory", {}).get("users", {})
    for aws_name, slack_id in users.items():
        if not isinstance(slack_id, str) or not re.fullmatch(r"[UW][A-Z0-9]{2,}", slack_id):
            raise ConfigError(
                f"{path}: directory.users.{aws_name} must be a Slack user id like U012AB3CD"
            )
    domain = data.get("directory", {}).get("email_domain")
    if domain is not None and not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", domain):
        raise ConfigError(f"{path}: directory.email_domain {domain!r} is not a domain name")


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "string", list: "list", dict: "table", int: "number", bool: "true/false"}
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


def _directory(section: Mapping[str, Any]) -> DirectorySettings:
    return DirectorySettings(
        users=dict(section.get("users", {})), email_domain=section.get("email_domain")
    )


def _slack_api_url(value: str | None) -> str | None:
    if not value:
        return None
    if not re.match(r"^https?://", value) or not value.endswith("/api/"):
        raise ConfigError(
            f"SLACK_API_URL must be an http(s) URL ending in /api/, e.g. https://slack.com/api/ "
            f"(got {value!r})"
        )
    return value


def _port(value: str | None) -> int:
    if not value:
        return 3000
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT must be a TCP port number from 1 to 65535 (got {value!r})")
    return int(value)


def _default_region(env: Mapping[str, str], policy_region: str | None) -> str | None:
    """AWS_REGION, then AWS_DEFAULT_REGION, then the profile's, then the policy file's."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = env.get(variable)
        if value:
            if not is_known_region(value):
                raise ConfigError(f"{variable}: unknown AWS region {value!r}")
            return value
    profile_region = _profile_region(env.get("AWS_PROFILE"), env.get("AWS_CONFIG_FILE"))
    return profile_region or policy_region


def _profile_region(profile: str | None, config_file: str | None) -> str | None:
    try:
        session = botocore.session.Session(profile=profile)
        if config_file:
            session.set_config_variable("config_file", config_file)
        return session.get_scoped_config().get("region")
    except Exception:  # a missing profile is reported by `check`, not here
        return None


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows in every partition."""
    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


def is_known_region(name: str) -> bool:
    return name in known_regions() or name in _EXTRA_REGIONS


# Regions newer than some botocore releases; kept so a slightly old install still accepts them.
_EXTRA_REGIONS = frozenset({"mx-central-1", "ap-southeast-7", "ap-southeast-5", "ca-west-1"})


def check_region(name: str) -> str:
    """Validate a region given on the command line; raise ConfigError with a clear message."""
    if not is_known_region(name):
        raise ConfigError(f"unknown AWS region {name!r} (e.g. us-east-1, eu-west-1)")
    return name
