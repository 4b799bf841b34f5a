"""The policy file: every section fills the Policy, and every mistake names its key."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path

import pytest

from bot.config import ConfigError, build_policy, load_settings, read_policy
from bot.core.policy import Policy, Thresholds
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    LOAD_BALANCER,
    RDS_INSTANCE,
)
from bot.registry.patrol import PATROLLED_TYPES

EXAMPLE = Path(__file__).resolve().parent.parent / "whocreated.example.toml"


def _policy(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "whocreated.toml"
    path.write_text(text)
    return build_policy(read_policy(path))


def _uncommented_example() -> str:
    """The example with every `# key = value` line switched on."""
    return re.sub(r"(?m)^# (\"?[\w:/.@-]+\"? = )", r"\1", EXAMPLE.read_text())


def test_no_policy_file_means_the_default_policy(tmp_path: Path) -> None:
    settings = load_settings({"AWS_CONFIG_FILE": str(tmp_path / "none")}, cwd=tmp_path)
    assert settings.policy == Policy()
    assert settings.policy.regions == "all"
    assert settings.policy.actions.mode == "dry-run"


def test_the_example_file_as_shipped_is_valid_and_means_the_defaults(tmp_path: Path) -> None:
    assert _policy(tmp_path, EXAMPLE.read_text()) == Policy()


def test_every_key_in_the_example_shows_its_real_default(tmp_path: Path) -> None:
    text = _uncommented_example()
    assert "\nmax_cpu_percent = 2.0" in text  # the substitution did switch keys on
    policy = _policy(tmp_path, text)
    default = Policy()
    assert policy.schedule == default.schedule
    assert policy.regions == default.regions
    assert policy.exclude_tags == default.exclude_tags
    assert policy.nudges == default.nudges
    assert policy.actions == default.actions
    assert {kind: policy.thresholds_for(kind) for kind in PATROLLED_TYPES} == {
        kind: Thresholds() for kind in PATROLLED_TYPES
    }
    # Keys without a default show an example value, and it is a valid one.
    assert policy.accounts.role_name == "WhoCreatedPatrol"
    assert policy.slack.admin_group == "S012AB3CD"


def test_every_section_fills_the_policy(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        """
[schedule]
cron = "30 8 * * mon-fri"
timezone = "Europe/Berlin"

[accounts]
ids = ["123456789012", "210987654321"]
role_name = "WhoCreatedPatrol"
external_id = "patrol-7f3a"

[aws]
regions = ["eu-west-1", "us-east-1"]

[idle]
lookback_days = 14

[idle.ec2_instance]
max_cpu_percent = 5
stopped_days = 30

[idle.load_balancer]
max_lb_requests = 10
enabled = false

[exclude]
tags = ["whocreated:ignore", "env=prod"]

[slack]
admins = ["U012AB3CD", "W045EF6GH"]
admin_group = "S0ADMINS"
fallback_channel = "C0FALLBACK"
audit_channel = "G0AUDIT"
summary_channel = "C0SUMMARY"

[nudges]
working_hours = "08:30-18:00"
working_days = ["Mon", "wed", "fri"]
renudge_days = 5
escalate_after = 2
auto_stop_after = 4
max_in_digest = 10

