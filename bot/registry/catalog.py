"""The registry: hand-written declarations over the generated catalog, indexed for lookups.

Built once, on first use: the generated data (data/catalog.json, ~0.4 MB) is read with
importlib.resources and every index is a dict, so finding a type, an event's rules or an id
prefix's type is O(1). ARN formats are compiled per service when an ARN of that service is first
read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any

from bot.registry import arns, declared
from bot.registry.spec import GENERATED, HAND_WRITTEN, CreationRule, TypeSpec

_SECTIONS = {"res": "responseElements", "req": "requestParameters"}
# Some services version their event names (Lambda: CreateFunction20150331, …20150331v2;
# CloudFront once: CreateDistribution2019_03_26). Rules match on the name without the version.
_API_VERSION_SUFFIX = re.compile(r"(?:\d{8}|\d{4}_\d{2}_\d{2})(?:v\d+)?$")
_NO_ACCOUNT_IN_ARN = frozenset({"s3"})

EventKey = tuple[str, str]  # (eventSource, eventName)


def base_event_name(name: str) -> str:
    return _API_VERSION_SUFFIX.sub("", name)


def event_source(service: str) -> str:
    return f"{service}.amazonaws.com"


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@dataclass
class Registry:
    """Every declared type and the indexes the lookup side reads."""

    sources: Mapping[str, str]  # generator input package → version
    types: dict[str, TypeSpec] = field(default_factory=dict)
    events: dict[EventKey, tuple[CreationRule, ...]] = field(default_factory=dict)
    events_by_base_name: dict[EventKey, tuple[CreationRule, ...]] = field(default_factory=dict)
    id_prefixes: dict[str, str] = field(default_factory=dict)  # "i" → AWS::EC2::Instance
    name_fields: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _formats: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _compiled: dict[str, tuple[arns.CompiledFormat, ...]] = field(default_factory=dict)

    def compiled_formats(self, service: str) -> tuple[arns.CompiledFormat, ...]:
        """The service's ARN formats, hand-written first; compiled on first use."""
        compiled = self._compiled.get(service)
        if compiled is None:
            compiled = tuple(
                arns.compile_format(cfn_type, arn_format, _id_variable(self.types[cfn_type]))
                for cfn_type, arn_format in self._formats.get(service, ())
            )
            self._compiled[service] = compiled
        return compiled


@cache
def registry() -> Registry:
    from importlib import resources  # here, not at import: only the first lookup pays for it

    raw = json.loads((resources.files("bot.registry") / "data" / "catalog.json").read_text())
    generated = {name: _generated_spec(name, record) for name, record in raw["types"].items()}
    hand = _declared_specs(generated)
    reg = Registry(sources=dict(raw.get("sources", {})))
    reg.types = {**generated, **hand}
    _index_events(reg, hand, generated)
    for spec in reg.types.values():
        for prefix in spec.id_prefixes:
            reg.id_prefixes[prefix] = spec.cfn_type
        for arn_format in spec.arn_formats:
            parts = arns.split(arn_format)
            if parts:
                reg._formats.setdefault(parts[1], []).append((spec.cfn_type, arn_format))
    # Hand-written formats first: of equally specific ones, the first listed wins.
    for formats in reg._formats.values():
        formats.sort(key=lambda entry: reg.types[entry[0]].origin != HAND_WRITTEN)
    return reg


# ---------------------------------------------------------------------------------------------
# Generated types
# ---------------------------------------------------------------------------------------------


def _full_path(path: str) -> str:
    section, rest = path.split(".", 1)
    return f"{_SECTIONS[section]}.{rest}"


