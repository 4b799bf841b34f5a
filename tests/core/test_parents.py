"""Which parents a resource names, from its tags and its creation request."""

from __future__ import annotations

from bot.core.parents import (
    AUTOSCALING_GROUP,
    CLOUDFORMATION_STACK,
    EKS_CLUSTER,
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

    # What AWS wrote (aws: tags) first, most specific first; then what only writable tags name.
    assert [(p.type, p.name, p.named_by_tag) for p in named] == [
        (CLOUDFORMATION_STACK, "shop", None),
        (AUTOSCALING_GROUP, "eks-ng-1-abc", None),
        (EKS_NODEGROUP, "ng-1", "eks:nodegroup-name"),
        (EKS_CLUSTER, "prod", "eks:cluster-name"),
    ]
    assert named[2].cluster == "prod"
    assert AUTOSCALING_GROUP not in [p.type for p in as_group]  # a group is not its own parent


def test_tags_the_parent_service_set_at_creation_are_its_word() -> None:
    """EKS's Auto Scaling group launched the node with eks: tags in the request: AWS named the
    node group. The same tags added later to the live resource are only a claim."""
    request = {
        "tagSpecificationSet": {
            "items": [
                {
                    "resourceType": "instance",
                    "tags": [
                        {"key": "eks:nodegroup-name", "value": "ng-1"},
                        {"key": "eks:cluster-name", "value": "prod"},
                    ],
                }
            ]
        }
    }
    by_autoscaling = {
        "userIdentity": {"type": "AssumedRole", "invokedBy": "autoscaling.amazonaws.com"},
        "requestParameters": request,
    }
    by_a_person = {"userIdentity": {"type": "IAMUser"}, "requestParameters": request}

    [node_group, cluster] = named_parents(own_type=None, own_id="i-1", record=by_autoscaling)
    assert (node_group.type, node_group.named_by_tag, node_group.cluster) == (
        EKS_NODEGROUP,
        None,
        "prod",
    )
    assert cluster.named_by_tag is None
    claimed = named_parents(own_type=None, own_id="i-1", record=by_a_person)
    assert [p.named_by_tag for p in claimed] == ["eks:nodegroup-name", "eks:cluster-name"]
