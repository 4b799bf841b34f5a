"""Command line: serve, lookup, scan, types, demo, check, health. The only module that prints.

Exit codes (DESIGN.md §3): 0 done, 1 ran but something not found, 2 bad input or configuration,
3 AWS or Slack unreachable or denied; when several apply: 2 > 3 > 1 > 0.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from bot import logs
from bot.config import ConfigError, Settings, check_region, load_settings
from bot.core import refs
from bot.core.answers import LookupAnswer, Reason, to_json
from bot.core.terminal import render_answer
from bot.errors import Unavailable, UsageError

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_NOT_FOUND, EXIT_BAD_INPUT, EXIT_UNAVAILABLE = 0, 1, 2, 3
_SEVERITY = {EXIT_OK: 0, EXIT_NOT_FOUND: 1, EXIT_UNAVAILABLE: 2, EXIT_BAD_INPUT: 3}


def worst(*codes: int) -> int:
    """Combine exit codes: 2 > 3 > 1 > 0."""
    return max(codes, key=_SEVERITY.__getitem__, default=EXIT_OK)


NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
)


__all__ = ["Unavailable", "UsageError", "main"]


BAD_INPUT = "bad input or configuration (one line on stderr)"
UNAVAILABLE = "AWS or Slack unreachable or denied"


def _epilog(example: str, codes: dict[int, str]) -> str:
    """A command's help ends with an example and its exit codes."""
    lines = [f"  {code}  {meaning}" for code, meaning in codes.items()]
    if len(codes) > 2:
        lines.append("  when several apply: 2 > 3 > 1 > 0")
    return f"example:\n  {example}\n\nexit codes:\n" + "\n".join(lines)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("whocreated")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _common_options(defaults: bool) -> argparse.ArgumentParser:
    """--log-format and --log-level, accepted before or after the command. Only the top parser
    holds defaults: a command's own copy would otherwise overwrite what came before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text" if defaults else argparse.SUPPRESS,
        help="text (default) or one JSON object per line",
    )
    common.add_argument(
        "--log-level",
        choices=tuple(logs.LEVELS),
        default=logs.DEFAULT_LEVEL if defaults else argparse.SUPPRESS,
        help="default info; debug also shows tracebacks",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whocreated",
        description="Who created this AWS resource? Answers from CloudTrail, in Slack and here.",
        epilog="Run `whocreated COMMAND --help` for a command's options, an example and its exit "
        "codes.",
        parents=[_common_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"whocreated {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options(defaults=False)

    def command(name: str, summary: str, description: str, epilog: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, width=78),
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )

    serve = command(
        "serve",
        "run the Slack app (Socket Mode or HTTP)",
        "Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT "
        "(POST /slack/events, GET /healthz), plus the patrol rounds on the policy's schedule.",
        _epilog(
            "whocreated serve --log-level debug",
            {0: "stopped cleanly", 2: BAD_INPUT, 3: "Slack refused a token or is unreachable"},
        ),
    )
    serve.add_argument(
        "--no-scheduler", action="store_true", help="do not run scheduled patrol rounds"
    )

    lookup = command(
        "lookup",
        "who created these resources?",
        "Who created each resource, from CloudTrail (or from CloudTrail log files). An ID is an "
        "EC2-style id, an ARN, s3://bucket or a bare name. An ARN is searched in its own "
        "account; any other ID in the account given with --account, else in the own account "
        "and every account [accounts] configures, side by side.",
        _epilog(
            "whocreated lookup i-0dbc91f429e48eeed vol-0a2e548958718390d --region us-east-1",
            {
                0: "every ID's creation found",
                1: "ran, but something was not found",
                2: BAD_INPUT,
                3: UNAVAILABLE,
            },
        ),
    )
    lookup.add_argument("ids", nargs="+", metavar="ID", help="resource id, ARN or name")
    lookup.add_argument("--region", help="search this region only")
    lookup.add_argument(
        "--account",
        metavar="ID",
        help="search this account only (the own one, or one [accounts] configures)",
    )
    lookup.add_argument(
        "--trail-logs",
        nargs="+",
        metavar="PATH",
        help="read CloudTrail log files, folders or s3://BUCKET/PREFIX instead of calling AWS",
    )
    lookup.add_argument("--json", action="store_true", help="one JSON object per line")

    scan = command(
        "scan",
        "one patrol round: idle resources, owners, cost",
        "One patrol round now: the idle resources of every configured account and region, who "
        "created each and what it costs. Read-only unless --notify.",
        _epilog(
            "whocreated scan --json > idle.jsonl",
            {
                0: "done",
                2: BAD_INPUT,
                3: "nothing could be looked at: "
                + UNAVAILABLE
                + "; with --notify, Slack refused the bot token or is unreachable",
            },
        ),
    )
    scan.add_argument("--json", action="store_true", help="one JSON object per idle resource")
    scan.add_argument("--notify", action="store_true", help="send the owners their digests")

    demo = command(
        "demo",
        "the whole flow against a simulated sandbox account, no credentials needed",
        "Lookups, a patrol round, each owner's digest, Keep and a dry-run Terminate, against a "
        "simulated AWS account and a stand-in Slack. Needs the demo extra "
        "(pip install 'whocreated[demo]'); ignores .env's AWS settings and the policy file.",
        _epilog(
            "whocreated demo --serve --owner U012AB3CD",
            {0: "done", 2: "the demo extra is missing, or bad input", 3: "Slack unreachable"},
        ),
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="connect the sandbox to your Slack workspace (tokens from .env) and serve",
    )
    demo.add_argument(
        "--owner",
        metavar="U…",
        help="with --serve: the Slack member id every sandbox person maps to (gets the digests)",
    )

    types = command(
        "types",
        "which resource types lookups answer, and by which creation events",
        "List every resource type whose creation a lookup can answer: its CloudFormation type, "
        "service, ARN formats and id patterns, the CloudTrail events that create it, whether "
        "that rule is hand-written or generated from CloudFormation's schemas, and whether its "
        "ARN can be asked. Reads no AWS account.",
        _epilog(
            "whocreated types --json",
            {0: "listed", 2: BAD_INPUT},
        ),
    )
    types.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per type: cfn_type, service, arn_formats, id_patterns, events, "
        "rule, answerable_by_arn",
    )
    command(
        "check",
        "check configuration, Slack auth and AWS permissions",
        "Check the configuration, the Slack tokens (auth.test, the scopes, a Socket Mode "
        "connection, membership of each configured channel) and every AWS permission the "
        "configured features need, and say what is missing.",
        _epilog(
            "whocreated check",
            {
                0: "everything needed is in place (optional permissions may be missing)",
                2: "configuration missing or wrong",
                3: "a token, permission or channel is refused, or AWS or Slack unreachable",
            },
        ),
    )
    command(
        "health",
        "exit 0 when the running instance is healthy",
        "Exit 0 when the instance running on this machine is healthy: its /healthz answers "
        "(HTTP mode) or its Socket Mode heartbeat is fresh. For container and Kubernetes probes.",
        _epilog("whocreated health", {0: "healthy", 3: "unhealthy"}),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_format, args.log_level)
    try:
        if args.command == "lookup":
            return run_lookup(args, sys.stdout)
        if args.command == "scan":
            return run_scan(args, sys.stdout, sys.stderr)
        if args.command == "types":
            return run_types(args, sys.stdout)
        if args.command == "demo":
            return run_demo(args, sys.stdout)
        if args.command == "serve":
            from bot.serve import serve

            return serve(_settings(), scheduler=not args.no_scheduler)
        if args.command == "check":
            from bot.checks import run_checks

            return run_checks(_settings(), sys.stdout)
        if args.command == "health":
            from bot.serve import health

            return health(_settings(), sys.stdout)
    except (UsageError, ConfigError) as error:
        print(f"whocreated: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Unavailable as error:
        print(f"whocreated: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        slack = _slack_failure(error)
        if slack is None:
            raise
        print(f"whocreated: {slack}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    raise AssertionError(f"unhandled command {args.command}")


def _slack_failure(error: Exception) -> str | None:
    """One line for a Slack error that reached the top (a token refused mid-start, Slack
    unreachable), or None for anything else, which keeps its traceback."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    if isinstance(error, SlackApiError):
        return f"Slack refused a request: {error.response.get('error')}"
    if isinstance(error, SlackClientError):
        return f"Slack is unreachable: {error}"
    return None


