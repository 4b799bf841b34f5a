"""CloudTrail log files for the trail-file benchmarks, made from the sandbox's record builders.

A gigabyte of gzip is made cheaply: a few distinct bodies of records are built and compressed once,
and every file is three gzip members: a head of its own (its first record, with its own time and
ids), one of the shared bodies, and the closing bracket. `zcat` and the reader take a file of
several members as one stream, as gzip allows, so each file is a valid trail log of about 2 MB of
JSON (a trail writes single-member files, which read the same way). Each file ends with a newline,
so `grep -c` counts files: the naive pipeline gets lines of one file each, not one line of 8 GB.

One instance is created in one file of the folder and described in a few others: those files are
the only ones that name it.
"""

from __future__ import annotations

import gzip
import json
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sandbox import records
from bot.sandbox.records import CLI, TERRAFORM, Identity, iam_user

TARGET = "i-0feedc0ffee123456"
CREATOR = "alice"
ACCOUNT = records.ACCOUNT
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
START = datetime(2024, 1, 1, tzinfo=UTC)
FILE_JSON_BYTES = 2 * 2**20  # a busy account's five minutes of one region
BODIES = 16
MENTIONS = 5  # files, besides the creation's, that describe the target


def _member(data: bytes, level: int = 6) -> bytes:
    return zlib.compress(data, level, wbits=31)


def _compact(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def _instance_id(rng: random.Random) -> str:
    return f"i-0{rng.getrandbits(64):016x}"


def _random_record(rng: random.Random, when: datetime, people: list[Identity]) -> dict[str, Any]:
    """One of the events a busy sandbox account records, about a random resource."""
    who, region = rng.choice(people), rng.choice(REGIONS)
    instance = _instance_id(rng)
    kind = rng.randrange(10)
    if kind < 5:
        return records.describe_instances(instance, when, who, region=region, agent=CLI)
    if kind < 7:
        tags = {"team": rng.choice(("data", "web", "ml")), "env": "sandbox"}
        return records.create_tags(instance, tags, when, who, region=region, agent=CLI)
    if kind == 7:
        return records.stop_instances(instance, when, who, region=region, agent=CLI)
    if kind == 8:
        volume = f"vol-0{rng.getrandbits(64):016x}"
        return records.create_volume(
            volume,
            when,
            who,
            region=region,
            agent=TERRAFORM,
            size=8,
            volume_type="gp3",
            zone=f"{region}a",
        )
    return records.run_instances(
        instance,
        when,
        who,
        region=region,
        agent=TERRAFORM,
        image_id=f"ami-0{rng.getrandbits(64):016x}",
        instance_type="t3.micro",
    )


def _body(rng: random.Random, when: datetime, people: list[Identity]) -> bytes:
    """`,record,record,…` up to FILE_JSON_BYTES: the shared middle of many files."""
    parts, size = [], 0
    while size < FILE_JSON_BYTES:
        part = b"," + _compact(_random_record(rng, when, people))
        parts.append(part)
        size += len(part)
        when += timedelta(seconds=1)
    return b"".join(parts)


def _people() -> list[Identity]:
    return [iam_user(name) for name in ("bob", "carol", "dave", "erin", "monitoring", "ci")]


def _head(first: dict[str, Any]) -> bytes:
    return _member(b'{"Records":[' + _compact(first), level=1)


TAIL = _member(b"]}\n")


def _file_key(n: int, when: datetime) -> str:
    region = REGIONS[n % len(REGIONS)]
    return (
        f"AWSLogs/{ACCOUNT}/CloudTrail/{region}/{when:%Y/%m/%d}/"
        f"{ACCOUNT}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{n:08x}.json.gz"
    )


def write_folder(root: Path, gzip_bytes: int, seed: int = 7) -> dict[str, Any]:
    """Log files under `root` until they hold `gzip_bytes` of gzip; returns what was written."""
    rng, people = random.Random(seed), _people()
    bodies = [_member(_body(rng, START, people)) for _ in range(BODIES)]
    inflated_body = FILE_JSON_BYTES  # about: each body is a little over it
    count = max(MENTIONS + 2, round(gzip_bytes / (len(bodies[0]) + 400)))
    created_in = count // 2
    mentioned_in = set(rng.sample([n for n in range(count) if n != created_in], MENTIONS))
    written = inflated = 0
    for n, when in zip(range(count), _times(), strict=False):
        first = _first_record(n, when, rng, people, created_in, mentioned_in)
        head = _head(first)
        path = root / _file_key(n, when)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            for part in (head, bodies[n % BODIES], TAIL):
                handle.write(part)
                written += len(part)
        inflated += inflated_body
    digest = root / f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2024/01/01/digest.json.gz"
    digest.parent.mkdir(parents=True, exist_ok=True)
    digest.write_bytes(gzip.compress(b'{"digestStartTime":"2024-01-01T00:00:00Z"}'))
    return {
        "files": count,
        "files_naming_target": 1 + MENTIONS,
        "gzip_mb": round(written / 2**20, 1),
        "inflated_mb_about": round(inflated / 2**20),
    }


def _times() -> Iterator[datetime]:
    when = START
    while True:
        yield when
        when += timedelta(minutes=5)


def _first_record(
    n: int,
    when: datetime,
    rng: random.Random,
    people: list[Identity],
    created_in: int,
    mentioned_in: set[int],
) -> dict[str, Any]:
    region = REGIONS[0]
    if n == created_in:
        return records.run_instances(
            TARGET,
            when,
            iam_user(CREATOR),
            region=region,
            agent=TERRAFORM,
            image_id="ami-0a1b2c3d4e5f67890",
            instance_type="t3.large",
        )
    if n in mentioned_in:
        return records.describe_instances(TARGET, when, people[4], region=region, agent=CLI)
    return _random_record(rng, when, people)


def write_large_file(path: Path, json_bytes: int, seed: int = 11) -> dict[str, Any]:
    """One log of `json_bytes` of JSON (gzipped), the target's creation at its very end, so the
    whole file is searched and, naming the target, parsed."""
    rng, people = random.Random(seed), _people()
    body = _member(_body(rng, START, people))
    repeats = max(1, json_bytes // FILE_JSON_BYTES)
    made = records.run_instances(
        TARGET,
        START + timedelta(days=1),
        iam_user(CREATOR),
        region=REGIONS[0],
        agent=TERRAFORM,
        image_id="ami-0a1b2c3d4e5f67890",
        instance_type="t3.large",
    )
    with path.open("wb") as handle:
        handle.write(_head(_random_record(rng, START, people)))
        for _ in range(repeats):
            handle.write(body)
        handle.write(_member(b"," + _compact(made) + b"]}\n"))
    return {
        "gzip_mb": round(path.stat().st_size / 2**20, 1),
        "inflated_mb": round(repeats * FILE_JSON_BYTES / 2**20),
    }
