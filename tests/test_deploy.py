"""deploy/: the IAM policies and CloudFormation templates are what the permissions table gives
(regenerating changes nothing), they pass cfn-lint and parliament, the Kubernetes objects pass
their schemas, and the Dockerfile and manifests agree on the user, the port and the grace."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.iam_documents import WRITE_RESOURCES, Scope, policy_document
from bot.permissions import IAM, Feature, is_read
from bot.policies import generated_files, main, readme_with_blocks

ROOT = Path(__file__).parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
DEFAULT_GRACE_S = 25  # WHOCREATED_GRACE_S's default


# Generated files ---------------------------------------------------------------------------------


def test_regenerating_deploy_gives_the_committed_files() -> None:
    for relative, text in generated_files().items():
        committed = ROOT / relative
        assert committed.is_file(), f"{relative} is missing: run python -m bot.policies --write ."
        assert committed.read_text() == text, (
            f"{relative} differs: run python -m bot.policies --write ."
        )


def test_the_readme_shows_what_the_table_gives() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme_with_blocks(readme) == readme, "run python -m bot.policies --write ."


def test_a_policy_is_printed_with_the_tag_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--policy", "actions", "--tag-key", "Stage", "--tag-value", "dev"]) == 0
    document = json.loads(capsys.readouterr().out)
    conditions = [s.get("Condition") for s in document["Statement"] if s.get("Condition")]
    assert conditions == [{"StringEquals": {"aws:ResourceTag/Stage": "dev"}}]


# IAM policies ------------------------------------------------------------------------------------


def statements(feature: Feature) -> list[dict[str, Any]]:
    return list(policy_document(feature)["Statement"])


@pytest.mark.parametrize("feature", list(Feature))
def test_each_policy_grants_exactly_its_features_permissions(feature: Feature) -> None:
    granted = [action for s in statements(feature) for action in s["Action"]]
    assert sorted(granted) == sorted(IAM[feature])


@pytest.mark.parametrize("feature", list(Feature))
def test_no_change_is_allowed_on_any_resource(feature: Feature) -> None:
    for statement in statements(feature):
        changes = [a for a in statement["Action"] if not is_read(a)]
        if changes:
            assert statement["Resource"] != "*", statement
            assert set(changes) <= set(WRITE_RESOURCES)


def test_actions_touch_only_resources_with_the_action_tag() -> None:
    [reads, changes] = statements(Feature.ACTIONS)
    assert all(is_read(action) for action in reads["Action"])
    assert changes["Condition"] == {"StringEquals": {"aws:ResourceTag/Environment": "sandbox"}}
    assert "ec2:TerminateInstances" in changes["Action"]


def test_tags_may_only_be_whocreated_ones() -> None:
    [statement] = statements(Feature.TAGS)
    assert statement["Condition"]["ForAllValues:StringLike"] == {"aws:TagKeys": ["whocreated:*"]}


def test_the_member_role_is_the_only_role_assumed() -> None:
    [statement] = policy_document(Feature.ACCOUNTS, Scope(member_role="Patrol"))["Statement"]
    assert statement["Resource"] == "arn:aws:iam::*:role/Patrol"


# What parliament may say, and why it is so: the bot reads every resource of the kinds it knows
# (reads on "*"), assuming a role hands out credentials by design, and es:AddTags also tags
# OpenSearch UI applications and data sources (opensearch: ARNs) where the bot tags domains only.
ACCEPTED = {
    "RESOURCE_STAR": lambda detail: all(is_read(action) for action in _actions(detail)),
    "CREDENTIALS_EXPOSURE": lambda detail: True,
    "RESOURCE_MISMATCH": lambda detail: all(
        item["action"] == "es:AddTags" and ":opensearch:" in item["required_format"]
        for item in detail
    ),
}


def _actions(detail: Any) -> list[str]:
    return [str(action) for action in (detail if isinstance(detail, list) else [detail])]


@pytest.mark.parametrize("feature", list(Feature))
def test_parliament_finds_nothing_but_reads_on_any_resource(feature: Feature) -> None:
    from parliament import analyze_policy_string

    text = (ROOT / "deploy" / "iam" / f"{feature}.json").read_text()
    findings = analyze_policy_string(text, include_community_auditors=True).findings
    unexpected = [
        (f.issue, f.detail)
        for f in findings
        if f.issue not in ACCEPTED or not ACCEPTED[f.issue](f.detail)
    ]
    assert unexpected == []


# CloudFormation ----------------------------------------------------------------------------------


def cfn_lint(text: str) -> list[str]:
    """cfn-lint's errors and warnings, as its command line reports them (not informational)."""
    from cfnlint.api import lint_all

    return [str(match) for match in lint_all(text) if match.rule.id[0] in "EW"]