def _settings() -> Settings:
    return load_settings()


def run_lookup(args: argparse.Namespace, out: TextIO) -> int:
    # Every id is validated before anything is printed or asked.
    # An empty --region or --account is a mistake, not "any".
    parsed = []
    region = check_region(args.region) if args.region is not None else None
    try:
        account = refs.account_id(args.account) if args.account is not None else None
        for text in args.ids:
            ref = refs.in_region(refs.in_account(refs.parse(text), account), region)
            parsed.append(ref if args.trail_logs else refs.in_known_region(ref))
    except refs.InvalidReference as error:
        raise UsageError(str(error)) from error
    if args.trail_logs:
        answers = _answers_from_logs(parsed, args.trail_logs, region)
    else:
        answers = _answers_from_aws(parsed, region)
    now = datetime.now(UTC)
    codes = [EXIT_OK]
    for answer in answers:
        if args.json:
            out.write(json.dumps(to_json(answer)) + "\n")
        else:
            out.write(render_answer(answer, now=now) + "\n\n")
        out.flush()
        codes.append(_exit_code(answer))
    return worst(*codes)


def run_types(args: argparse.Namespace, out: TextIO) -> int:
    from bot.registry.coverage import coverage, render

    rows = coverage()
    if args.json:
        out.writelines(json.dumps(row) + "\n" for row in rows)
    else:
        out.write(render(rows) + "\n")
    return EXIT_OK


