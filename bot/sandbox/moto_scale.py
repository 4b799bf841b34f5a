"""moto at fleet scale: two lookups moto makes by scanning everything, made direct.

moto finds an EC2 resource's tags by scanning every tag of every resource in the region
(`TagBackend.describe_tags` with a `resource-id` filter, called once per resource it describes),
and a new instance's image by filtering every image it knows. Describing 10,000 instances or
volumes, or launching them, is then quadratic: about a minute each at 10,000 on a small machine,
where EC2 answers in a second. `install()` answers those two exact-id questions from moto's own
dictionaries, with the very same result; any other filter still goes through moto's own code.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

_WILDCARDS = frozenset("*?[]\\")  # what moto's filters treat as a pattern, not a literal id
_installed = False
_lock = threading.Lock()


def install() -> None:
    """Patch moto's EC2 backend (once per process; harmless to call again)."""
    global _installed
    from moto.ec2.models.amis import AmiBackend
    from moto.ec2.models.tags import TagBackend

    with _lock:
        if _installed:
            return
        TagBackend.describe_tags = _direct_tags(TagBackend.describe_tags)  # type: ignore[method-assign]
        AmiBackend.describe_images = _direct_image(AmiBackend.describe_images)  # type: ignore[method-assign]
        _installed = True


def _literal(value: Any) -> str | None:
    """`value` when it is one plain id (a string, or a list of one, without wildcards)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and value and not _WILDCARDS & set(value):
        return value
    return None


def _direct_tags(original: Callable[..., list[dict[str, str]]]) -> Callable[..., Any]:
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    @functools.wraps(original)
    def describe_tags(self: Any, filters: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
        resource_id = (
            _literal(filters.get("resource-id")) if filters and len(filters) == 1 else None
        )
        if resource_id is None:
            return original(self, filters)
        # moto's own result for an exact id: that resource's tags, in their order.
        resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [
            {"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type}
            for key, value in dict(self.tags.get(resource_id, {})).items()
        ]

    return describe_tags


def _direct_image(original: Callable[..., list[Any]]) -> Callable[..., Any]:
    @functools.wraps(original)
    def describe_images(
        self: Any,
        ami_ids: list[str] | None = None,
        filters: Mapping[str, Any] | None = None,
        exec_users: list[str] | None = None,
        owners: list[str] | None = None,
    ) -> list[Any]:
        plain = not ami_ids and not exec_users and not owners
        only_id = filters is not None and len(filters) == 1
        image_id = _literal(filters.get("image-id")) if plain and only_id and filters else None
        if image_id is None:
            return original(self, ami_ids, filters, exec_users, owners)
        image = self.amis.get(image_id)
        return [image] if image is not None else []

    return describe_images