def _generated_spec(cfn_type: str, record: Mapping[str, Any]) -> TypeSpec:
    service = str(record["service"])
    source = str(record.get("event_source") or event_source(service))
    formats = tuple(record.get("arns", ()))
    lowercased = service in declared.LOWERCASED_SERVICES
    creation = []
    for entry in record.get("events", ()):
        name, paths = entry[0], entry[1]
        options: Mapping[str, Any] = entry[2] if len(entry) > 2 else {}
        arn_from = tuple(
            (var, _full_path(path)) for var, path in options.get("arn_from", {}).items()
        )
        rule = CreationRule(
            cfn_type,
            tuple(_full_path(p) for p in paths),
            lowercased=lowercased,
            origin=GENERATED,
            first_version=bool(options.get("first_version")),
            arn_format=formats[0] if arn_from and formats else None,
            arn_from=arn_from if formats else (),
        )
        creation.append((source, name, rule))
    return TypeSpec(
        cfn_type=cfn_type,
        service=service,
        event_source=source,
        arn_formats=formats,
        identifier=tuple(record.get("identifier", ())),
        named_by_caller=bool(record.get("named_by_caller")),
        case_insensitive=lowercased,
        home_regions=_home_regions(service),
        creation=tuple(creation),
        origin=GENERATED,
    )


@cache
def _home_regions(service: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(declared.GLOBAL_SERVICE_HOME.get(service, {}).items()))


# ---------------------------------------------------------------------------------------------
# Hand-written types
# ---------------------------------------------------------------------------------------------


def _declared_specs(generated: Mapping[str, TypeSpec]) -> dict[str, TypeSpec]:
    """Declared types and every type the creation table names, generated fields filled in."""
    rules: dict[str, list[tuple[str, str, CreationRule]]] = {}
    for rows, byproduct in ((declared.ROWS, False), (declared.BYPRODUCT_ROWS, True)):
        for service, name, cfn_type, paths in rows:
            rule = CreationRule(
                cfn_type,
                tuple(_full_path(p) for p in paths.split()),
                lowercased=service in declared.LOWERCASED_SERVICES,
                byproduct=byproduct,
            )
            rules.setdefault(cfn_type, []).append((event_source(service), name, rule))
    services = {cfn_type: entries[0][0].split(".")[0] for cfn_type, entries in rules.items()}
    by_type = {d.cfn_type: d for d in declared.TYPES}
    specs: dict[str, TypeSpec] = {}
    for cfn_type in dict.fromkeys([*by_type, *rules]):
        known = by_type.get(cfn_type)
        base = generated.get(cfn_type)
        service = known.service if known else services[cfn_type]
        formats = _declared_formats(known) if known and known.arns else ()
        spec = TypeSpec(
            cfn_type=cfn_type,
            service=service,
            event_source=event_source(service),
            arn_formats=formats or (base.arn_formats if base else ()),
            arn_id=known.arn_id if known and known.arns else None,
            id_prefixes=known.id_prefixes if known else (),
            identifier=base.identifier if base else (),
            named_by_caller=base.named_by_caller if base else False,
            case_insensitive=service in declared.LOWERCASED_SERVICES,
            home_regions=_home_regions(service),
            origin=HAND_WRITTEN,
        )
        own = [
            (source, name, _with_request_name(spec, rule))
            for source, name, rule in rules.get(cfn_type, ())
        ]
        specs[cfn_type] = replace(spec, creation=tuple(own))
    return specs


def _declared_formats(known: declared.Declared) -> tuple[str, ...]:
    region = "${Region}" if known.regional else ""
    account = "" if known.service in _NO_ACCOUNT_IN_ARN else "${Account}"
    prefix = f"arn:${{Partition}}:{known.service}:{region}:{account}:"
    return tuple(prefix + part for part in known.arns)


def _with_request_name(spec: TypeSpec, rule: CreationRule) -> CreationRule:
    """A type its caller names is named by the request too: a CreateRole whose response lacks
    roleName still made the role the request named."""
    if rule.byproduct or not spec.named_by_caller or len(spec.identifier) != 1:
        return rule
    path = f"requestParameters.{lower_first(spec.identifier[0])}"
    if any(p.casefold() == path.casefold() for p in rule.paths):
        return rule
    return replace(rule, paths=(*rule.paths, path))