[actions]
mode = "enabled"
snapshot_before_delete = false
protected_tags = ["keep-me"]
write_tags = false
""",
    )
    assert policy.schedule.cron == "30 8 * * mon-fri"
    assert policy.schedule.timezone == "Europe/Berlin"
    assert policy.accounts.ids == ("123456789012", "210987654321")
    assert policy.accounts.role_name == "WhoCreatedPatrol"
    assert policy.accounts.external_id == "patrol-7f3a"
    assert policy.regions == ("eu-west-1", "us-east-1")
    # [idle] applies to every type; [idle.<type>] wins for its own keys.
    assert policy.thresholds_for(EC2_INSTANCE) == Thresholds(
        lookback_days=14, max_cpu_percent=5.0, stopped_days=30
    )
    assert policy.thresholds_for(RDS_INSTANCE) == Thresholds(lookback_days=14)
    assert policy.thresholds_for(LOAD_BALANCER).max_lb_requests == 10
    assert not policy.thresholds_for(LOAD_BALANCER).enabled
    assert policy.thresholds_for(CLASSIC_LOAD_BALANCER).enabled
    assert policy.exclude_tags == ("whocreated:ignore", "env=prod")
    assert policy.slack.admins == ("U012AB3CD", "W045EF6GH")
    assert policy.slack.admin_group == "S0ADMINS"
    assert policy.slack.fallback_channel == "C0FALLBACK"
    assert policy.slack.audit_channel == "G0AUDIT"
    assert policy.slack.summary_channel == "C0SUMMARY"
    assert policy.nudges.working_hours == (time(8, 30), time(18, 0))
    assert policy.nudges.working_days == (0, 2, 4)
    assert policy.nudges.renudge_days == 5
    assert policy.nudges.escalate_after == 2
    assert policy.nudges.auto_stop_after == 4
    assert policy.nudges.max_in_digest == 10
    assert policy.actions.enabled
    assert not policy.actions.snapshot_before_delete
    assert policy.actions.protected_tags == ("keep-me",)
    assert not policy.actions.write_tags


def test_settings_carry_the_policy_and_regions_all_searches_no_fixed_list(tmp_path: Path) -> None:
    (tmp_path / "whocreated.toml").write_text(
        '[aws]\nregion = "eu-west-1"\nregions = "all"\n[actions]\nmode = "enabled"\n'
    )
    settings = load_settings({"AWS_CONFIG_FILE": str(tmp_path / "none")}, cwd=tmp_path)
    assert settings.policy.actions.enabled
    assert settings.policy.regions == "all"
    assert settings.aws_regions == ()
    assert settings.fallback_regions == ("eu-west-1",)


def test_a_region_list_is_both_the_patrol_list_and_the_lookup_fallback(tmp_path: Path) -> None:
    (tmp_path / "whocreated.toml").write_text('[aws]\nregions = ["eu-west-1", "eu-west-1"]\n')
    settings = load_settings({"AWS_CONFIG_FILE": str(tmp_path / "none")}, cwd=tmp_path)
    assert settings.policy.regions == ("eu-west-1",)
    assert settings.fallback_regions == ("eu-west-1",)


def test_only_idle_defaults_reach_every_type(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "[idle]\nlookback_days = 30\n")
    assert {policy.thresholds_for(kind).lookback_days for kind in PATROLLED_TYPES} == {30}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[idle.ec2_instance]\nmax_cpu_percent = 101\n",
            "idle.ec2_instance.max_cpu_percent must be a number from 0 to 100",
        ),
        (
            "[idle.ec2_instance]\nmax_cpu_percent = 'low'\n",
            "idle.ec2_instance.max_cpu_percent must be a number",
        ),
        (
            "[idle.ec2_instance]\nmax_cpu_percent = true\n",
            "idle.ec2_instance.max_cpu_percent must be a number",
        ),
        (
            "[idle.ec2_instance]\nstopped_days = 2.5\n",
            "idle.ec2_instance.stopped_days must be a whole number",
        ),
        ("[idle.ec2_instance]\nmax_nat_bytes = 1\n", "unknown key idle.ec2_instance.max_nat_bytes"),
        ("[idle.ebs_volume]\nlookback_days = 3\n", "unknown key idle.ebs_volume.lookback_days"),
        ("[idle.s3_bucket]\nenabled = false\n", "unknown resource type [idle.s3_bucket]"),
        ("[idle]\nlookback_days = 0\n", "idle.lookback_days must be a whole number from 1 to 455"),
        ("[idle]\nmax_cpu = 1\n", "unknown key idle.max_cpu"),
        (
            "[idle.rds_instance]\nmax_db_connections = -1\n",
            "idle.rds_instance.max_db_connections must be a number >= 0",
        ),
        ("[idle.nat_gateway]\nenabled = 'no'\n", "idle.nat_gateway.enabled must be true or false"),
        ("[schedule]\ncron = '0 9 * *'\n", "schedule.cron must be a crontab expression"),
        ("[schedule]\ncron = '61 9 * * *'\n", "schedule.cron must be a crontab expression"),
        ("[schedule]\ntimezone = 'Mars/Olympus'\n", "schedule.timezone must be an IANA time zone"),
        ("[schedule]\nwhen = 'daily'\n", "unknown key schedule.when"),
        (
            "[accounts]\nids = [123456789012]\n",
            "accounts.ids must be a list of 12-digit account ids",
        ),
        (
            "[accounts]\nids = ['1234']\nrole_name = 'R'\n",
            "accounts.ids must be a list of 12-digit",
        ),
        ("[accounts]\nids = ['123456789012']\n", "accounts.role_name must be set"),
        ("[accounts]\nrole_name = 'a role'\n", "accounts.role_name must be an IAM role name"),
        ("[accounts]\nexternal_id = 'xyz'\n", "accounts.external_id needs accounts.role_name"),
        ("[accounts]\nsource = 'org'\n", 'accounts.source must be "list" or "organizations"'),
        (
            "[accounts]\nsource = 'organizations'\n",
            'accounts.role_name must be set when accounts.source = "organizations"',
        ),
        (
            "[accounts]\nsource = 'organizations'\nrole_name = 'R'\nids = ['123456789012']\n",
            "use accounts.include and accounts.exclude instead",
        ),
        (
            "[accounts]\nsource = 'organizations'\nrole_name = 'R'\nous = ['sandboxes']\n",
            "accounts.ous must be a list of organizational unit ids",
        ),
        (
            "[accounts]\nsource = 'organizations'\nrole_name = 'R'\ninclude = ['123456789012']\n",
            "accounts.include adds accounts to those of accounts.ous",
        ),
        (
            "[accounts]\nsource = 'organizations'\nrole_name = 'R'\nexclude = [123456789012]\n",
            "accounts.exclude must be a list of 12-digit account ids",
        ),
        (
            "[accounts]\nrole_name = 'R'\nous = ['ou-ab12-cd34ef56']\n",
            'accounts.ous needs accounts.source = "organizations"',
        ),
        ("[athena]\ndatabase = 'ct'\ntable = 't'\n", "athena.earliest must be set"),
        ("[athena]\ntable = 't'\nearliest = 2024-01-01\n", "athena.database must be set"),
        (
            "[athena]\ndatabase = 'ct'\ntable = 't'\nearliest = '2024-13-01'\n",
            "athena.earliest must be a date like",
        ),
        (
            "[athena]\ndatabase = 'ct'\ntable = 'a\"b'\nearliest = 2024-01-01\n",
            "athena.table must be a Glue table name",
        ),
        (
            "[athena]\ndatabase = 'ct'\ntable = 't'\nearliest = 2024-01-01\n"
            "output_location = 'bucket/prefix'\n",
            "athena.output_location must be an S3 URL",
        ),
        (
            "[athena]\ndatabase = 'ct'\ntable = 't'\nearliest = 2024-01-01\ntimeout_s = 5\n",
            "athena.timeout_s must be a whole number from 10 to 1800",
        ),
        (
            "[athena]\ndatabase = 'ct'\ntable = 't'\nearliest = 2024-01-01\n"
            "date_format = 'dd/MM/yyyy'\n",
            'athena.date_format must be "yyyy/MM/dd" or "yyyy-MM-dd"',
        ),
        ("[athena]\nbucket = 'x'\n", "unknown key athena.bucket"),
        ("[aws]\nregions = 'everywhere'\n", 'aws.regions must be a list of regions or "all"'),
        ("[aws]\nregions = ['eu-west-1', 'eu-mars-1']\n", "unknown AWS region 'eu-mars-1'"),
        ("[exclude]\ntags = 'whocreated:ignore'\n", "exclude.tags must be a list of tag keys"),
        ("[exclude]\ntags = ['=value']\n", "exclude.tags must be a list of tag keys"),
        ("[slack]\nadmins = ['alice']\n", "slack.admins must be a list of Slack user ids"),
        ("[slack]\nadmin_group = 'U012AB3CD'\n", "slack.admin_group must be a Slack user group id"),
        (
            "[slack]\nfallback_channel = '#sandbox'\n",
            "slack.fallback_channel must be a Slack channel id",
        ),
        (
            "[slack]\naudit_channel = 'U012AB3CD'\n",
            "slack.audit_channel must be a Slack channel id",
        ),
        ("[slack]\nsummary_channel = 5\n", "slack.summary_channel must be a Slack channel id"),
        ("[nudges]\nworking_hours = '17:00-09:00'\n", "nudges.working_hours must be a range"),
        ("[nudges]\nworking_hours = '9-17'\n", "nudges.working_hours must be a range"),
        ("[nudges]\nworking_hours = '09:00-25:00'\n", "nudges.working_hours must be a range"),
        ("[nudges]\nworking_days = ['monday']\n", "nudges.working_days must be a list of days"),
        ("[nudges]\nworking_days = []\n", "nudges.working_days must be a list of days"),
        ("[nudges]\nrenudge_days = 0\n", "nudges.renudge_days must be a whole number from 1"),
        (
            "[nudges]\nmax_in_digest = 100\n",
            "nudges.max_in_digest must be a whole number from 1 to 40",
        ),
        ("[nudges]\nauto_stop_after = -1\n", "nudges.auto_stop_after must be a whole number"),
        ("[actions]\nmode = 'on'\n", 'actions.mode must be "dry-run" or "enabled"'),
        (
            "[actions]\nsnapshot_before_delete = 'yes'\n",
            "actions.snapshot_before_delete must be true or false",
        ),
        ("[actions]\nprotected_tags = [1]\n", "actions.protected_tags must be a list of tag keys"),
        ("[actions]\ndelete_everything = true\n", "unknown key actions.delete_everything"),
        ("actions = 1\n", "actions must be a table"),
        ("[directory]\nemail_domain = 'example'\n", "directory.email_domain must be a domain name"),
    ],
)
def test_a_wrong_key_or_value_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "whocreated.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        read_policy(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_errors_surface_at_start_up_through_load_settings(tmp_path: Path) -> None:
    (tmp_path / "whocreated.toml").write_text("[idle.ec2_instance]\nmax_cpu_percent = 200\n")
    with pytest.raises(ConfigError, match=r"idle\.ec2_instance\.max_cpu_percent"):
        load_settings({"AWS_CONFIG_FILE": str(tmp_path / "none")}, cwd=tmp_path)


def test_defaults_that_the_policy_types_promise() -> None:
    thresholds = Policy().thresholds_for(EBS_VOLUME)
    assert thresholds.lookback_days == 7
    assert thresholds.enabled


def test_accounts_from_the_organization(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        "[accounts]\nsource = 'organizations'\nrole_name = 'WhoCreatedMember'\n"
        "external_id = 'patrol-7f3a'\nous = ['ou-ab12-cd34ef56', 'r-ab12']\n"
        "include = ['111111111111']\nexclude = ['222222222222', '222222222222']\n",
    )
    accounts = policy.accounts
    assert accounts.from_organization and accounts.source == "organizations"
    assert accounts.ous == ("ou-ab12-cd34ef56", "r-ab12")
    assert accounts.include == ("111111111111",)
    assert accounts.exclude == ("222222222222",)
    assert accounts.ids == ()


def test_the_trail_archive_in_athena(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        "[athena]\ndatabase = 'cloudtrail'\ntable = 'org_trail'\nearliest = 2023-01-01\n"
        "workgroup = 'whocreated'\noutput_location = 's3://results-bucket/whocreated/'\n"
        "region = 'eu-west-1'\ntimeout_s = 600\n",
    )
    archive = policy.archive
    assert archive is not None
    assert (archive.database, archive.table, archive.workgroup) == (
        "cloudtrail",
        "org_trail",
        "whocreated",
    )
    assert archive.earliest == date(2023, 1, 1) and archive.timeout_s == 600
    assert archive.output_location == "s3://results-bucket/whocreated/"
    assert (archive.account_partition, archive.region_partition, archive.date_partition) == (
        "account",
        "region",
        "timestamp",
    )
    assert _policy(tmp_path, "[athena]\ndatabase='d'\ntable='t'\nearliest='2024-02-29'\n").archive
    assert Policy().archive is None
