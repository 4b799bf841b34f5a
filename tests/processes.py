"""Real `whocreated` processes in one simulated world, for what happens between processes: two
replicas, a process killed with -9, a SIGTERM in the middle of an action.

The world lives in the test's process: moto behind the bridge (so other processes reach it over
HTTP), the CloudTrail stand-in, the fake Slack Web API, and a policy file. Every process gets a
clean environment pointing at them, and the store the test names (SQLite or PostgreSQL), which the
test also opens to look at what the processes left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import boto3
from moto import mock_aws

from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.sandbox.moto_bridge import Answer, MotoBridge
from bot.store import Store
from tests.creator_records import allocate_address
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.conftest import SECRET

REGION = "us-east-1"
SLACK_IDS = {"alice": "U0ALICE001", "bob": "U0BOB00001", "carol": "U0CAROL001"}
# Only Elastic IPs are patrolled: idle when unassociated, no metrics needed, quick to describe.
POLICY = """
[aws]
regions = ["us-east-1"]

[schedule]
cron = "{cron}"
timezone = "UTC"

[nudges]
working_hours = "00:00-23:59"
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

[directory]
email_domain = "example.com"

[actions]
mode = "{mode}"

[idle.ec2_instance]
enabled = false
[idle.ebs_volume]
enabled = false
[idle.nat_gateway]
enabled = false
[idle.load_balancer]
enabled = false
[idle.classic_load_balancer]
enabled = false
[idle.rds_instance]
enabled = false
[idle.eks_cluster]
enabled = false
"""


def no_pricing(region: str, body: bytes) -> Answer:
    """moto has no Pricing API: denied at once (the round says "no price")."""
    return (
        HTTPStatus.BAD_REQUEST,
        {"Content-Type": "application/x-amz-json-1.1"},
        '{"__type": "AccessDeniedException", "message": "not in this sandbox"}',
    )


@dataclass
class World:
    folder: Path
    database: str
    bridge: MotoBridge
    trail: CloudTrailServer
    slack: FakeSlack
    policy: Path
    logs: list[Path] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        foreign = ("AWS_", "SLACK_", "WHOCREATED_", "DATABASE_URL", "PORT")
        kept = {k: v for k, v in os.environ.items() if not k.startswith(foreign)}
        return {
            **kept,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(self.folder / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.folder / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": self.bridge.endpoint_url,
            "AWS_ENDPOINT_URL_CLOUDTRAIL": self.trail.endpoint_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.slack.url,
            "DATABASE_URL": self.database,
            "WHOCREATED_CONFIG": str(self.policy),
            "XDG_STATE_HOME": str(self.folder / "state"),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        """`python -m bot ARGS` in the world; its output goes to a log file (see `output`)."""
        log = self.folder / f"process-{len(self.logs)}.log"
        self.logs.append(log)
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=self.env(**extra),
            cwd=self.folder,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )

    def output(self, index: int) -> str:
        return self.logs[index].read_text()

    def store(self) -> Store:
        return Store.open(self.database)

    def idle_addresses(self, per_owner: dict[str, int]) -> dict[str, list[str]]:
        """Unassociated Elastic IPs in moto, each with its AllocateAddress event; the owners on
        Slack (their CloudTrail name @example.com)."""
        ec2 = boto3.client("ec2", region_name=REGION)
        made: dict[str, list[str]] = {}
        when = datetime.now(UTC) - timedelta(days=2)
        for owner, count in per_owner.items():
            self.slack.add_user(f"{owner}@example.com", SLACK_IDS[owner], owner.title(), tz="UTC")
            for _ in range(count):
                allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
                self.trail.add(allocate_address(allocation, when, owner, region=REGION))
                made.setdefault(owner, []).append(allocation)
        return made

    def digests_to(self) -> dict[str, int]:
        """chat.postMessage calls per channel (user id for a DM)."""
        counts: dict[str, int] = {}
        for call in self.slack.calls_to("chat.postMessage"):
            channel = str(call.params["channel"])
            counts[channel] = counts.get(channel, 0) + 1
        return counts


@contextlib.contextmanager
def world(
    folder: Path, database: str, *, mode: str = "dry-run", cron: str = "0 3 1 1 *"
) -> Iterator[World]:
    """`database`: a store of this test's own (SQLite in its folder, or tests.postgres)."""
    policy = folder / "whocreated.toml"
    policy.write_text(POLICY.format(mode=mode, cron=cron))
    with mock_aws(), MotoBridge() as bridge, CloudTrailServer() as trail:
        bridge.override("pricing", "GetProducts", no_pricing)
        slack = FakeSlack()
        try:
            yield World(folder, database, bridge, trail, slack, policy)
        finally:
            slack.close()


def stop(process: subprocess.Popen[str], *, timeout: float = 60) -> int:
    """SIGTERM, then the exit code (killed after `timeout`, failing the test)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def eventually(check: Callable[[], object], timeout: float = 30.0, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:g} s")
        time.sleep(every)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


__all__ = ["SLACK_IDS", "World", "eventually", "free_port", "signal", "stop", "world"]
