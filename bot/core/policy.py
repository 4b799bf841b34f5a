"""The patrol policy from `whocreated.toml`: what counts as idle, who is told, what buttons may do.

Values with defaults that match what operators use; `bot/config.py` reads and validates the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time


@dataclass(frozen=True)
class Limit:
    """One number an idle rule reads, as `[idle.<type>] <key>` sets it: its default and range.

    Declared with the rule that reads it (bot/core/idle.py); a patrol type's declaration lists
    the limits of its rule, and the policy file accepts exactly those keys for that type.
    """

    key: str  # max_cpu_percent
    default: float
    whole: bool = False  # an integer (days, bytes, counts), else any number
    low: float = 0
    high: float | None = None
    unit: str = ""  # how the README and the example file say it: "%", "bytes", "days"

    def accepts(self, value: float) -> bool:
        return value >= self.low and (self.high is None or value <= self.high)


# The look-back every metric rule shares; CloudWatch keeps hourly data for 455 days.
LOOKBACK_DAYS = Limit("lookback_days", 7, whole=True, low=1, high=455, unit="days")


class Thresholds:
    """When a resource of one type is idle: the look-back, whether the type is patrolled at all,
    and the limits the policy file set. A limit it does not set has its declared default
    (`value(limit)`), so the defaults live in one place: the rule's own Limit."""

    __slots__ = ("_limits", "enabled", "lookback_days")

    lookback_days: int
    enabled: bool  # False: this type is not patrolled at all
    _limits: tuple[tuple[str, float], ...]

    def __init__(self, lookback_days: int = 7, enabled: bool = True, **limits: float) -> None:
        object.__setattr__(self, "lookback_days", lookback_days)
        object.__setattr__(self, "enabled", enabled)
        object.__setattr__(self, "_limits", tuple(sorted(limits.items())))

    def value(self, limit: Limit) -> float:
        """The policy's value for this limit, else its default."""
        if limit.key == LOOKBACK_DAYS.key:
            return self.lookback_days
        return dict(self._limits).get(limit.key, limit.default)

    @property
    def limits(self) -> Mapping[str, float]:
        """The limits the policy set (not their defaults)."""
        return dict(self._limits)

    def __getattr__(self, name: str) -> float:
        # A limit set by the policy reads as an attribute: thresholds.max_cpu_percent.
        found = dict(object.__getattribute__(self, "_limits"))
        if name in found:
            return found[name]
        raise AttributeError(f"{name} is not set in these thresholds")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Thresholds are frozen")

    def _key(self) -> tuple[int, bool, tuple[tuple[str, float], ...]]:
        return (self.lookback_days, self.enabled, self._limits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Thresholds) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        parts = [f"lookback_days={self.lookback_days}", f"enabled={self.enabled}"]
        parts += [f"{key}={value!r}" for key, value in self._limits]
        return f"Thresholds({', '.join(parts)})"


@dataclass(frozen=True)
class Schedule:
    cron: str = "0 9 * * 1-5"  # crontab: minute hour day month day-of-week
    timezone: str = "UTC"


@dataclass(frozen=True)
class Accounts:
    """The current account by default; others through an assumed role."""

    ids: tuple[str, ...] = ()  # empty: the credentials' own account only
    role_name: str | None = None  # assumed as arn:aws:iam::<id>:role/<role_name> in other accounts
    external_id: str | None = None
    # "list": `ids`; "organizations": the organization's ACTIVE accounts, listed with the own
    # credentials (the management account or a delegated administrator).
    source: str = "list"
    ous: tuple[str, ...] = ()  # organizations: only accounts under these OUs (and their OUs)
    include: tuple[str, ...] = ()  # organizations: accounts added to the OUs' (a union)
    exclude: tuple[str, ...] = ()  # organizations: accounts never visited

    @property
    def from_organization(self) -> bool:
        return self.source == "organizations"