def _exit_code(answer: LookupAnswer) -> int:
    if answer.found:
        return EXIT_OK
    return EXIT_UNAVAILABLE if answer.reason is Reason.DENIED else EXIT_NOT_FOUND


def _answers_from_logs(
    parsed: list[refs.ResourceRef], paths: list[str], region: str | None
) -> list[LookupAnswer]:
    from bot.aws.trail_files import TrailLogsError, TrailLogsUnavailable, find_in_logs

    try:
        answers, stats = find_in_logs(
            parsed, paths, region=region, s3_client=functools.cache(_s3_for_logs)
        )
    except TrailLogsError as error:
        raise UsageError(str(error)) from error
    except TrailLogsUnavailable as error:
        raise Unavailable(str(error)) from error
    skipped = ", ".join(f"{count} {why}" for why, count in sorted(stats.skipped.items()))
    logger.info(
        "searched %d files (%.1f MB), parsed %d that may name an id (%d records)%s",
        stats.files_read,
        stats.bytes_searched / 2**20,
        stats.files_parsed,
        stats.records,
        f"; skipped {skipped}" if skipped else "",
    )
    return answers


def _s3_for_logs() -> object:
    """An S3 client for `--trail-logs s3://…`, made only when one is given. Any region will do
    (S3 redirects to the bucket's); credentials from the usual chain; a connection for each
    object read at once."""
    from botocore.config import Config

    from bot.aws.trail_files import S3_READERS
    from bot.wiring import AWS_CLIENT_CONFIG, AwsClients

    settings = load_settings()
    _require_credentials()
    config = AWS_CLIENT_CONFIG.merge(Config(max_pool_connections=S3_READERS))
    return AwsClients(config=config)("s3", settings.aws_region or "us-east-1")


def _answers_from_aws(parsed: list[refs.ResourceRef], region: str | None) -> list[LookupAnswer]:
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    from bot.wiring import build

    settings = load_settings()
    if region is None and not all(ref.home_region for ref in parsed):
        settings.require_region()
    _require_credentials(", or use --trail-logs")
    from bot.store import Store

    # Only lookups may go on without the store: answers come, they are just not remembered.
    services = build(settings, with_app=False, store=Store.open_or_memory(settings.database_url))
    _check_accounts(services, parsed)
    try:
        # Lookups of several ids run side by side; answers are printed in the order given.
        return list(services.executor.map(lambda ref: services.lookups.lookup(ref, region), parsed))
    except NoCredentialsError as error:
        raise Unavailable(f"{NO_CREDENTIALS}, or use --trail-logs") from error
    except BotoCoreError as error:
        raise Unavailable(f"AWS is unreachable: {error}") from error
    finally:
        services.executor.shutdown(wait=False, cancel_futures=True)


def _check_accounts(services: Services, parsed: list[refs.ResourceRef]) -> None:
    """Every account named (by an ARN or --account) is one lookups may search: exit 2 before
    any lookup, else. Listing an organization's accounts may ask AWS."""
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    from bot.aws.accounts import UnknownAccount

    try:
        for account in dict.fromkeys(ref.account for ref in parsed if ref.account):
            services.account_clients.check(account)
    except UnknownAccount as error:
        raise UsageError(str(error)) from error
    except NoCredentialsError as error:
        raise Unavailable(f"{NO_CREDENTIALS}, or use --trail-logs") from error
    except BotoCoreError as error:
        raise Unavailable(f"AWS is unreachable: {error}") from error


