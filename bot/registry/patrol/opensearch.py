"""OpenSearch Service's patrol type: domains, with Keep and Not mine only.

No Delete button: deleting a domain deletes its indexes and its automated snapshots with it.
Keeping the data takes a manual snapshot first, into an S3 repository registered on the domain
(a bucket, and a role OpenSearch may assume, set up through the domain's own _snapshot API, often
behind its VPC and fine-grained access control): not something one button can do safely. The
owner is told; the deleting is theirs.
"""

from __future__ import annotations

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import opensearch
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.policy import LOOKBACK_DAYS
from bot.registry.patrol.spec import PatrolType

DOMAIN = PatrolType(
    cfn_type=opensearch.DOMAIN,
    short="opensearch_domain",
    noun="OpenSearch domain",
    plural="OpenSearch domains",
    rule=idle.opensearch_domain,
    idle_when=(
        "≤ {max_search_rate} searches and ≤ {max_indexing_rate} documents indexed a minute "
        "over {lookback_days} days (Keep and Not mine only: deleting takes its data)"
    ),
    limits=(LOOKBACK_DAYS, idle.MAX_SEARCH_RATE, idle.MAX_INDEXING_RATE),
    metrics=idle.OPENSEARCH_METRICS,
    series=idle.per_domain,
    price=costs.opensearch_domain,
    caveat=costs.fixed("data transfer not included"),
    inventory=Lister(
        "opensearch",
        opensearch.domains,
        ("es:ListDomainNames", "es:DescribeDomains", "es:DescribeDomainConfig", "es:ListTags"),
    ),
    tagging=Writer("opensearch", "es:AddTags", opensearch.write_tags, 1),
    hint=Reader(
        ("es:DescribeDomains", "es:DescribeDomainConfig", "es:ListTags"), opensearch.read_domain
    ),
    iam_resources=("arn:{partition}:es:*:*:domain/*",),
)

TYPES = (DOMAIN,)