@pytest.mark.parametrize("name", ["bot-role.json", "member-role.json"])
def test_cfn_lint_passes(name: str) -> None:
    assert cfn_lint((ROOT / "deploy" / "cloudformation" / name).read_text()) == []


def test_cfn_lint_would_catch_a_broken_template() -> None:
    template = json.loads((ROOT / "deploy" / "cloudformation" / "bot-role.json").read_text())
    template["Resources"]["LookupsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0][
        "Effect"
    ] = "Perhaps"
    assert cfn_lint(json.dumps(template))


def test_member_roles_trust_only_the_bot_role_with_the_external_id() -> None:
    template = json.loads((ROOT / "deploy" / "cloudformation" / "member-role.json").read_text())
    role = template["Resources"]["WhoCreatedMemberRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "BotRoleArn"}}
    assert trust["Condition"]["Fn::If"][1] == {
        "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}
    }
    # Changes are off until asked for.
    assert template["Parameters"]["EnableActions"]["Default"] == "false"
    assert template["Resources"]["ActionsPolicy"]["Condition"] == "ActionsEnabled"


# Kubernetes --------------------------------------------------------------------------------------


def kubernetes_objects() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append((path.name, document))
    return found


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {name for name, _ in kubernetes_objects()}


@pytest.mark.parametrize(("name", "document"), kubernetes_objects(), ids=lambda v: str(v)[:30])
def test_kubernetes_objects_pass_their_schema(name: str, document: dict[str, Any]) -> None:
    import kubernetes_validate

    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def deployment() -> dict[str, Any]:
    return next(d for _, d in kubernetes_objects() if d["kind"] == "Deployment")


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_pod_runs_as_the_images_numeric_user_on_a_read_only_root() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    [container] = pod["containers"]
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile(), flags=re.MULTILINE)
    assert user and int(user[1]) >= 1000
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(user[1])
    assert pod["securityContext"]["runAsGroup"] == int(user[2])
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    # The state folder (XDG_STATE_HOME in the image) is a volume, so SQLite can write.
    state = re.search(r"XDG_STATE_HOME=(\S+)", dockerfile())
    assert state
    assert state[1] in {mount["mountPath"] for mount in container["volumeMounts"]}


def test_probes_port_and_grace() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    [container] = pod["containers"]
    exposed = re.search(r"^EXPOSE (\d+)$", dockerfile(), flags=re.MULTILINE)
    assert exposed
    [port] = container["ports"]
    assert port["containerPort"] == int(exposed[1])
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    env = {item["name"]: item.get("value") for item in container["env"]}
    grace = int(env.get("WHOCREATED_GRACE_S") or DEFAULT_GRACE_S)
    assert pod["terminationGracePeriodSeconds"] > grace
    assert container["args"] == ["whocreated", "serve"]
    assert container["envFrom"] == [{"secretRef": {"name": "whocreated"}}]


def test_the_service_reaches_the_http_port() -> None:
    service = next(d for _, d in kubernetes_objects() if d["kind"] == "Service")
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    assert service["spec"]["selector"] == deployment()["spec"]["selector"]["matchLabels"]