def run_scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    from bot.core.terminal import finding_json, render_scan
    from bot.store import Store, StoreUnavailable
    from bot.wiring import build, build_patrol

    settings = load_settings()
    settings.require_region()
    web_client = None
    if args.notify:
        from bot.slack.app import build_web_client

        settings.require_bot_token("--notify needs SLACK_BOT_TOKEN to send digests")
        web_client = build_web_client(settings)
    _require_credentials()
    try:
        store = Store.open(settings.database_url)
    except StoreUnavailable as error:
        raise Unavailable(str(error)) from error
    services = build(settings, with_app=False, store=store)
    patrol, notifier = build_patrol(services, web_client)
    progress = _progress(err) if err.isatty() else None
    try:
        if args.notify and notifier is not None:
            from bot.notify_run import notify_round

            run = notify_round(services, patrol, notifier, progress=progress)
            if run.result is None:
                err.write(f"whocreated: {run.not_run}\n")
                return EXIT_OK
            result, summary = run.result, run.summary()
        else:
            result = patrol.run(progress=progress)
            summary = result.summary()
    except NoCredentialsError as error:
        raise Unavailable(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID"
        ) from error
    except BotoCoreError as error:
        raise Unavailable(f"AWS is unreachable: {error}") from error
    finally:
        if progress:
            err.write("\r\033[K")
    if args.json:
        for finding in result.findings:
            out.write(json.dumps(finding_json(finding)) + "\n")
        out.write(json.dumps({"summary": summary}) + "\n")
    else:
        out.write(render_scan(result.findings, summary) + "\n")
        if "delivery" in summary:
            delivery = summary["delivery"]
            out.write(
                f"sent {delivery['digests_sent']} digests about {delivery['resources_nudged']} "
                f"resources; {delivery['deferred_outside_hours']} wait for their owners' working "
                f"hours, {delivery['waiting_for_interval']} were nudged recently"
                + (
                    f"; {delivery['delivery_failures']} failed and are retried by the next "
                    "`scan --notify` or `serve`"
                    if delivery["delivery_failures"]
                    else ""
                )
                + (
                    f"; {delivery['delivery_given_up']} can never be delivered (see the log): "
                    "their resources are routed again by the next round"
                    if delivery.get("delivery_given_up")
                    else ""
                )
                + "\n"
            )
    if result.scanned == 0 and result.notes:
        return EXIT_UNAVAILABLE  # nothing could be looked at: denied or unreachable everywhere
    return EXIT_OK


DEMO_REGION = "eu-west-1"


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    """`whocreated demo [--serve]`: the sandbox only; `.env`'s AWS settings, AWS_* variables and
    the policy file are never read (--serve reads only Slack's settings from `.env`)."""
    _sandbox_environment()
    # The demo prints its own story; the product's info logs would interleave with it.
    logging.getLogger("bot").setLevel(logging.WARNING)
    from bot.sandbox.seed import SandboxUnavailable

    try:
        if args.serve:
            from bot.demo_serve import serve_demo

            return serve_demo(out, owner=args.owner)
        if args.owner:
            raise UsageError("--owner is for --serve (whose Slack user gets the digests)")
        from bot.demo import run_demo as demo

        return demo(out)
    except SandboxUnavailable as error:
        raise UsageError(str(error)) from error


def _sandbox_environment() -> None:
    """Before anything makes a boto3 session: no real profile, key, endpoint or region."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="sandbox",
        AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_REGION=DEMO_REGION,
        AWS_DEFAULT_REGION=DEMO_REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )


def _progress(err: TextIO) -> Callable[[str], None]:
    def show(message: str) -> None:
        err.write(f"\r\033[K{message}")
        err.flush()

    return show


def _require_credentials(hint: str = "") -> None:
    """No credentials anywhere in boto3's chain: say so once, before any call fails on it."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        credentials = boto3.Session().get_credentials()
    except BotoCoreError as error:
        raise Unavailable(f"AWS credentials could not be loaded: {error}") from error
    if credentials is None:
        raise Unavailable(NO_CREDENTIALS + hint)