def _id_variable(spec: TypeSpec) -> str | None:
    """The ARN variable that holds the id: declared, else the one named like the identifier."""
    if spec.arn_id:
        return spec.arn_id
    name = spec.cfn_type.rsplit("::", 1)[-1]
    wanted = {_norm(p) for p in spec.identifier} | {_norm(name + p) for p in spec.identifier}
    # The last variable that is an identifier part: a log stream's name, not its group's.
    for arn_format in spec.arn_formats:
        for variable in reversed(arns.variables(arn_format)):
            stripped = _norm(variable).removesuffix("withoutleadingslash")
            if stripped.removesuffix("withpath") in wanted:
                return variable
    return None


@cache
def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# ---------------------------------------------------------------------------------------------
# The event index
# ---------------------------------------------------------------------------------------------


def _index_events(
    reg: Registry, hand: Mapping[str, TypeSpec], generated: Mapping[str, TypeSpec]
) -> None:
    """(eventSource, eventName) → rules. Hand-written rules win: a generated rule is dropped for
    a type or an event that has a hand-written one."""
    table: dict[EventKey, list[CreationRule]] = {}
    for spec in hand.values():
        for source, name, rule in spec.creation:
            table.setdefault((source, name), []).append(rule)
    hand_bases = {(source, base_event_name(name)) for source, name in table}
    extra: dict[EventKey, list[tuple[bool, CreationRule]]] = {}
    for cfn_type, spec in generated.items():
        if cfn_type in hand:
            continue
        namespace = cfn_type.split("::")[1]
        for source, name, rule in spec.creation:
            if (source, base_event_name(name)) in hand_bases:
                continue
            own = _norm(namespace) == _norm(spec.service)
            extra.setdefault((source, name), []).append((not own, rule))
    for key, ranked in extra.items():
        # Of types one call can create, the service's own namespace first (RDS before DocDB).
        table[key] = [rule for _, rule in sorted(ranked, key=lambda item: item[0])]
    reg.events = {key: tuple(rules) for key, rules in table.items()}
    by_base: dict[EventKey, tuple[CreationRule, ...]] = {}
    for (source, name), rules in reg.events.items():
        by_base.setdefault((source, base_event_name(name)), rules)
    reg.events_by_base_name = by_base
    _index_name_fields(reg)
    # Generated specs keep only the rules that survived.
    surviving = {id(rule) for rules in reg.events.values() for rule in rules}
    for cfn_type, spec in list(reg.types.items()):
        if spec.origin == GENERATED:
            kept = tuple(entry for entry in spec.creation if id(entry[2]) in surviving)
            if kept != spec.creation:
                reg.types[cfn_type] = replace(spec, creation=kept)


def _index_name_fields(reg: Registry) -> None:
    """(eventSource, request key) → the type that key names in that service, for telling what
    a name in a record is; None where a key names several types."""
    fields: dict[tuple[str, str], str | None] = {}
    for (source, _name), rules in reg.events.items():
        for rule in rules:
            if rule.byproduct:
                continue
            for path in rule.paths:
                section, _, rest = path.partition(".")
                if section != "requestParameters" or "." in rest or "[" in rest:
                    continue
                key = (source, rest.casefold())
                if key in fields and fields[key] != rule.type:
                    fields[key] = None
                else:
                    fields[key] = rule.type
    reg.name_fields = fields


def answerable_by_arn(spec: TypeSpec) -> bool:
    """Whether an ARN of this type can be answered: it has formats and creation rules, and the
    ARN names what the rules read (a one-part identifier is the ARN's id by AWS's convention;
    of a several-part one, a variable must name the type's own part)."""
    if not spec.arn_formats or not spec.creation:
        return False
    return len(spec.identifier) <= 1 or _id_variable(spec) is not None


@lru_cache(maxsize=4096)  # CloudTrail has a few thousand event names; most create nothing
def rules_for(source: str, name: str) -> tuple[CreationRule, ...]:
    reg = registry()
    exact = reg.events.get((source, name))
    if exact is not None:
        return exact
    return reg.events_by_base_name.get((source, base_event_name(name)), ())


def spec(cfn_type: str | None) -> TypeSpec | None:
    return registry().types.get(cfn_type) if cfn_type else None


def all_specs() -> Iterable[TypeSpec]:
    return registry().types.values()
