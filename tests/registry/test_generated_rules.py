"""Generated creation rules, tried on records built from botocore's output shapes.

For each generated type with an ARN format whose create operation botocore models, the test
builds the call's record: every member present, the type's identifier in the members named after
its CloudFormation identifier, its ARN in the members named like an ARN, and its parts in the
request where the caller names it. The rule must then answer the type's ARN, as a user would give
it, and never an ARN of another type with the same id.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot import registry
from bot.core import refs
from bot.core.events import created_ids, creation_fact
from bot.registry import arns
from tests.registry.shapes import Operation, build, norm, operation, string_members

ACCOUNT, REGION = "123456789012", "us-east-1"
MINIMUM_TYPES = 100


@dataclass(frozen=True)
class Case:
    spec: registry.TypeSpec
    event_source: str
    event_name: str
    rule: registry.CreationRule
    operation: Operation


def cases() -> Iterator[Case]:
    """Every generated rule of a type answerable by ARN, whose operation botocore models."""
    for spec in sorted(registry.all_specs(), key=lambda s: s.cfn_type):
        if spec.origin != registry.GENERATED or not registry.answerable_by_arn(spec):
            continue
        for source, name, rule in spec.creation:
            found = operation(spec.service, name, spec.cfn_type.split("::")[1])
            if found is not None:
                yield Case(spec, source, name, rule, found)


def arn_values(spec: registry.TypeSpec) -> tuple[str, dict[str, str]]:
    """The type's ARN with a distinct value for each variable, and those values."""
    arn_format = spec.arn_formats[0]
    tokens = itertools.count()
    values = {var: f"{norm(var)[:12]}{next(tokens)}x" for var in arns.variables(arn_format)}
    head, resource = arn_format.split(":", 5)[4], arn_format.split(":", 5)[5]
    for var in arns.variables(head):  # an account slot by another name (VpcOwnerAccount)
        values[var] = ACCOUNT
    arn = arn_format.replace("${Partition}", "aws").replace("${Region}", REGION)
    arn = arn.replace("${Account}", ACCOUNT).replace("${AccountId}", ACCOUNT)
    for var, value in values.items():
        arn = arn.replace("${" + var + "}", value)
    assert resource
    return arn, values


def record_for(case: Case) -> tuple[dict[str, Any], str, refs.ResourceRef]:
    arn, values = arn_values(case.spec)
    ref = refs.parse(arn)
    name = case.spec.cfn_type.rsplit("::", 1)[-1]
    # A member named after an identifier part holds that part: the ARN variable of that name,
    # else (a one-part identifier) the id the ARN names, as AWS's responses have it.
    by_name = {}
    for var, value in values.items():
        by_name[norm(var).removesuffix("withoutleadingslash").removesuffix("withpath")] = value
    for prop in case.spec.identifier:
        value = by_name.get(norm(prop)) or by_name.get(norm(name + prop))
        if value is None and len(case.spec.identifier) == 1:
            value = ref.id
            by_name.setdefault(norm(name) + "id", value)  # clusterId on a cluster's response
            by_name.setdefault(norm(name) + "name", value)
        if value is None:
            continue
        aliases = {norm(prop), norm(name + prop)}
        if norm(prop).startswith(norm(name)):  # RestApiId is "id" on a RestApi's response
            aliases.add(norm(prop)[len(norm(name)) :])
        for alias in aliases:
            by_name[alias] = value
    counter = itertools.count()

    arn_names = {"arn", norm(name) + "arn"} | {
        norm(p) for p in case.spec.identifier if norm(p).endswith("arn")
    }

    def fill(member: str) -> str:
        key = norm(member)
        if key in arn_names:
            return arn
        return by_name.get(key) or f"unrelated-{next(counter)}"

    record = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": case.event_source,
        "eventName": case.event_name,
        "awsRegion": REGION,
        "requestParameters": build(case.operation, "input", fill),
        "responseElements": build(case.operation, "output", fill),
        "readOnly": False,
        "recipientAccountId": ACCOUNT,
    }
    return record, arn, ref


ALL = list(cases())


def test_enough_generated_types_are_tried() -> None:
    assert len({case.spec.cfn_type for case in ALL}) >= MINIMUM_TYPES


@pytest.mark.parametrize("case", ALL, ids=lambda c: f"{c.spec.cfn_type}:{c.event_name}")
def test_a_generated_rule_answers_its_types_arn(case: Case) -> None:
    record, arn, ref = record_for(case)
    assert ref.type == case.spec.cfn_type
    created = created_ids(record)
    assert created, "the rule found nothing in a record of its own call"
    for value in created:  # read from the record, never made up
        assert value in {v for _, v in string_members(record)}
    fact = creation_fact(record, ref.search_names)
    assert fact is not None
    assert fact.event_name == case.event_name
    assert fact.resource_id in (arn, ref.id)  # the ARN itself, or the id it names


def test_no_generated_rule_answers_another_types_arn() -> None:
    """A record of one type's creation, asked about an ARN of the next type with the same id."""
    tried = 0
    for case, other in itertools.pairwise(ALL):
        if other.spec.cfn_type == case.spec.cfn_type:
            continue
        record, _, ref = record_for(case)
        other_arn, other_values = arn_values(other.spec)
        foreign = refs.parse(other_arn.replace(other_values[_last(other)], ref.id))
        if foreign.type in (None, case.spec.cfn_type):
            continue
        tried += 1
        assert creation_fact(record, foreign.search_names) is None, (case, foreign)
    assert tried >= MINIMUM_TYPES


def _last(case: Case) -> str:
    return arns.variables(case.spec.arn_formats[0])[-1]
