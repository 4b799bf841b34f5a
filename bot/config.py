"""Settings from the environment, `.env` (python-dotenv) and the policy file `whocreated.toml`.

Everything wrong is a ConfigError naming the variable or key, raised at start-up, never later.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import botocore.session
from dotenv import dotenv_values

from bot.core import trust
from bot.core.policy import (
    LOOKBACK_DAYS,
    Accounts,
    Actions,
    Archive,
    Limit,
    Nudges,
    Ownership,
    Policy,
    Schedule,
    SlackPolicy,
    Thresholds,
)
from bot.cron import EXPECTED as CRON_EXPECTED
from bot.cron import CronError, check_cron
from bot.registry.patrol import PATROL
from bot.registry.regions import is_known_region

DEFAULT_POLICY_FILE = "whocreated.toml"
DEFAULT_GRACE_S = 25.0  # inside Kubernetes' default 30 s termination grace period
MAX_GRACE_S = 3600.0


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names it and says what is expected."""


@dataclass(frozen=True)
class DirectorySettings:
    """How AWS identities become Slack users."""

    # ARN, "user:NAME", "role:NAME", "sso:EMAIL", "federated:NAME" or an IAM user name → Slack id
    users: Mapping[str, str] = field(default_factory=dict)
    email_domain: str | None = None  # IAM user "alice" → alice@example.com → users.lookupByEmail
    # Roles whose session names are set by the identity provider (SAML, OIDC), not by the caller:
    # their sessions are looked up by email like IAM Identity Center's. Role names or ARNs.
    trusted_session_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str | None = None
    port: int = 3000
    database_url: str | None = None
    tag_key: str | None = None  # WHOCREATED_TAG_KEY: signs the tags the bot writes
    policy_path: Path | None = None
    aws_region: str | None = None  # the default region, resolved as DESIGN.md §3 says
    aws_regions: tuple[str, ...] = ()  # regions to search when enabled regions cannot be listed
    aws_profile: str | None = None
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    lookup_workers: int = 8
    policy: Policy = field(default_factory=Policy)  # the patrol policy from whocreated.toml
    grace_s: float = DEFAULT_GRACE_S  # on SIGTERM: how long in-flight work may take to finish

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

    def require_bot_token(self, needed_for: str = "") -> str:
        """The bot token, set and shaped like one (`serve`, `scan --notify`); else ConfigError."""
        if not self.slack_bot_token:
            raise ConfigError(
                f"{needed_for or 'SLACK_BOT_TOKEN is not set'} (the xoxb- bot token, see "
                ".env.example)"
            )
        problem = token_problem("SLACK_BOT_TOKEN", self.slack_bot_token, BOT_TOKEN_PREFIX)
        if problem:
            raise ConfigError(problem)
        return self.slack_bot_token

    def require_slack(self) -> None:
        """What `serve` needs: a bot token, and either an app token or a signing secret."""
        self.require_bot_token()
        problem = token_problem("SLACK_APP_TOKEN", self.slack_app_token, APP_TOKEN_PREFIX)
        if problem:
            raise ConfigError(problem)
        if not self.slack_app_token and not self.slack_signing_secret:
            raise ConfigError(
                "HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)"
            )


BOT_TOKEN_PREFIX = "xoxb-"
APP_TOKEN_PREFIX = "xapp-"
_TOKEN_BODY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_TOKEN_KINDS = {
    BOT_TOKEN_PREFIX: ("a bot token", "(OAuth & Permissions → Bot User OAuth Token)"),
    APP_TOKEN_PREFIX: (
        "an app-level token",
        "with connections:write (Basic Information → App-Level Tokens), or leave it empty for "
        "HTTP mode",
    ),
}


