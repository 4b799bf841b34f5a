"""boto3 settings for the sandbox's servers, shared by every benchmark's sides.

moto, playing a whole account behind the bridge, takes seconds to tens of seconds to describe
thousands of resources, where AWS answers in well under one: with botocore's 60-second (or the
product's 20-second) read timeout, a slow describe is retried into a stall or fails the side.
Both sides therefore read for up to `READ_TIMEOUT_S`. The naive sides retry as a patient script
would (standard mode, 10 attempts, so CloudTrail's throttling slows them down rather than failing
them); ours keeps the product's own retries.

Imports stay inside the functions: a naive side must not carry the product's modules in memory.
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 300
NAIVE_MAX_ATTEMPTS = 10


def stand_in_timeouts() -> Any:
    """A botocore Config with only the timeouts, to merge into another."""
    from botocore.config import Config

    return Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S)


def naive_config() -> Any:
    from botocore.config import Config

    retries = Config(retries={"mode": "standard", "max_attempts": NAIVE_MAX_ATTEMPTS})
    return retries.merge(stand_in_timeouts())


def naive_client(service: str, region: str, **kwargs: Any) -> Any:
    """A plain boto3 client, as a script makes it, with the stand-ins' timeouts and retries."""
    import boto3

    return boto3.client(service, region_name=region, config=naive_config(), **kwargs)


def ours_config() -> Any:
    """The product's client configuration, with the stand-ins' timeouts."""
    from bot.wiring import AWS_CLIENT_CONFIG

    return AWS_CLIENT_CONFIG.merge(stand_in_timeouts())


def ours_clients() -> Any:
    """The product's AwsClients (endpoints from the environment), with `ours_config()`."""
    from bot.wiring import AwsClients

    return AwsClients(config=ours_config())
