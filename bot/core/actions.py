"""The buttons a nudge may offer, by name: their values are what the store and Slack carry.

Declaration order is the order buttons are shown in: Keep first, Not mine last.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    KEEP = "keep"
    STOP = "stop"
    PAUSE = "pause"  # a Redshift cluster: compute stops billing, storage stays
    ON_DEMAND = "on_demand"  # a provisioned DynamoDB table switched to on-demand capacity
    TERMINATE = "terminate"
    DELETE = "delete"
    RELEASE = "release"
    DEREGISTER = "deregister"  # an AMI: its snapshots stay
    NOT_MINE = "not_mine"
