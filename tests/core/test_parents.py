"""Which parents a resource names, from its tags and its creation request."""

from __future__ import annotations

from bot.core.parents import (
    AUTOSCALING_GROUP,
    CLOUDFORMATION_STACK,
    EKS_NODEGROUP,
    named_parents,
    record_tags,
)


def test_tag_lists_and_eks_tag_maps_are_both_read() -> None:
    listed = {
        "requestParameters": {
            "tagSpecificationSet": {
                "items": [{"tags": [{"key": "aws:autoscaling:groupName", "value": "web"}]}]
            }
        }
    }
    mapped = {"requestParameters": {"tags": {"eks:nodegroup-name": "ng-1", "team": ""}}}

    assert dict(record_tags(listed)) == {"aws:autoscaling:groupName": "web"}
    assert dict(record_tags(mapped)) == {"eks:nodegroup-name": "ng-1"}


def test_most_specific_first_names_from_arns_and_not_itself() -> None:
    tags = {
        "aws:autoscaling:groupName": "eks-ng-1-abc",
        "aws:cloudformation:stack-id": "arn:aws:cloudformation:eu-west-1:1:stack/shop/9f1e",
        "eks:nodegroup-name": "ng-1",
        "eks:cluster-name": "prod",
    }

    named = named_parents(own_type="AWS::EC2::Instance", own_id="i-1", tags=tags)
    as_group = named_parents(own_type=AUTOSCALING_GROUP, own_id="eks-ng-1-abc", tags=tags)

    assert [(p.type, p.name) for p in named][:1] == [(EKS_NODEGROUP, "ng-1")]
    assert named[0].cluster == "prod"
    assert (CLOUDFORMATION_STACK, "shop") in [(p.type, p.name) for p in named]
    assert AUTOSCALING_GROUP not in [p.type for p in as_group]  # a group is not its own parent
