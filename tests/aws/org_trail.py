"""An organization trail's log files: two accounts that each create a role `admin`, a Lambda
function `orders-api` and an RDS instance `orders`, in the layout a trail writes to S3:
`AWSLogs/o-xxxx/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_…json.gz`.

Account A's alice creates them first; account B's bob later, so a bare name's newest creation is
B's. A third account only reads B's role (GetRole), and so only mentions `admin`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sandbox.records import (
    CLI,
    TERRAFORM,
    create_db_instance,
    create_function,
    create_role,
    iam_user,
    record,
)

ORG = "o-a1b2c3d4e5"
A, B, C = "111111111111", "222222222222", "333333333333"
ALICE_AT = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
BOB_AT = datetime(2024, 5, 6, 14, 10, tzinfo=UTC)


def _get_role(name: str, when: datetime, account: str) -> dict[str, Any]:
    return record(
        "GetRole",
        when,
        iam_user("carol", account=account),
        region="us-east-1",
        agent=CLI,
        source="iam.amazonaws.com",
        request={"roleName": name},
        read_only=True,
        account=account,
    )


def records_by_file() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(key under the trail's prefix, records) for every log file of the organization trail."""
    alice, bob = iam_user("alice", account=A), iam_user("bob", account=B)
    for account, who, when, agent in ((A, alice, ALICE_AT, TERRAFORM), (B, bob, BOB_AT, CLI)):
        iam = [create_role("admin", when, who, agent=agent, account=account)]
        lam = [
            create_function(
                "orders-api", when, who, region="us-east-1", agent=agent, account=account
            )
        ]
        rds = [
            create_db_instance(
                "orders", when, who, region="eu-west-1", agent=agent, account=account
            )
        ]
        yield _key(account, "us-east-1", when), [*iam, *lam]
        yield _key(account, "eu-west-1", when), rds
    later = BOB_AT + timedelta(days=1)
    yield _key(C, "us-east-1", later), [_get_role("admin", later, C)]


def _key(account: str, region: str, when: datetime) -> str:
    stamp = when.strftime("%Y%m%dT%H%MZ")
    return (
        f"AWSLogs/{ORG}/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{stamp}_{account[-4:]}{region[-1]}.json.gz"
    )


def log_bytes(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


def write(root: Path) -> Path:
    """The trail's files under `root`; returns `root`."""
    for key, records in records_by_file():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(log_bytes(records))
    return root
