"""The AWS regions botocore knows, in every partition: a region name is checked without an AWS
call (a typo is a clear error, not a connection to a host that does not exist)."""

from __future__ import annotations

from functools import cache

import botocore.session


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