@dataclass(frozen=True)
class Nudges:
    working_hours: tuple[time, time] = (time(9, 0), time(17, 0))  # in each owner's own time zone
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    renudge_days: int = 3  # re-send while still idle after this many days
    escalate_after: int = 3  # unanswered nudges before the fallback channel hears of it
    auto_stop_after: int = 0  # 0: off. Stop (never terminate) after this many unanswered nudges
    max_in_digest: int = 15  # the most expensive first, a line for the rest


@dataclass(frozen=True)
class SlackPolicy:
    admins: tuple[str, ...] = ()  # Slack user ids who may act on anyone's resources
    admin_group: str | None = None  # a Slack user group id (S…) whose members are admins
    fallback_channel: str | None = None  # unknown owners and escalations
    audit_channel: str | None = None  # every decision
    summary_channel: str | None = None  # the weekly summary
    # Who may use the bot at all (empty: every full member of the workspace). Guests and people
    # of other organisations (shared channels) are refused unless listed here.
    allowed_users: tuple[str, ...] = ()
    allowed_groups: tuple[str, ...] = ()  # Slack user group ids (S…)
    allowed_channels: tuple[str, ...] = ()  # where /whocreated may be used (empty: anywhere)
    lookups_per_minute: int = 10  # per person and replica: LookupEvents allows 2 a second
    unredacted_raw_event: bool = False  # True: everyone sees key ids and IPs (never when shared)


@dataclass(frozen=True)
class Actions:
    mode: str = "dry-run"  # "dry-run" | "enabled"
    snapshot_before_delete: bool = True  # EBS volumes and RDS instances get a final snapshot
    protected_tags: tuple[str, ...] = ("whocreated:protected", "protected", "DoNotDelete")
    write_tags: bool = True  # write whocreated:created-by and whocreated:keep-until where allowed

    @property
    def enabled(self) -> bool:
        return self.mode == "enabled"


@dataclass(frozen=True)
class Ownership:
    """What may make someone a resource's owner besides CloudTrail (DESIGN.md §4, Trust)."""

    # Owner-like tags whose value is trusted as the owner (organisations that enforce them with
    # tag policies or SCPs). Other owner tags are claims: shown, and route a digest only when
    # CloudTrail names nobody, with buttons for admins only.
    trusted_tags: tuple[str, ...] = ()
    max_keep_days: int = 366  # the longest a keep (and its signed keep-until tag) may last


@dataclass(frozen=True)
class Archive:
    """The organization trail's Athena table, asked when LookupEvents' 90 days hold no creation.

    The table is partitioned (partition projection) by account, region and day, as the README's
    "Beyond 90 days" shows; a query reads only the partitions of the account, region and days
    it needs, and the workgroup's per-query bytes scanned limit bounds what one may cost."""

    database: str
    table: str
    earliest: date  # the oldest day the table holds; a query without a hint starts there
    workgroup: str = "primary"
    output_location: str | None = None  # s3://…, when the workgroup sets none
    catalog: str = "AwsDataCatalog"
    region: str | None = None  # where the table and workgroup are; None: the default region
    timeout_s: int = 300  # a query still running then is stopped
    account_partition: str = "account"
    region_partition: str = "region"
    date_partition: str = "timestamp"
    date_format: str = "yyyy/MM/dd"  # how the date partition spells a day ("yyyy-MM-dd" too)


@dataclass(frozen=True)
class Policy:
    schedule: Schedule = field(default_factory=Schedule)
    accounts: Accounts = field(default_factory=Accounts)
    regions: tuple[str, ...] | str = "all"  # "all" enabled regions, or a list
    thresholds: Mapping[str, Thresholds] = field(default_factory=dict)  # per resource type
    exclude_tags: tuple[str, ...] = ("whocreated:ignore",)  # key, or key=value
    slack: SlackPolicy = field(default_factory=SlackPolicy)
    nudges: Nudges = field(default_factory=Nudges)
    actions: Actions = field(default_factory=Actions)
    ownership: Ownership = field(default_factory=Ownership)
    archive: Archive | None = None  # [athena]: history beyond CloudTrail's 90 days

    def thresholds_for(self, resource_type: str) -> Thresholds:
        return self.thresholds.get(resource_type) or Thresholds()
