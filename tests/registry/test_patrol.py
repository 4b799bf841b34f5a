"""The patrol side of the registry: every patrol type is one consistent declaration, and the
policy file's example, the permissions table and the README are made from (or equal to) it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import events
from bot.core.actions import Action
from bot.core.policy import Thresholds
from bot.core.resources import Resource
from bot.registry.patrol import PATROL, PATROLLED_TYPES, READERS, evaluate
from bot.registry.patrol.docs import idle_table

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "whocreated.example.toml"
NEW_TYPES = {
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::NotebookInstance",
    "AWS::OpenSearchService::Domain",
    "AWS::ElastiCache::CacheCluster",
    "AWS::Redshift::Cluster",
    "AWS::EMR::Cluster",
    "AWS::DynamoDB::Table",
    "AWS::EC2::Snapshot",
    "AWS::EC2::Image",
}


def test_every_patrol_type_is_declared_once_with_every_part() -> None:
    assert set(PATROLLED_TYPES) >= NEW_TYPES
    assert len(set(PATROLLED_TYPES)) == len(PATROLLED_TYPES) == 17
    for kind in PATROL.declared:
        assert kind.inventory.permissions, kind.cfn_type
        assert kind.tagging is not None, kind.cfn_type
        # Where the service reports a creation time, lookups and press-time checks read it
        # (an Elastic IP's is reported nowhere).
        assert (kind.hint is not None) == (kind.cfn_type in READERS), kind.cfn_type
        assert kind.hint is not None or kind.cfn_type == "AWS::EC2::EIP", kind.cfn_type
        assert kind.iam_resources, kind.cfn_type
        # Its owner is found from CloudTrail: the lookup side knows how it is created.
        assert events.creation_event_names(kind.cfn_type), kind.cfn_type


def test_a_key_two_types_read_is_one_limit() -> None:
    seen: dict[str, object] = {}
    for kind in PATROL.declared:
        for limit in kind.limits:
            assert seen.setdefault(limit.key, limit) == limit, limit.key


def test_a_button_without_a_handler_is_refused_at_declaration() -> None:
    table = PATROL.by_type["AWS::DynamoDB::Table"]
    with pytest.raises(ValueError, match="offers delete without a handler"):
        replace(table, buttons={None: (Action.KEEP, Action.DELETE, Action.NOT_MINE)})


def test_a_type_nobody_declared_is_never_idle_and_gets_keep_and_not_mine() -> None:
    queue = Resource("AWS::SQS::Queue", "jobs", "eu-west-1", "123456789012")
    verdict = evaluate(queue, {}, Thresholds(), datetime(2024, 1, 1, tzinfo=UTC))
    assert verdict.unknown and not verdict.idle
    assert verdict.reasons == ("no idle rule for AWS::SQS::Queue",)
    assert PATROL.buttons(queue) == (Action.KEEP, Action.NOT_MINE)


def _documented(text: str) -> tuple[dict[str, set[str]], set[str]]:
    """[idle.<type>] → the keys shown in it (set or commented out), and those under [idle]."""
    sections: dict[str, set[str]] = {}
    shared: set[str] = set()
    current: set[str] | None = None
    for line in text.splitlines():
        header = re.match(r"^\[(idle(?:\.(\w+))?)\]", line)
        if header:
            current = sections.setdefault(header[2], set()) if header[2] else shared
            continue
        if line.startswith("["):
            current = None
            continue
        key = re.match(r"^#? ?(\w+) = ", line)
        if key and current is not None:
            current.add(key[1])
    return sections, shared


def test_the_example_file_documents_every_type_and_exactly_its_keys() -> None:
    text = EXAMPLE.read_text()
    tomllib.loads(text)  # it parses
    sections, shared = _documented(text)
    assert set(sections) == set(PATROL.by_short)
    for short, kind in PATROL.by_short.items():
        shown = sections[short] | (shared & set(kind.keys))
        assert shown - {"enabled"} == set(kind.keys) - {"enabled"}, short
        intro = text.split("\n[idle]\n")[0]
        assert short in intro, f"{short} missing from the list of types"


def test_the_readme_table_lists_every_type_with_its_defaults() -> None:
    table = idle_table()
    readme = (ROOT / "README.md").read_text()
    assert table in readme
    for kind in PATROL.declared:
        assert f"`[idle.{kind.short}]`" in table
        assert kind.idle_words() in table
    redshift = "| Redshift cluster | `[idle.redshift_cluster]` | no connections over 7 days |"
    assert f"{redshift} Pause, Delete |" in table
    assert "Switch to on-demand" in table and "Deregister" in table


def test_core_and_aws_never_import_the_declarations() -> None:
    """Imports run one way: core ← aws ← the declarations ← everything that wires them."""
    import ast

    for folder in ("core", "aws"):
        for path in (ROOT / "bot" / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            imported = [
                node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            ] + [
                alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import)
                for alias in node.names
            ]
            assert not [m for m in imported if m.startswith("bot.registry.patrol")], path
    core = [p for p in (ROOT / "bot" / "core").rglob("*.py")]
    assert not [p for p in core if "import boto" in p.read_text() or "bot.aws" in p.read_text()]
