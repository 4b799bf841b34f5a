"""A simulated AWS sandbox account: moto, the CloudTrail stand-in, and a believable fleet in them.

>>> with Sandbox() as sandbox:
...     services = build(sandbox.settings(), aws=sandbox.clients, clock=sandbox.clock, ...)

What it holds (bot/sandbox/fleet.py; `Sandbox.people`, `Sandbox.resources`): people with IAM users
and an IAM Identity Center (SSO) session, resources made with Terraform, the console, the CLI,
CloudFormation and Auto Scaling across two regions, some idle with CloudWatch data that shows it,
and for every resource the CloudTrail history that matches it. `Seeded` says what the product
should answer about each (creator, tool, owner, idle or not), so tests can check it.

Time: moto stamps resources with the real time, and the sandbox's clock (`Sandbox.clock`) reads a
weekday noon some days later, so look-backs see a week of metrics and digests are not deferred to
working hours. The CloudTrail stand-in and CloudWatch data use that clock.

moto comes with the `demo` extra, never with `serve`: it is imported when a sandbox starts, and a
missing moto is `SandboxUnavailable` with the pip command that installs it. moto's CloudFormation
needs every service's extras, so the stack exists in CloudTrail and on its instance's tags only.

One sandbox at a time per process: moto's state is the process's. While it runs, AWS_* variables
are replaced by dummy credentials (as moto does), so no real profile, endpoint or key is used.
"""

from __future__ import annotations

import dataclasses
import os
import random
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import boto3

from bot.config import DirectorySettings, Settings
from bot.core.policy import Policy, Schedule, SlackPolicy, Thresholds
from bot.sandbox.aws_clients import SandboxClients
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.sandbox.fleet import (
    ACCOUNT,
    AUTOSCALING_GROUP,
    BUCKET,
    CLOUDFORMATION_STACK,
    DAYS_AGO,
    IMAGE,
    PEOPLE,
    FleetSeeder,
    Person,
    Seeded,
)

__all__ = [
    "AUTOSCALING_GROUP",
    "BUCKET",
    "CLOUDFORMATION_STACK",
    "IMAGE",
    "PEOPLE",
    "Person",
    "Sandbox",
    "SandboxClock",
    "SandboxUnavailable",
    "Seeded",
    "sandbox_now",
]

REGIONS = ("eu-west-1", "us-east-1")
INSTALL_HINT = "pip install -e '.[demo]'"
FALLBACK_CHANNEL = "C0SANDBOX1"  # #aws-sandbox: unknown owners
AUDIT_CHANNEL = "C0AUDIT001"  # #whocreated-audit: every decision


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start (moto is not installed); the message says how to fix it."""


class SandboxClock:
    """The sandbox's "now": fixed until moved (`advance`), shared by everything in the sandbox."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, now: datetime) -> None:
        with self._lock:
            self._now = now


