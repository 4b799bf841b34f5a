"""CloudTrail records built from botocore's service models, for testing generated rules.

A record of a create call is its request and response as the model shapes them, with the keys
CloudTrail writes (EC2 and REST services their wire names, the others the member name with a
lower-case first letter; EC2 lists as {"items": [...]}). Every string is filled by a function of
its member name, so a test decides where the created resource's identifier and ARN sit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.loaders
import botocore.session

Filler = Callable[[str], str]
MAX_DEPTH = 6
_SKIPPED_LOCATIONS = ("header", "headers", "statusCode")


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Operation:
    model: dict[str, Any]
    op: dict[str, Any]

    @property
    def protocol(self) -> str:
        return str(self.model["metadata"].get("protocol"))


@cache
def _models() -> dict[str, list[dict[str, Any]]]:
    loader = botocore.loaders.Loader()
    by_prefix: dict[str, list[dict[str, Any]]] = {}
    for name in botocore.session.get_session().get_available_services():
        model = loader.load_service_model(name, "service-2")
        meta = model["metadata"]
        prefix = meta.get("signingName") or meta.get("endpointPrefix") or name
        by_prefix.setdefault(prefix, []).append(model)
    return by_prefix


def operation(service: str, event_name: str, namespace: str) -> Operation | None:
    """The model's operation CloudTrail names `event_name`, the type's own model first."""
    models = sorted(
        _models().get(service, ()),
        key=lambda m: norm(m["metadata"].get("serviceId", "")) != norm(namespace),
    )
    for model in models:
        op = model["operations"].get(event_name)
        if op is not None:
            return Operation(model, op)
    return None


def _key(operation: Operation, name: str, member: dict[str, Any], in_request: bool) -> str:
    location = member.get("locationName")
    # URI and query-string members keep their member name in CloudTrail's requestParameters.
    wire = not (in_request and member.get("location"))
    if operation.protocol in ("ec2", "rest-json", "rest-xml") and location and wire:
        return str(location)
    return name[:1].lower() + name[1:]


def build(operation: Operation, which: str, fill: Filler) -> dict[str, Any]:
    """A minimal valid request ("input") or response ("output") with every member present."""
    shape = operation.op.get(which, {}).get("shape")
    if not shape:
        return {}
    value = _value(operation, shape, "", fill, 0, which == "input")
    return value if isinstance(value, dict) else {}


def _value(
    operation: Operation, shape_name: str, member: str, fill: Filler, depth: int, request: bool
) -> Any:
    shapes = operation.model["shapes"]
    shape = shapes[shape_name]
    kind = shape["type"]
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return {}
        return {
            _key(operation, name, spec, request): _value(
                operation, spec["shape"], name, fill, depth + 1, request
            )
            for name, spec in shape.get("members", {}).items()
            if spec.get("location") not in _SKIPPED_LOCATIONS
        }
    if kind == "list":
        item = _value(operation, shape["member"]["shape"], member, fill, depth + 1, request)
        return {"items": [item]} if operation.protocol == "ec2" else [item]
    if kind == "map":
        return {"key": _value(operation, shape["value"]["shape"], member, fill, depth + 1, request)}
    if kind == "string":
        return fill(member)
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return "2024-05-01T10:00:00Z"
    return "AQID"  # blob


def string_members(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, child in value.items():
            yield from string_members(child, name)
    elif isinstance(value, list):
        for child in value:
            yield from string_members(child, key)
    elif isinstance(value, str):
        yield key, value
