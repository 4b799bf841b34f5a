"""Turn what a user typed (an id, an ARN, a bare name) into a ResourceRef.

Pure: no AWS calls. What a type's ids and ARNs look like is the type registry's (bot/registry):
an ARN of any service parses to its service, type and id there.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from bot import registry
from bot.registry import declared
from bot.registry.references import EC2_HEX_LENGTHS, EC2_ID
from bot.registry.regions import is_known_region

MAX_REFERENCE_LENGTH = 2000


class InvalidReference(ValueError):
    """The text cannot name an AWS resource; the message says why, in plain words."""


# Views of the type registry (bot/registry) for callers that read these tables: EC2-style id
# prefix → type, and ARN (service, resource kind) → type of the hand-written declarations.
ID_PREFIXES: dict[str, str] = {
    prefix: known.cfn_type for known in declared.TYPES for prefix in known.id_prefixes
}
ARN_TYPES: dict[tuple[str, str], str] = {
    (known.service, re.split(r"[/:$]", part, maxsplit=1)[0]): known.cfn_type
    for known in declared.TYPES
    for part in known.arns[:1]
}
GLOBAL_SERVICE_HOME = declared.GLOBAL_SERVICE_HOME
_SERVICE_OF_TYPE = {known.cfn_type: known.service for known in declared.TYPES}
_ID = EC2_ID
_HEX_LENGTHS = EC2_HEX_LENGTHS
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ResourceRef:
    """A resource as the user named it, with what the text alone tells about it."""

    given: str
    id: str
    type: str | None = None
    service: str | None = None
    region: str | None = None
    account: str | None = None
    partition: str = "aws"
    arn: str | None = None

    @property
    def search_names(self) -> tuple[str, ...]:
        """Values to try as CloudTrail's ResourceName: the ARN first, then the id or name."""
        names = [self.arn] if self.arn else []
        if self.id and self.id not in names:
            names.append(self.id)
        return tuple(names)

    @property
    def has_unique_id(self) -> bool:
        """True for ids AWS never reuses (i-…, vol-…); names and name ARNs can be reused."""
        return bool(_ID.match(self.id)) and (self.type or "").startswith("AWS::EC2")

    @property
    def home_region(self) -> str | None:
        """The region to search: the ARN's, else a global service's home region."""
        if self.region:
            return self.region
        return registry.home_region(self.service, self.partition)


def parse(text: str) -> ResourceRef:
    """Parse an id, ARN, `s3://bucket` or bare name; raise InvalidReference with a clear message."""
    given = text
    text = text.strip()
    if not text:
        raise InvalidReference("no resource given: try an id like i-0abc123…, an ARN, or a name")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise InvalidReference(
            f"resource reference is {len(text):,} characters long; "
            f"AWS ids and ARNs are at most {MAX_REFERENCE_LENGTH:,}"
        )
    if _CONTROL.search(text):
        raise InvalidReference("resource reference contains control characters")
    if any(ch.isspace() for ch in text):
        raise InvalidReference(
            f"resource reference {text[:80]!r} contains whitespace; give one id, ARN or name"
        )
    if text.startswith("arn:"):
        return _parse_arn(given, text)
    if text.startswith("s3://"):
        bucket = text.removeprefix("s3://").split("/", 1)[0]
        if not bucket:
            raise InvalidReference("s3:// needs a bucket name, e.g. s3://my-bucket")
        return ResourceRef(given=given, id=bucket, type="AWS::S3::Bucket", service="s3")
    return _parse_id_or_name(given, text)


def _parse_id_or_name(given: str, text: str) -> ResourceRef:
    match = _ID.match(text.lower())
    if match and match["prefix"] in ID_PREFIXES:
        if len(match["hex"]) not in _HEX_LENGTHS:
            kind = ID_PREFIXES[match["prefix"]].rsplit("::", 1)[-1]
            raise InvalidReference(
                f"{text!r} looks like an {kind} id, but those have 8 or 17 hex digits "
                f"after '{match['prefix']}-' (this one has {len(match['hex'])})"
            )
        rtype = ID_PREFIXES[match["prefix"]]
        return ResourceRef(
            given=given, id=text.lower(), type=rtype, service=_SERVICE_OF_TYPE[rtype]
        )
    if not re.fullmatch(r"[A-Za-z0-9._:/+=,@-]+", text):
        raise InvalidReference(
            f"{text[:80]!r} is not an AWS id, ARN or resource name "
            "(names use letters, digits and . _ - / : + = , @)"
        )
    return ResourceRef(given=given, id=text)


def _parse_arn(given: str, text: str) -> ResourceRef:
    parts = registry.parse_arn(text)
    if parts is None:
        raise InvalidReference(
            f"{text[:80]!r} is not a valid ARN: "
            "expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"
        )
    if not parts.resource_id or parts.resource_id.endswith(("/", ":")):
        raise InvalidReference(
            f"{text[:80]!r} names no resource: the id after {parts.resource[:40]!r} is missing"
        )
    return ResourceRef(
        given=given,
        id=parts.resource_id,
        type=parts.cfn_type,
        service=parts.service,
        region=parts.region,
        account=parts.account,
        partition=parts.partition,
        arn=text,
    )


_ACCOUNT_ID = re.compile(r"\d{12}")


def account_id(text: str) -> str:
    """An AWS account id as typed; InvalidReference unless it is 12 digits."""
    value = text.strip()
    if not _ACCOUNT_ID.fullmatch(value):
        raise InvalidReference(
            f"an account must be a 12-digit AWS account id, e.g. 123456789012 (got {value[:40]!r})"
        )
    return value


def in_account(ref: ResourceRef, account: str | None) -> ResourceRef:
    """The reference in the account asked for; an ARN naming another account is a mistake."""
    if account is None:
        return ref
    if ref.account and ref.account != account:
        raise InvalidReference(
            f"{ref.given.strip()[:80]} names account {ref.account}, but account {account} "
            "was asked for"
        )
    return dataclasses.replace(ref, account=account)


def in_region(ref: ResourceRef, region: str | None) -> ResourceRef:
    """The reference searched in the region asked for; an ARN naming another region is a
    mistake (it would be searched where it cannot be)."""
    if region is not None and ref.region and ref.region != region:
        raise InvalidReference(
            f"{ref.given.strip()[:80]} names region {ref.region}, but region {region} was asked for"
        )
    return ref


def home_region_for_service(service: str, partition: str = "aws") -> str | None:
    return registry.home_region(service, partition)


def in_known_region(ref: ResourceRef) -> ResourceRef:
    """The reference, when the region its ARN names is one AWS can be asked in (botocore's
    list); trail logs are read whatever regions their records name."""
    if ref.region is not None and not is_known_region(ref.region):
        raise InvalidReference(
            f"{ref.given[:80]!r} names an unknown AWS region {ref.region[:40]!r} "
            "(e.g. us-east-1, eu-west-1)"
        )
    return ref