def sandbox_now(created: datetime, days: int = DAYS_AGO) -> datetime:
    """Noon UTC on the first weekday at least `days` after `created`: inside working hours for
    the sandbox's people (European time zones), so digests go out at once."""
    day = (created + timedelta(days=days)).astimezone(UTC)
    day = day.replace(hour=12, minute=0, second=0, microsecond=0)
    if day < created + timedelta(days=days):
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class Sandbox:
    """A context manager: moto and the CloudTrail stand-in, started and seeded; see the module.

    `instances` adds that many more instances in the home region (for benchmarks), made by the
    people in turn, every other one idle. `indexed_metrics` keeps CloudWatch data in the indexed
    GetMetricData stand-in (bot/sandbox/metrics_api.py) instead of moto, which cannot serve
    thousands of resources. `enabled_regions` is what DescribeRegions answers (default: `regions`).
    """

    def __init__(
        self,
        *,
        regions: Sequence[str] = REGIONS,
        instances: int = 0,
        enabled_regions: Sequence[str] | None = None,
        trail_throttle: float | None = 2,
        trail_latency: float = 0.0,
        indexed_metrics: bool = False,
        seed: int = 7,
    ) -> None:
        self.regions = tuple(regions)
        self.region = self.regions[0]
        self.account = ACCOUNT
        self.people: dict[str, Person] = {person.key: person for person in PEOPLE}
        self.resources: dict[str, Seeded] = {}
        self.extra_instances = instances
        self.enabled_regions = tuple(enabled_regions or self.regions)
        self._trail_throttle = trail_throttle
        self._trail_latency = trail_latency
        self._indexed_metrics = indexed_metrics
        self._random = random.Random(seed)
        self._saved_env: dict[str, str] = {}
        self._mock: Any = None
        self.trail: CloudTrailServer | None = None
        self.metrics: Any = None  # bot.sandbox.metrics_api.MetricsServer, when indexed
        self.clock = SandboxClock(datetime.now(UTC))
        self.clients: SandboxClients | None = None

    # Lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        mock_aws = _moto()
        self._isolate_environment()
        try:
            self._mock = mock_aws()
            self._mock.start()
            self.trail = CloudTrailServer(
                clock=self.clock, throttle_rate=self._trail_throttle, latency=self._trail_latency
            ).start()
            endpoints = {"cloudtrail": self.trail.endpoint_url}
            if self._indexed_metrics:
                from bot.sandbox.metrics_api import MetricsServer

                self.metrics = MetricsServer().start()
                endpoints["cloudwatch"] = self.metrics.endpoint_url
            self.clients = SandboxClients(
                self._session(),
                endpoints,
                enabled_regions=self.enabled_regions,
                price_regions=self.regions,
            )
            seeder = FleetSeeder(
                self._session(),
                self.trail,
                regions=self.regions,
                extra_instances=self.extra_instances,
                metrics_server=self.metrics,
                rng=self._random,
            )
            self.resources = seeder.make()
            for region, stack in seeder.stacks:
                self.clients.add_stack(region, stack)
            # "Now": a weekday noon some days after the oldest creation moto recorded.
            self.clock.set(sandbox_now(seeder.first))
            seeder.metrics(self.now)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.trail, self.metrics):
            if server is not None:
                server.close()
        self.trail = self.metrics = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._restore_environment()

    def _isolate_environment(self) -> None:
        """No real profile, key, endpoint or region from the environment reaches boto3."""
        for name in list(os.environ):
            if name.startswith("AWS_"):
                self._saved_env[name] = os.environ.pop(name)
        os.environ.update(
            AWS_ACCESS_KEY_ID="sandbox",
            AWS_SECRET_ACCESS_KEY="sandbox",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )

    def _restore_environment(self) -> None:
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(self._saved_env)
        self._saved_env = {}

    def _session(self) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=self.region
        )

    # What callers use --------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock()

    def settings(self, **changes: Any) -> Settings:
        """Settings for this sandbox alone: its regions, its people's Slack ids, a dry-run policy,
        an in-memory store; nothing read from the environment, `.env` or a policy file."""
        policy = Policy(
            regions=self.regions,
            schedule=Schedule(cron="0 12 * * 1-5", timezone="UTC"),
            slack=SlackPolicy(fallback_channel=FALLBACK_CHANNEL, audit_channel=AUDIT_CHANNEL),
            # The fleet is 9 days old: snapshots and AMIs are judged after 7 days, not 30.
            thresholds={
                "AWS::EC2::Snapshot": Thresholds(older_than_days=7),
                "AWS::EC2::Image": Thresholds(unused_days=7),
            },
        )
        settings = Settings(
            database_url="sqlite://",
            aws_region=self.region,
            aws_regions=self.regions,
            directory=DirectorySettings(
                users={p.mapping_key: p.slack_user for p in PEOPLE if p.slack_user}
            ),
            lookup_workers=4,
            policy=policy,
        )
        return dataclasses.replace(settings, **changes)

    def resource(self, label: str) -> Seeded:
        return self.resources[label]

    def owned_by(self, person: str) -> list[Seeded]:
        """What the patrol should find idle and name this person as the owner of."""
        return [r for r in self.resources.values() if r.idle and r.owner == person]

    def session(self) -> boto3.Session:
        """A boto3 session for moto (dummy credentials), e.g. to check AWS state in tests."""
        return self._session()


def _moto() -> Callable[[], Any]:
    try:
        from moto import mock_aws
    except ImportError as error:
        raise SandboxUnavailable(
            f"the simulated sandbox needs moto, which is not installed: {INSTALL_HINT}"
        ) from error
    return mock_aws
