"""The key that signs the bot's tags (bot.core.created_by.TagSigner).

`WHOCREATED_TAG_KEY` when set (every replica and every `whocreated lookup` then agree without
sharing a database); otherwise a random key made once and kept in the store, which every replica
on the same database shares.
"""

from __future__ import annotations

import secrets

from bot.config import ConfigError
from bot.core.created_by import TagSigner
from bot.store import Store

SECRET_NAME = "tag-signing-key"
MIN_KEY_LENGTH = 32


def tag_signer(configured: str | None, store: Store) -> TagSigner:
    if configured is not None:
        if len(configured) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"WHOCREATED_TAG_KEY must be at least {MIN_KEY_LENGTH} characters "
                "(e.g. the output of `openssl rand -hex 32`)"
            )
        return TagSigner(configured.encode())
    return TagSigner(store.secret(SECRET_NAME, lambda: secrets.token_hex(32)).encode())
