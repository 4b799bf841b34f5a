"""`whocreated scan --notify`: one round that sends the digests, with what `serve` does around its
rounds: this process announced alive (its instance lease), what a dead process left half done
settled first (decisions `acting`, digests `pending`), and the round lease, so a second
`scan --notify` or a replica's scheduled round at the same time does nothing. Slack is asked first
(auth.test): a refused token or an unreachable Slack ends the run before the round, instead of a
round whose owners all look like people without a Slack account. Digests the store could not
take are tried once more before it ends (there is no hourly retry to leave them to).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.deciding import Decisions
from bot.errors import Unavailable
from bot.leases import INSTANCE_PREFIX, INSTANCE_TTL, Lease
from bot.notifier import Notifier
from bot.patrol import Patrol
from bot.rounds import RoundRun, Rounds

logger = logging.getLogger(__name__)


def notify_round(
    services: Any,
    patrol: Patrol,
    notifier: Notifier,
    *,
    progress: Callable[[str], None] | None = None,
) -> RoundRun:
    check_slack(notifier.client)
    alive = Lease.claim(
        services.store,
        INSTANCE_PREFIX + services.holder,
        services.holder,
        ttl=INSTANCE_TTL,
        clock=services.clock,
    )
    assert alive is not None  # a fresh holder id is never taken
    with alive:
        decisions = Decisions.for_services(services, client=lambda: notifier.client)
        settled = decisions.settle_leftovers()
        if settled:
            logger.info("settled %d decisions left unfinished by a restart", settled)
        flushed = notifier.retry()
        if flushed.sent or flushed.found or flushed.failed or flushed.given_up:
            logger.info("digests pending from earlier: %s", flushed.summary())
        rounds = Rounds(
            patrol,
            notifier,
            store=services.store,
            holder=services.holder,
            clock=services.clock,
        )
        run = rounds.run(progress=progress)
        if len(notifier.unwritten):
            notifier.retry_unwritten()  # this process has no hourly retry: once more, now
            if left := len(notifier.unwritten):
                logger.warning(
                    "%d %s could still not be written to the store and end with this process: "
                    "the next round nudges their owners",
                    left,
                    "digest" if left == 1 else "digests",
                )
        return run


def check_slack(client: Any) -> None:
    """auth.test with the bot token: Unavailable (exit 3, one line) when Slack refuses it or
    cannot be reached."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        client.auth_test()
    except SlackApiError as error:
        raise Unavailable(f"Slack refused the bot token: {error.response.get('error')}") from error
    except (SlackClientError, OSError) as error:
        raise Unavailable(f"Slack is unreachable: {error}") from error