def token_problem(name: str, value: str | None, prefix: str) -> str | None:
    """Why `value` cannot be the Slack token `name`, or None (also when it is not set).

    A bare prefix ("xoxb-", "xapp-", as an old .env.example had them) or a prefix followed by a
    placeholder ("xoxb-…", "xapp-<token>") is refused here, before Slack is asked."""
    if not value:
        return None
    kind, where = _TOKEN_KINDS[prefix]
    if not value.startswith(prefix):
        return f"{name} must be {kind} starting with {prefix} {where}"
    if not _TOKEN_BODY.fullmatch(value[len(prefix) :]):
        return f"{name} is only the placeholder {value!r}: paste {kind} {where}"
    return None


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
    values = read_policy(policy_path) if policy_path else {}
    aws = values.get("aws", {})
    policy = build_policy(values)
    return Settings(
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_api_url=_slack_api_url(env.get("SLACK_API_URL")),
        port=_port(env.get("PORT")),
        database_url=_database_url(env.get("DATABASE_URL")),
        tag_key=env.get("WHOCREATED_TAG_KEY") or None,
        policy_path=policy_path,
        aws_region=_default_region(env, aws.get("region")),
        aws_regions=() if policy.regions == "all" else tuple(policy.regions),
        aws_profile=env.get("AWS_PROFILE") or None,
        directory=_directory(values.get("directory", {})),
        policy=policy,
        grace_s=_grace(env.get("WHOCREATED_GRACE_S")),
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


def read_policy(path: Path) -> dict[str, Any]:
    """Parse and validate the policy file; errors name the file and the key.

    Returns section → key → value, each value already converted (tuples, times, day numbers, the
    CloudFormation type names under "idle"), ready for `build_policy`.
    """
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from error
    try:
        return policy_values(data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def policy_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check parsed TOML against the schema and convert every value; ConfigError names the key."""
    known_sections = [*_POLICY_SCHEMA, "idle"]
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section not in known_sections:
            known = ", ".join(f"[{name}]" for name in known_sections)
            raise ConfigError(f"unknown section [{section}] (known: {known})")
        if not isinstance(table, dict):
            raise ConfigError(f"{section} must be a table, e.g. [{section}]")
        if section == "idle":
            values["idle"] = _idle_values(table)
        else:
            values[section] = _table_values(section, table, _POLICY_SCHEMA[section])
    _check_together(values)
    return values


def build_policy(values: Mapping[str, Any]) -> Policy:
    """A Policy from `policy_values` output; what the file leaves out keeps its default."""
    aws = values.get("aws", {})
    return Policy(
        schedule=Schedule(**values.get("schedule", {})),
        accounts=Accounts(**values.get("accounts", {})),
        regions=aws.get("regions", Policy().regions),
        thresholds=values.get("idle", {}),
        exclude_tags=values.get("exclude", {}).get("tags", Policy().exclude_tags),
        slack=SlackPolicy(**values.get("slack", {})),
        nudges=Nudges(**values.get("nudges", {})),
        actions=Actions(**values.get("actions", {})),
        ownership=Ownership(**values.get("ownership", {})),
        archive=Archive(**values["athena"]) if values.get("athena") else None,
    )


class _Invalid(ValueError):
    """Raised by a parser with what was expected: "must be <message>"."""


Parser = Callable[[Any], Any]


def _table_values(section: str, table: Mapping[str, Any], schema: Mapping[str, Parser]) -> dict:
    values: dict[str, Any] = {}
    for key, value in table.items():
        parse = schema.get(key)
        if parse is None:
            known = ", ".join(schema)
            raise ConfigError(f"unknown key {section}.{key} (known: {known})")
        try:
            values[key] = parse(value)
        except _Invalid as error:
            raise ConfigError(f"{section}.{key} must be {error}") from None
    return values


def _idle_values(table: Mapping[str, Any]) -> dict[str, Thresholds]:
    """[idle] keys are defaults for every type; [idle.<type>] tables hold that type's own."""
    shared = _table_values(
        "idle", {k: v for k, v in table.items() if not isinstance(v, dict)}, _THRESHOLD_KEYS
    )
    per_type: dict[str, dict[str, Any]] = {}
    for short, own in table.items():
        if not isinstance(own, dict):
            continue
        declared = PATROL.by_short.get(short)
        if declared is None:
            known = ", ".join(PATROL.by_short)
            raise ConfigError(f"unknown resource type [idle.{short}] (known: {known})")
        keys = {key: _THRESHOLD_KEYS[key] for key in declared.keys}
        per_type[declared.cfn_type] = _table_values(f"idle.{short}", own, keys)
    if not shared and not any(per_type.values()):
        return {}
    return {
        kind.cfn_type: _thresholds(kind.limits, {**shared, **per_type.get(kind.cfn_type, {})})
        for kind in PATROL
    }


def _thresholds(limits: Sequence[Limit], values: Mapping[str, Any]) -> Thresholds:
    """One type's thresholds: the look-back and `enabled` as given, and of its own limits those
    the policy moved from their defaults (a type's rule reads no other)."""
    moved = {
        limit.key: values[limit.key]
        for limit in limits
        if limit.key in values and limit.key != LOOKBACK_DAYS.key
        if values[limit.key] != limit.default
    }
    return Thresholds(
        lookback_days=values.get(LOOKBACK_DAYS.key, int(LOOKBACK_DAYS.default)),
        enabled=values.get("enabled", True),
        **moved,
    )


def _check_together(values: Mapping[str, Any]) -> None:
    """Rules that involve two keys."""
    accounts = values.get("accounts", {})
    if accounts.get("ids") and not accounts.get("role_name"):
        raise ConfigError(
            "accounts.role_name must be set when accounts.ids lists accounts "
            "(the role assumed in each of them)"
        )
    if accounts.get("external_id") and not accounts.get("role_name"):
        raise ConfigError("accounts.external_id needs accounts.role_name")
    _check_organization(accounts)
    athena = values.get("athena")
    if athena:  # an [athena] header with every key commented out configures nothing
        missing = [key for key in ("database", "table", "earliest") if key not in athena]
        if missing:
            raise ConfigError(
                f"athena.{missing[0]} must be set: [athena] needs database, table and earliest "
                "(the organization trail's Athena table and the oldest day it holds)"
            )


def _check_organization(accounts: Mapping[str, Any]) -> None:
    """[accounts] source = "organizations" and the keys that only mean something with it."""
    if accounts.get("source") != "organizations":
        for key in ("ous", "include", "exclude"):
            if accounts.get(key):
                raise ConfigError(f'accounts.{key} needs accounts.source = "organizations"')
        return
    if not accounts.get("role_name"):
        raise ConfigError(
            'accounts.role_name must be set when accounts.source = "organizations" '
            "(the role assumed in each account of the organization)"
        )
    if accounts.get("ids"):
        raise ConfigError(
            'accounts.ids lists accounts by hand; with accounts.source = "organizations" they '
            "come from the organization: use accounts.include and accounts.exclude instead"
        )
    if accounts.get("include") and not accounts.get("ous"):
        raise ConfigError(
            "accounts.include adds accounts to those of accounts.ous; without ous every account "
            "of the organization is already visited"
        )


# Parsers: each returns the value as the Policy holds it, or raises _Invalid("what it must be").


def _whole(low: int, high: int | None = None) -> Parser:
    expects = (
        f"a whole number from {low} to {high}" if high is not None else f"a whole number >= {low}"
    )

    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(expects)
        if value < low or (high is not None and value > high):
            raise _Invalid(expects)
        return value

    return parse


def _number(low: float, high: float | None = None) -> Parser:
    expects = f"a number from {low:g} to {high:g}" if high is not None else f"a number >= {low:g}"

    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(expects)
        if not low <= value <= (high if high is not None else math.inf):
            raise _Invalid(expects)
        return float(value)

    return parse


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("true or false")
    return value


def _matching(pattern: str, expects: str) -> Parser:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise _Invalid(expects)
        return value

    return parse


def _choice(*choices: str) -> Parser:
    expects = " or ".join(f'"{choice}"' for choice in choices)

    def parse(value: Any) -> str:
        if value not in choices:
            raise _Invalid(expects)
        return value

    return parse


def _list_of(item: Parser, expects: str) -> Parser:
    def parse(value: Any) -> tuple:
        if not isinstance(value, list):
            raise _Invalid(expects)
        try:
            return tuple(dict.fromkeys(item(element) for element in value))
        except _Invalid:
            raise _Invalid(expects) from None

    return parse


def _region(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid('a region name like "eu-west-1"')
    if not is_known_region(value):
        raise _Invalid(f"a known AWS region (unknown AWS region {value!r})")
    return value


def _regions(value: Any) -> tuple[str, ...] | str:
    expects = 'a list of regions or "all" (every enabled region)'
    if value == "all":
        return "all"
    if not isinstance(value, list):
        raise _Invalid(expects)
    try:
        return tuple(dict.fromkeys(_region(name) for name in value))
    except _Invalid as error:
        raise _Invalid(f"{expects}; {error}") from None


def _day(value: Any) -> date:
    expects = 'a date like "2024-01-31" (or a TOML date, 2024-01-31)'
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _Invalid(expects)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Invalid(expects) from None


def _cron(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(CRON_EXPECTED)
    try:
        return check_cron(value)  # the scheduler's own reader: what passes here runs there
    except CronError as error:
        raise _Invalid(f"{CRON_EXPECTED} ({error})") from None


def _timezone(value: Any) -> str:
    expects = 'an IANA time zone like "Europe/Berlin" or "UTC"'
    if not isinstance(value, str) or not value:
        raise _Invalid(expects)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(f"{expects}; {value!r} is not one") from None
    return value


def _working_hours(value: Any) -> tuple[time, time]:
    expects = 'a range of 24-hour times like "09:00-17:00", the start before the end'
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", str(value))
    if not isinstance(value, str) or not match:
        raise _Invalid(expects)
    try:
        start = time(int(match[1]), int(match[2]))
        end = time(int(match[3]), int(match[4]))
    except ValueError:
        raise _Invalid(expects) from None
    if start >= end:
        raise _Invalid(expects)
    return start, end


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _working_days(value: Any) -> tuple[int, ...]:
    expects = 'a list of days like ["mon", "tue", "wed", "thu", "fri"]'
    if not isinstance(value, list) or not value:
        raise _Invalid(expects)
    names = [day.lower() if isinstance(day, str) else None for day in value]
    if any(name not in _WEEKDAYS for name in names):
        raise _Invalid(expects)
    return tuple(sorted({_WEEKDAYS.index(name) for name in names}))


def _users(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Invalid("a table of AWS identity = Slack user id")
    for aws_name, slack_id in value.items():
        if not trust.is_mapping_key(aws_name):
            raise ConfigError(
                f'directory.users key {aws_name!r} must be an ARN, "user:NAME" (IAM user), '
                '"role:NAME" (every session of a role), "sso:EMAIL" (IAM Identity Center), '
                '"federated:NAME" or an IAM user name'
            )
        if not isinstance(slack_id, str) or not re.fullmatch(_SLACK_USER, slack_id):
            raise ConfigError(f"directory.users.{aws_name} must be a Slack user id like U012AB3CD")
    return dict(value)


_SLACK_USER = r"[UW][A-Z0-9]{2,}"
_slack_user = _matching(_SLACK_USER, "a Slack user id like U012AB3CD")
_slack_channel = _matching(r"[CGD][A-Z0-9]{2,}", "a Slack channel id like C012AB3CD")
_slack_group = _matching(r"S[A-Z0-9]{2,}", "a Slack user group id like S012AB3CD")
_tag_rule = _matching(r"[^=\s][^=]*(=.*)?", 'a tag key, or "key=value"')

# The keys the policy file may hold: an unknown key is an error, not ignored.
_POLICY_SCHEMA: dict[str, dict[str, Parser]] = {
    "schedule": {"cron": _cron, "timezone": _timezone},
    "accounts": {
        "ids": _list_of(
            _matching(r"\d{12}", ""),
            'a list of 12-digit account ids in quotes, e.g. ["123456789012"]',
        ),
        "role_name": _matching(
            r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", 'an IAM role name like "WhoCreatedPatrol"'
        ),
        "external_id": _matching(r"[\w+=,.@:/-]{2,1224}", "an external id of 2 to 1224 characters"),
        "source": _choice("list", "organizations"),
        "ous": _list_of(
            _matching(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}", ""),
            'a list of organizational unit ids (or the root id), e.g. ["ou-ab12-cd34ef56"]',
        ),
        "include": _list_of(
            _matching(r"\d{12}", ""),
            'a list of 12-digit account ids in quotes, e.g. ["123456789012"]',
        ),
        "exclude": _list_of(
            _matching(r"\d{12}", ""),
            'a list of 12-digit account ids in quotes, e.g. ["123456789012"]',
        ),
    },
    "aws": {"region": _region, "regions": _regions},
    "exclude": {"tags": _list_of(_tag_rule, 'a list of tag keys or "key=value" strings')},
    "slack": {
        "admins": _list_of(_slack_user, 'a list of Slack user ids like ["U012AB3CD"]'),
        "admin_group": _slack_group,
        "fallback_channel": _slack_channel,
        "audit_channel": _slack_channel,
        "summary_channel": _slack_channel,
        "allowed_users": _list_of(_slack_user, 'a list of Slack user ids like ["U012AB3CD"]'),
        "allowed_groups": _list_of(_slack_group, 'a list of user group ids like ["S012AB3CD"]'),
        "allowed_channels": _list_of(_slack_channel, 'a list of channel ids like ["C012AB3CD"]'),
        "lookups_per_minute": _whole(1, 600),
        "unredacted_raw_event": _flag,
    },
    "nudges": {
        "working_hours": _working_hours,
        "working_days": _working_days,
        "renudge_days": _whole(1, 365),
        "escalate_after": _whole(1, 100),
        "auto_stop_after": _whole(0, 100),
        "max_in_digest": _whole(1, 40),
    },
    "actions": {
        "mode": _choice("dry-run", "enabled"),
        "snapshot_before_delete": _flag,
        "protected_tags": _list_of(_tag_rule, 'a list of tag keys or "key=value" strings'),
        "write_tags": _flag,
    },
    "directory": {
        "email_domain": _matching(
            r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", "a domain name like example.com"
        ),
        "users": _users,
        "trusted_session_roles": _list_of(
            _matching(r"(?:arn:[\w-]+:iam::\d{12}:role/(?:[\w+=,.@-]+/)*)?[\w+=,.@-]{1,64}", ""),
            'a list of IAM role names or ARNs, e.g. ["okta-developers"]',
        ),
    },
    "athena": {
        "database": _matching(r"[A-Za-z0-9_-]{1,255}", 'a Glue database name like "cloudtrail"'),
        "table": _matching(r"[A-Za-z0-9_-]{1,255}", 'a Glue table name like "org_trail"'),
        "workgroup": _matching(r"[A-Za-z0-9._-]{1,128}", 'an Athena workgroup name like "primary"'),
        "output_location": _matching(
            r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?", 'an S3 URL like "s3://bucket/athena/"'
        ),
        "catalog": _matching(r"[A-Za-z0-9_-]{1,128}", 'a data catalog name like "AwsDataCatalog"'),
        "region": _region,
        "earliest": _day,
        "timeout_s": _whole(10, 1800),
        "account_partition": _matching(r"[a-z_][a-z0-9_]{0,127}", "a partition column name"),
        "region_partition": _matching(r"[a-z_][a-z0-9_]{0,127}", "a partition column name"),
        "date_partition": _matching(r"[a-z_][a-z0-9_]{0,127}", "a partition column name"),
        "date_format": _choice("yyyy/MM/dd", "yyyy-MM-dd"),
    },
    "ownership": {
        "trusted_tags": _list_of(
            _matching(r"[^=\s][^=]{0,127}", ""), 'a list of tag keys, e.g. ["Owner"]'
        ),
        "max_keep_days": _whole(1, 3650),
    },
}


def _limit(limit: Limit) -> Parser:
    if limit.whole:
        high = int(limit.high) if limit.high is not None else None
        return _whole(int(limit.low), high)
    return _number(limit.low, limit.high)


# Every key an [idle] or [idle.<type>] table may hold: `enabled`, and the limits the declared
# patrol types' rules read (bot/registry/patrol/; a key two types read is one Limit).
_THRESHOLD_KEYS: dict[str, Parser] = {
    "enabled": _flag,
    **{limit.key: _limit(limit) for kind in PATROL for limit in kind.limits},
}


def _directory(section: Mapping[str, Any]) -> DirectorySettings:
    return DirectorySettings(
        users=dict(section.get("users", {})),
        email_domain=section.get("email_domain"),
        trusted_session_roles=tuple(section.get("trusted_session_roles", ())),
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


POSTGRES_URL = "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
POSTGRES_EXTRA = "pip install '.[postgres]'"


def _database_url(value: str | None) -> str | None:
    """A URL SQLAlchemy can open: it parses, its dialect is known and its driver is installed.

    The messages name the scheme and the driver, never the URL (it may hold a password)."""
    if not value:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as error:
        raise ConfigError(
            f"DATABASE_URL is not a database URL (expected sqlite:///PATH or {POSTGRES_URL})"
        ) from error
    scheme = url.drivername
    try:
        dialect = url.get_dialect()
    except ArgumentError as error:  # NoSuchModuleError: no such dialect or driver
        hint = (
            POSTGRES_URL if scheme.startswith("postgres") else f"sqlite:///PATH or {POSTGRES_URL}"
        )
        raise ConfigError(f"DATABASE_URL: unknown scheme {scheme!r} (use {hint})") from error
    try:
        dialect.import_dbapi()
    except ImportError as error:
        module = getattr(error, "name", None) or "its driver"
        hint = (
            POSTGRES_EXTRA
            if dialect.name == "postgresql"
            else f"whocreated is tested with SQLite and PostgreSQL: {POSTGRES_URL}, "
            f"{POSTGRES_EXTRA}"
        )
        raise ConfigError(
            f"DATABASE_URL: the driver for {scheme!r} ({module}) is not installed ({hint})"
        ) from error
    return value


def _port(value: str | None) -> int:
    if not value:
        return 3000
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT must be a TCP port number from 1 to 65535 (got {value!r})")
    return int(value)


def _grace(value: str | None) -> float:
    if not value:
        return DEFAULT_GRACE_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_GRACE_S:
        raise ConfigError(
            f"WHOCREATED_GRACE_S must be a number of seconds from 0 to {MAX_GRACE_S:g} "
            f"(got {value!r})"
        )
    return seconds


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


def check_region(name: str) -> str:
    """Validate a region given on the command line; raise ConfigError with a clear message."""
    if not is_known_region(name):
        raise ConfigError(f"unknown AWS region {name!r} (e.g. us-east-1, eu-west-1)")
    return name
