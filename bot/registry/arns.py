"""ARN formats (`arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}`) compiled
into matchers, and the id an ARN names.

Only the resource part (after the fifth colon) is matched: partition, region and account come from
the ARN itself. Of several formats that match, the one with the most literal text wins, so a log
stream's ARN (`log-group:G:log-stream:S`) is a stream of G, not a group named `G:log-stream:S`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_CONTEXT = frozenset({"Partition", "Region", "Account", "AccountId"})


@dataclass(frozen=True)
class CompiledFormat:
    """One ARN format's resource part as a regular expression, and whose it is."""

    cfn_type: str
    pattern: re.Pattern[str]
    variables: tuple[str, ...]
    literal: int  # characters of literal text: the more, the more specific
    id_variable: str


@dataclass(frozen=True)
class ArnMatch:
    cfn_type: str
    resource_id: str
    variables: Mapping[str, str]


def split(arn: str) -> tuple[str, str, str, str, str] | None:
    """(partition, service, region, account, resource) of a format or an ARN; None if not one."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]


def variables(arn_format: str) -> tuple[str, ...]:
    """The format's own variables, without partition, region and account."""
    return tuple(v for v in _VARIABLE.findall(arn_format) if v not in _CONTEXT)


def compile_format(cfn_type: str, arn_format: str, id_variable: str | None) -> CompiledFormat:
    parts = split(arn_format)
    resource = parts[4] if parts else arn_format
    pieces = _VARIABLE.split(resource)  # literal, var, literal, var, …, literal
    names = tuple(pieces[1::2])
    regex = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            regex.append(re.escape(piece))
        else:
            last = index == len(pieces) - 2
            regex.append(f"(?P<v{index // 2}>.+)" if last else f"(?P<v{index // 2}>.+?)")
    literal = sum(len(piece) for index, piece in enumerate(pieces) if index % 2 == 0)
    chosen = id_variable if id_variable and id_variable in names else (names[-1] if names else "")
    return CompiledFormat(
        cfn_type, re.compile("".join(regex) + r"\Z", re.DOTALL), names, literal, chosen
    )


def best_match(resource: str, formats: Iterable[CompiledFormat]) -> ArnMatch | None:
    """The most specific format that matches; the first listed of equally specific ones."""
    best: tuple[CompiledFormat, re.Match[str]] | None = None
    for compiled in formats:
        found = compiled.pattern.match(resource)
        if found and (best is None or compiled.literal > best[0].literal):
            best = (compiled, found)
    if best is None:
        return None
    compiled, found = best
    values = {name: found[f"v{i}"] for i, name in enumerate(compiled.variables)}
    return ArnMatch(compiled.cfn_type, id_value(compiled.id_variable, values), values)


def id_value(variable: str, values: Mapping[str, str]) -> str:
    """The id as AWS names it elsewhere: an IAM path dropped, an SSM parameter's slash back."""
    value = values.get(variable, "")
    if variable.endswith("WithPath"):
        return value.rsplit("/", 1)[-1]
    if variable.endswith("WithoutLeadingSlash") and "/" in value:
        return "/" + value  # hierarchical parameter names start with a slash
    return value
