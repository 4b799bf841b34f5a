"""Which AWS identity is which person, by rules nobody can satisfy by choosing a name.

DESIGN.md §4, Trust: the bot's buttons act with the bot's own role, so whoever it takes for a
resource's owner holds that power. An identity maps to a person only through:
- an explicit `[directory.users]` entry, keyed by the full ARN or by identity type and name
  (`user:alice` is the IAM user alice and never a role session called alice);
- an email, looked up in Slack, only where the name is not the caller's free choice: IAM Identity
  Center sessions (whose role lives under the reserved SSO path), sessions of roles the policy
  lists in `directory.trusted_session_roles` (e.g. assumed through SAML with the email as session
  name), and IAM users when `directory.email_domain` is set.
Any other session name is chosen by whoever called AssumeRole: shown as text, never a person.

Pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from bot.core.events import Actor

# The path IAM Identity Center gives the roles it makes; customers cannot create roles under it.
SSO_ROLE_RESOURCE = "role/aws-reserved/sso.amazonaws.com/"
SSO_ROLE_PREFIX = "AWSReservedSSO_"

# [directory.users] key prefixes: identity type → how a key names it.
USER_KEY, ROLE_KEY, SSO_KEY, FEDERATED_KEY = "user:", "role:", "sso:", "federated:"
KEY_PREFIXES = (USER_KEY, ROLE_KEY, SSO_KEY, FEDERATED_KEY)
# A bare key (no prefix, no ARN) is an IAM user name, as IAM allows them.
BARE_USER_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9._%+'-]+$")
_ASSUMED_ROLE_SESSION = re.compile(r":assumed-role/[^/]+/(?P<session>.+)$")


def is_sso_session(actor: Actor) -> bool:
    """An IAM Identity Center sign-in: its role is the one under the reserved SSO path, in the
    actor's own account. The ARN is read field by field: IAM paths may hold `:`, so a role named
    `/x:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_…` contains the path without being
    under it."""
    if actor.identity_type != "AssumedRole" or not actor.issuer_arn:
        return False
    if not (actor.role and actor.role.startswith(SSO_ROLE_PREFIX)):
        return False
    parts = actor.issuer_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3]:
        return False
    account, resource = parts[4], parts[5]
    if actor.account and account != actor.account:
        return False
    return resource.startswith(SSO_ROLE_RESOURCE) and resource.rsplit("/", 1)[-1] == actor.role


def session_name(actor: Actor) -> str | None:
    """The role session name, from the session's ARN (what the caller chose)."""
    match = _ASSUMED_ROLE_SESSION.search(actor.arn or "")
    return match["session"] if match else None


def mapping_keys(actor: Actor) -> tuple[str, ...]:
    """The `[directory.users]` keys that name this identity, most specific first."""
    keys: list[str] = []
    if actor.arn:
        keys.append(actor.arn)
    kind = actor.identity_type
    if kind == "IAMUser" and actor.name:
        keys += [f"{USER_KEY}{actor.name}", actor.name]
    elif kind == "AssumedRole":
        session = session_name(actor)
        if is_sso_session(actor) and session:
            keys.append(f"{SSO_KEY}{session.lower()}")
        if actor.role:
            keys.append(f"{ROLE_KEY}{actor.role}")  # every session of a role kept for one person
    elif kind == "FederatedUser" and actor.name:
        keys.append(f"{FEDERATED_KEY}{actor.name}")
    return tuple(keys)


def mapped_user(actor: Actor, users: Mapping[str, str]) -> str | None:
    """The Slack user an explicit mapping gives this identity, or None."""
    for key in mapping_keys(actor):
        found = users.get(key)
        if found is None and key.startswith(SSO_KEY):
            # Emails are compared without case; the mapping may spell them either way.
            found = next((v for k, v in users.items() if k.lower() == key), None)
        if found is not None:
            return found
    return None


def trusted_email(
    actor: Actor,
    *,
    email_domain: str | None,
    trusted_session_roles: Collection[str] = (),
) -> str | None:
    """The email to look this identity up by in Slack, where its name can be trusted; else None."""
    if actor.identity_type == "IAMUser":
        return _user_email(actor.name, email_domain) if email_domain else None
    if actor.identity_type != "AssumedRole":
        return None
    if not (is_sso_session(actor) or _is_trusted_role(actor, trusted_session_roles)):
        return None
    session = session_name(actor)
    if session and _EMAIL.match(session):
        return session.lower()
    if session and email_domain and _LOCAL_PART.match(session):
        return f"{session}@{email_domain}".lower()
    return None


def claimed_email(value: str, email_domain: str | None) -> str | None:
    """The email an owner tag's value names (an email, or a name under the domain); routing
    only: a tag grants nothing."""
    if _EMAIL.match(value):
        return value.lower()
    if email_domain and _LOCAL_PART.match(value):
        return f"{value}@{email_domain}".lower()
    return None


def _user_email(name: str | None, domain: str) -> str | None:
    if not name:
        return None
    if _EMAIL.match(name):
        # An IAM user named like a mailbox counts only in the organisation's own domain.
        return name.lower() if name.lower().endswith(f"@{domain.lower()}") else None
    return f"{name}@{domain}".lower() if _LOCAL_PART.match(name) else None


def _is_trusted_role(actor: Actor, trusted: Collection[str]) -> bool:
    """The policy names the role by name or by ARN (the ARN pins the account too)."""
    return bool(actor.role and actor.role in trusted) or bool(
        actor.issuer_arn and actor.issuer_arn in trusted
    )


def why_not_mapped(actor: Actor) -> str | None:
    """Plain words for why a named identity is not taken for a person, or None."""
    if actor.identity_type == "AssumedRole" and not is_sso_session(actor):
        return (
            f"its session name {actor.name} was chosen by whoever assumed the role "
            f"{actor.role or 'it came from'}, so it is not taken for a person"
        )
    return None


def is_mapping_key(key: str) -> bool:
    """What `[directory.users]` accepts as a key: an ARN, a typed name, or an IAM user name."""
    if key.startswith("arn:"):
        return key.count(":") >= 5
    if key.startswith(KEY_PREFIXES):
        return bool(key.split(":", 1)[1])
    return bool(BARE_USER_NAME.match(key))
