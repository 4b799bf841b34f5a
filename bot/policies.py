"""The generated files: `deploy/iam/*.json` (bot.iam_documents), the CloudFormation templates
(bot.role_templates) and the README's generated blocks, all from the permissions table.

`python -m bot.policies --policy actions --tag-value dev` prints one policy; `python -m
bot.policies --write .` regenerates every generated file in `deploy/` and the README's generated
blocks (a test fails when they differ from what the table gives).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bot.iam_documents import (
    Scope,
    policy_document,
    to_json,
)
from bot.permissions import (
    IAM,
    PURPOSE,
    SCOPE_PURPOSE,
    SLACK_APP_SCOPES,
    SLACK_BOT_SCOPES,
    SLACK_SCOPES,
    Feature,
)
from bot.registry.patrol.docs import idle_table

IAM_DIR = Path("deploy/iam")


def iam_table() -> str:
    rows = ["| feature | what for | IAM actions | policy |", "|---|---|---|---|"]
    for feature in Feature:
        actions = ", ".join(f"`{action}`" for action in IAM[feature])
        rows.append(
            f"| {feature} | {PURPOSE[feature]} | {actions} | "
            f"[`{IAM_DIR / f'{feature}.json'}`]({IAM_DIR / f'{feature}.json'}) |"
        )
    return "\n".join(rows)


def scope_table() -> str:
    rows = ["| scope | what for | features |", "|---|---|---|"]
    for scope in SLACK_BOT_SCOPES:
        features = ", ".join(f for f, scopes in SLACK_SCOPES.items() if scope in scopes)
        rows.append(f"| `{scope}` | {SCOPE_PURPOSE[scope]} | {features} |")
    for scope in SLACK_APP_SCOPES:
        rows.append(f"| `{scope}` (app-level token) | {SCOPE_PURPOSE[scope]} | Socket Mode |")
    return "\n".join(rows)


README_BLOCKS: Mapping[str, Callable[[], str]] = {
    "iam-lookups-policy": lambda: "```json\n" + to_json(policy_document(Feature.LOOKUPS)) + "```",
    "iam-table": iam_table,
    "slack-scopes": scope_table,
    "idle-rules": idle_table,
}


def _marker(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {name} \(python -m bot\.policies --write \.\) -->\n)(.*?)"
        rf"(<!-- end: {name} -->)",
        flags=re.DOTALL,
    )


def _filled(block: str) -> Callable[[re.Match[str]], str]:
    return lambda match: match[1] + block + match[3]


def readme_with_blocks(text: str) -> str:
    """README text with each generated block rewritten; ValueError when a marker is missing."""
    for name, render in README_BLOCKS.items():
        pattern = _marker(name)
        if not pattern.search(text):
            raise ValueError(f"README.md has no generated block {name!r}")
        text = pattern.sub(_filled(render() + "\n"), text)
    return text


# Files -----------------------------------------------------------------------------------------


def generated_files(scope: Scope | None = None) -> dict[Path, str]:
    """Every file `--write` makes under the repository root, path → text."""
    from bot.role_templates import TEMPLATES

    scope = scope or Scope()
    files = {
        IAM_DIR / f"{feature}.json": to_json(policy_document(feature, scope)) for feature in Feature
    }
    for path, template in TEMPLATES.items():
        files[path] = to_json(template(scope))
    return files


def write(root: Path, scope: Scope | None = None) -> list[Path]:
    written = []
    for relative, text in generated_files(scope).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    readme = root / "README.md"
    text = readme.read_text()
    updated = readme_with_blocks(text)
    if updated != text:
        readme.write_text(updated)
        written.append(readme)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.policies",
        description="IAM policies for whocreated, from its permissions table.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--policy", choices=[str(f) for f in Feature], help="print this policy")
    what.add_argument(
        "--write", metavar="ROOT", type=Path, help="regenerate deploy/ and the README's blocks"
    )
    parser.add_argument("--tag-key", default=Scope.tag_key, help="the action tag's key")
    parser.add_argument("--tag-value", default=Scope.tag_value, help="the action tag's value")
    parser.add_argument(
        "--member-role", default=Scope.member_role, help="the role assumed in other accounts"
    )
    args = parser.parse_args(argv)
    scope = Scope(tag_key=args.tag_key, tag_value=args.tag_value, member_role=args.member_role)
    if args.policy:
        sys.stdout.write(to_json(policy_document(Feature(args.policy), scope)))
        return 0
    for path in write(args.write, scope):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
