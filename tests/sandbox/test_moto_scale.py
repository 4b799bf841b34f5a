"""moto_scale answers moto's exact-id tag and image lookups directly, with moto's own results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import AmiBackend
from moto.ec2.models.tags import TagBackend

from bot.sandbox import moto_scale

REGION = "us-east-1"


def _original(method: Any) -> Any:
    """moto's own method, whether or not this process has installed the patches."""
    return getattr(method, "__wrapped__", method)


DESCRIBE_TAGS = _original(TagBackend.describe_tags)
DESCRIBE_IMAGES = _original(AmiBackend.describe_images)


@pytest.fixture
def backend() -> Iterator[Any]:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ec2.run_instances(
            ImageId=image,
            MinCount=3,
            MaxCount=3,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "fleet"}]}
            ],
        )
        ec2.create_volume(
            AvailabilityZone=f"{REGION}a",
            Size=8,
            TagSpecifications=[
                {
                    "ResourceType": "volume",
                    "Tags": [{"Key": "Name", "Value": "data"}, {"Key": "b", "Value": "2"}],
                }
            ],
        )
        yield ec2_backends[DEFAULT_ACCOUNT_ID][REGION]


def test_tags_of_one_id_are_moto_own(backend: Any) -> None:
    direct = moto_scale._direct_tags(DESCRIBE_TAGS)
    for resource_id in [*backend.tags, "i-00000000000000000"]:
        wanted = {"resource-id": [resource_id]}
        assert direct(backend, wanted) == DESCRIBE_TAGS(backend, wanted)
    assert "i-00000000000000000" not in backend.tags  # asking made no entry


def test_other_tag_filters_go_to_moto(backend: Any) -> None:
    direct = moto_scale._direct_tags(DESCRIBE_TAGS)
    for filters in (
        None,
        {"resource-id": ["i-*"]},
        {"resource-id": ["vol-1", "vol-2"]},
        {"resource-id": [next(iter(backend.tags))], "key": ["team"]},
        {"key": ["Name"]},
    ):
        assert direct(backend, filters) == DESCRIBE_TAGS(backend, filters)


def test_image_by_exact_id_is_moto_own(backend: Any) -> None:
    direct = moto_scale._direct_image(DESCRIBE_IMAGES)
    some_image = next(iter(backend.amis))
    for image_id in (some_image, [some_image], "ami-00000000"):
        wanted = {"image-id": image_id}
        assert direct(backend, filters=wanted) == DESCRIBE_IMAGES(backend, filters=wanted)
    pattern = {"image-id": some_image[:6] + "*"}
    assert direct(backend, filters=pattern) == DESCRIBE_IMAGES(backend, filters=pattern)
    owned = direct(backend, filters={"image-id": some_image}, owners=["nobody"])
    assert owned == DESCRIBE_IMAGES(backend, filters={"image-id": some_image}, owners=["nobody"])


def test_install_wraps_moto_once() -> None:
    moto_scale.install()
    moto_scale.install()
    assert TagBackend.describe_tags.__wrapped__ is DESCRIBE_TAGS  # type: ignore[attr-defined]
    assert AmiBackend.describe_images.__wrapped__ is DESCRIBE_IMAGES  # type: ignore[attr-defined]
