"""iam:SimulatePrincipalPolicy for tests: moto has no policy simulator.

Attached to a real boto3 IAM client, it answers in botocore's `before-call` event, after botocore
has validated and serialized the request, as IAM does: one EvaluationResult per action named,
with ResourceSpecificResults for each resource given; `allowed`, `implicitDeny` with the
condition keys the decision needed (`MissingContextValues`) for conditional actions, and
`implicitDeny` for the rest. `refuse="AccessDenied"` answers every call with that error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from botocore.awsrequest import AWSResponse


class SimulatedIam:
    def __init__(
        self,
        allowed: Iterable[str] = (),
        *,
        conditional: Mapping[str, list[str]] | None = None,
        refuse: str | None = None,
    ) -> None:
        self.allowed = set(allowed)
        self.conditional = dict(conditional or {})
        self.refuse = refuse
        self.requests: list[dict[str, list[str] | str]] = []

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.iam.SimulatePrincipalPolicy", self._answer)

    def _answer(self, params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = _query(params.get("body") or {})
        self.requests.append(request)
        if self.refuse:
            error = {"Error": {"Code": self.refuse, "Message": "not allowed", "Type": "Sender"}}
            error["ResponseMetadata"] = {"HTTPStatusCode": 403}
            return AWSResponse("https://iam.invalid/", 403, {}, None), error
        resources = list(request.get("ResourceArns", [])) or ["*"]
        results = [self._result(str(name), resources) for name in request["ActionNames"]]
        parsed = {
            "EvaluationResults": results,
            "IsTruncated": False,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return AWSResponse("https://iam.invalid/", 200, {}, None), parsed

    def _result(self, action: str, resources: list[str]) -> dict[str, Any]:
        missing = self.conditional.get(action, [])
        decision = "allowed" if action in self.allowed else "implicitDeny"
        result: dict[str, Any] = {
            "EvalActionName": action,
            "EvalResourceName": "*" if resources == ["*"] else resources[0],
            "EvalDecision": decision,
            "MissingContextValues": missing,
        }
        if resources != ["*"]:
            result["ResourceSpecificResults"] = [
                {
                    "EvalResourceName": resource,
                    "EvalResourceDecision": decision,
                    "MissingContextValues": missing,
                }
                for resource in resources
            ]
        return result


def _query(body: Any) -> dict[str, Any]:
    """ActionNames.member.1=… → {"ActionNames": […]} (IAM's query protocol)."""
    fields = dict(body) if isinstance(body, Mapping) else dict(parse_qsl(_text(body)))
    request: dict[str, Any] = {}
    for key, value in sorted(fields.items(), key=lambda item: _order(item[0])):
        name, _, member = key.partition(".member.")
        if member:
            request.setdefault(name, []).append(value)
        else:
            request[name] = value
    return request


def _text(body: Any) -> str:
    return body.decode() if isinstance(body, bytes) else str(body)


def _order(key: str) -> tuple[str, int]:
    name, _, member = key.partition(".member.")
    return (name, int(member) if member.isdigit() else 0)
