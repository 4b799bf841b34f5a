"""Command line: serve, lookup, scan, types, demo, check, health. The only module that prints.

Exit codes (DESIGN.md §3): 0 done, 1 ran but something not found, 2 bad input or configuration,
3 AWS or Slack unreachable or denied; when several apply: 2 > 3 > 1 > 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from bot import logs
from bot.config import ConfigError, Settings, check_region, load_settings
from bot.core import refs
from bot.core.answers import LookupAnswer, Reason, to_json
from bot.core.terminal import render_answer

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_NOT_FOUND, EXIT_BAD_INPUT, EXIT_UNAVAILABLE = 0, 1, 2, 3
_SEVERITY = {EXIT_OK: 0, EXIT_NOT_FOUND: 1, EXIT_UNAVAILABLE: 2, EXIT_BAD_INPUT: 3}


def worst(*codes: int) -> int:
    """Combine exit codes: 2 > 3 > 1 > 0."""
    return max(codes, key=_SEVERITY.__getitem__, default=EXIT_OK)


NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
)


class UsageError(Exception):
    """Bad input or configuration: one line on stderr, exit 2."""


class Unavailable(Exception):
    """AWS or Slack unreachable or denied: one line on stderr, exit 3."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whocreated",
        description="Who created this AWS resource? Answers from CloudTrail, in Slack and here.",
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the Slack app (Socket Mode or HTTP)")
    serve.add_argument(
        "--no-scheduler", action="store_true", help="do not run scheduled patrol rounds"
    )

    lookup = commands.add_parser("lookup", help="who created these resources?")
    lookup.add_argument("ids", nargs="+", metavar="ID", help="resource id, ARN or name")
    lookup.add_argument("--region", help="search this region only")
    lookup.add_argument(
        "--trail-logs",
        nargs="+",
        metavar="PATH",
        help="read CloudTrail log files or folders instead of calling AWS",
    )
    lookup.add_argument("--json", action="store_true", help="one JSON object per line")

    scan = commands.add_parser("scan", help="one patrol round: idle resources, owners, cost")
    scan.add_argument("--json", action="store_true", help="one JSON object per idle resource")
    scan.add_argument("--notify", action="store_true", help="send the owners their digests")

    demo = commands.add_parser(
        "demo", help="the whole flow against a simulated sandbox account, no credentials needed"
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

    _add_types_parser(commands)

    commands.add_parser("check", help="check configuration, Slack auth and AWS permissions")
    commands.add_parser("health", help="exit 0 when the running instance is healthy")
    return parser


def _add_types_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    types = commands.add_parser(
        "types",
        help="which resource types lookups answer, and by which creation events",
        description=(
            "List every resource type whose creation a lookup can answer: its CloudFormation "
            "type, service, ARN formats and id patterns, the CloudTrail events that create it, "
            "whether that rule is hand-written or generated from CloudFormation's schemas, and "
            "whether its ARN can be asked. Reads no AWS account."
        ),
        epilog=(
            "example:\n"
            '  whocreated types --json | grep \'"service": "ssm"\'\n\n'
            "exit codes: 0 listed; 2 bad option"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    types.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per type: cfn_type, service, arn_formats, id_patterns, events, "
        "rule, answerable_by_arn",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_format)
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
    raise AssertionError(f"unhandled command {args.command}")


def _settings() -> Settings:
    return load_settings()


def run_lookup(args: argparse.Namespace, out: TextIO) -> int:
    # Every id is validated before anything is printed or asked.
    parsed = []
    for text in args.ids:
        try:
            parsed.append(refs.parse(text))
        except refs.InvalidReference as error:
            raise UsageError(str(error)) from error
    region = check_region(args.region) if args.region else None
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
    from bot.aws.trail_files import TrailLogsError, find_in_logs

    try:
        answers, stats = find_in_logs(parsed, paths, region=region)
    except TrailLogsError as error:
        raise UsageError(str(error)) from error
    skipped = ", ".join(f"{count} {why}" for why, count in sorted(stats.skipped.items()))
    logger.info(
        "read %d records from %d files%s",
        stats.records,
        stats.files_read,
        f" (skipped {skipped})" if skipped else "",
    )
    return answers


def _answers_from_aws(parsed: list[refs.ResourceRef], region: str | None) -> list[LookupAnswer]:
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    from bot.wiring import build

    settings = load_settings()
    if region is None and not all(ref.home_region for ref in parsed):
        settings.require_region()
    _require_credentials(", or use --trail-logs")
    services = build(settings, with_app=False)
    try:
        # Lookups of several ids run side by side; answers are printed in the order given.
        return list(services.executor.map(lambda ref: services.lookups.lookup(ref, region), parsed))
    except NoCredentialsError as error:
        raise Unavailable(f"{NO_CREDENTIALS}, or use --trail-logs") from error
    except BotoCoreError as error:
        raise Unavailable(f"AWS is unreachable: {error}") from error
    finally:
        services.executor.shutdown(wait=False, cancel_futures=True)


def run_scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    from bot.core.terminal import finding_json, render_scan
    from bot.wiring import build, build_patrol

    settings = load_settings()
    settings.require_region()
    web_client = None
    if args.notify:
        from bot.slack.app import build_web_client

        if not settings.slack_bot_token:
            raise UsageError("--notify needs SLACK_BOT_TOKEN (the xoxb- bot token) to send digests")
        web_client = build_web_client(settings)
    _require_credentials()
    services = build(settings, with_app=False)
    patrol, notifier = build_patrol(services, web_client)
    progress = _progress(err) if err.isatty() else None
    try:
        result = patrol.run(progress=progress)
    except NoCredentialsError as error:
        raise Unavailable(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID"
        ) from error
    except BotoCoreError as error:
        raise Unavailable(f"AWS is unreachable: {error}") from error
    finally:
        if progress:
            err.write("\r\033[K")
    summary = result.summary()
    if args.notify and notifier is not None:
        summary["delivery"] = notifier.deliver(result.findings, result.round_id).summary()
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
                f"hours, {delivery['waiting_for_interval']} were nudged recently\n"
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
