"""`whocreated demo` as a newcomer runs it: a subprocess with an empty environment (no AWS_* and
no SLACK_* variables, no `.env`), and again in a hostile one; its output must hold the answers,
each owner's digest, and the outcomes of Keep and a dry-run Terminate. `demo --serve` is checked
where it can be without a real workspace: its settings, its wiring, the digest to the owner."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.config import ConfigError
from bot.demo_serve import NO_OWNER, serve_demo, slack_settings
from bot.sandbox.slack_api import TOKEN, SlackApi

DEMO_TIMEOUT_S = 120


def empty_environment(tmp_path: Path) -> dict[str, str]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": str(state),
    }


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )


def section(output: str, start: str, ends: tuple[str, ...] = ("\n→ ", "\n\n")) -> str:
    """The text from `start` to the next message or paragraph break."""
    assert start in output, f"{start!r} not in the demo's output"
    rest = output.split(start, 1)[1]
    cut = min((rest.find(end) for end in ends if end in rest), default=len(rest))
    return rest[:cut]


def flat(text: str) -> str:
    """A rendered message as one line: wrapped lines joined, the message's margin gone."""
    return re.sub(r"\s*\n\s*│\s*", " ", text)


def check_demo_output(output: str) -> None:
    # /whocreated answers: creators and tools, as the real Slack app answered them.
    terraform = section(output, "(an instance made with Terraform)")
    assert "was created by @alice (alice)" in terraform and "How         Terraform" in terraform
    console = section(output, "(a volume made in the console)")
    assert "was created by @bob (bob)" in console and "How         Console" in console
    sso = section(output, "(a bucket made by an SSO session)")
    assert "was created by @carol (carol@example.com)" in sso
    assert "AWSReservedSSO_PowerUserAccess_" in sso
    launched = section(output, "(an instance Auto Scaling launched)")
    assert "was created by *autoscaling.amazonaws.com*" in launched
    assert "AWSServiceRoleForAutoScaling" in launched
    # … and the person behind it: who created the group (moto's Auto Scaling, described).
    assert "It was made for Auto Scaling group `web-asg`, which @bob (bob) created" in flat(
        launched
    )
    assert "*For* Auto Scaling group `web-asg`: created by *bob*" in flat(launched)
    assert "CreateAutoScalingGroup" in launched
    stacked = section(output, "(an instance CloudFormation launched for a stack)")
    assert "was created by @carol (carol@example.com)" in stacked
    assert "stack `shop-demo`, which @carol (carol@example.com) created" in flat(stacked)
    image = section(output, "(an image CloudTrail only mentions)")
    assert "I couldn't find who created `ami-" in image
    assert "*First event seen:* `RunInstances`" in image

    # The round's table: idle resources, owners, prices.
    table = section(output, "$ whocreated scan", ("\n\n3.",))
    for label, owner in [
        ("gpu-test", "dave"),
        ("web-old", "alice"),
        ("etl-nat", "carol@example.com"),
        ("bob-old-data", "bob"),
        ("shop-web", "carol@example.com"),
        ("alice-eip", "alice"),
        ("bob-scratch", "bob"),
        ("churn-model", "alice"),
        ("carol-research", "carol@example.com"),
        ("app-logs", "bob"),
        ("sessions", "alice"),
        ("analytics", "carol@example.com"),
        ("nightly-etl", "dave"),
        ("orders-archive", "bob"),
        ("bob-old-backup", "bob"),
        ("api-golden", "alice"),
    ]:
        row = next(line for line in table.splitlines() if line.strip().startswith(label))
        assert f" {owner} " in row, row
    assert "api-1" not in table and "carol-ci" not in table  # busy
    busy = ("recs", "site-search", "lookups", "spark-jobs", "events", "web-base", "bob-scratchpad")
    assert not [line for line in table.splitlines() if line.strip().startswith(busy)]
    assert re.search(r"18 idle of \d+ resources scanned in 2 regions", table)

    # One digest per owner, each with only their own resources, and the unknown owner's channel.
    digests = {
        who: section(output, f"→ direct message to @{who}\n", ("\n→ ", "\n\n"))
        for who in ("alice", "bob", "carol")
    }
    assert "web-old (" in digests["alice"] and "alice-eip (" in digests["alice"]
    assert "bob-old-data (" in digests["bob"] and "bob-scratch (" in digests["bob"]
    assert digests["bob"].count("web-asg (") == 2
    assert "through `AWS::AutoScaling::AutoScalingGroup web-asg`" in digests["bob"]
    assert "etl-nat (" in digests["carol"] and "shop-web (" in digests["carol"]
    assert "through `AWS::CloudFormation::Stack shop-demo`" in digests["carol"]
    for who, digest in digests.items():
        assert f"Hi @{who}:" in digest
        assert "[ Keep… ]" in digest
        others = {"alice": "web-old (", "bob": "bob-scratch (", "carol": "etl-nat ("}
        assert all(mark not in digest for name, mark in others.items() if name != who)
    fallback = section(output, "→ #aws-sandbox (owners whocreated could not reach)")
    assert "gpu-test (" in fallback and "nightly-etl (" in fallback

    # Keep, through the modal, with a reason; then a dry-run Terminate.
    keep = section(output, "4. @alice presses Keep… on web-old", ("\n5. ",))
    assert "(•) For 7 days" in keep  # the modal, as it opened
    assert re.search(r"Kept i-[0-9a-f]+ until \d{4}-\d{2}-\d{2}", keep)
    assert "Reason: Load test on Friday; I will remove it after." in keep
    assert "@alice chose *Keep*" in keep
    terminate = section(output, "5. @bob presses Terminate on bob-scratch", ("\nDone\n",))
    assert "Yes, terminate" in terminate  # the confirm dialog
    assert "Dry run: I would have terminated bob-scratch (i-" in terminate
    assert "Nothing was changed (actions are in dry-run mode)." in terminate
    assert "In the sandbox bob-scratch is still stopped" in terminate
    # Mentions and dates are shown as Slack shows them, never as raw markup.
    assert "<@U" not in output and "<!date" not in output


def test_the_demo_runs_with_an_empty_environment(tmp_path: Path) -> None:
    env = empty_environment(tmp_path)
    started = time.monotonic()
    done = run(["demo"], env, tmp_path)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    check_demo_output(done.stdout)
    assert elapsed < 60  # "well under a minute"; about 10 s on two cores
    # Answers from the sandbox never reach whocreated's cache (nor anything else on disk).
    assert list((tmp_path / "state").iterdir()) == []


def test_the_demo_ignores_aws_settings_dotenv_and_the_policy_file(tmp_path: Path) -> None:
    env = {
        **empty_environment(tmp_path),
        "AWS_PROFILE": "nonexistent",
        "AWS_REGION": "mars-1",
        "AWS_DEFAULT_REGION": "mars-1",
        "AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY01",
        "AWS_SECRET_ACCESS_KEY": "not-a-secret",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_CONFIG_FILE": str(tmp_path / "missing-config"),
        "WHOCREATED_CONFIG": str(tmp_path / "missing.toml"),
        "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
        "SLACK_BOT_TOKEN": "xoxb-not-a-real-token",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    (tmp_path / ".env").write_text(
        "this is = not [a valid .env\nAWS_REGION=mars-1\nSLACK_BOT_TOKEN=garbage\n\x00\x01\n"
    )
    (tmp_path / "whocreated.toml").write_text("[aws\nregion = 'mars-1'\n[idle.nothing]\n")
    done = run(["demo"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    check_demo_output(done.stdout)


def test_without_moto_the_demo_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['moto'] = None; from bot.cli import main; sys.exit(main(['demo']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=empty_environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "pip install -e '.[demo]'" in line


def test_demo_serve_without_a_token_is_exit_2_in_one_line(tmp_path: Path) -> None:
    done = run(["demo", "--serve", "--owner", "U0OWNER001"], empty_environment(tmp_path), tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("whocreated: SLACK_BOT_TOKEN is not set")


def test_owner_is_only_for_serve(tmp_path: Path) -> None:
    done = run(["demo", "--owner", "U0OWNER001"], empty_environment(tmp_path), tmp_path)
    assert done.returncode == 2 and "--owner is for --serve" in done.stderr


# ---------------------------------------------------------------------------------------------
# demo --serve, in process, against the recording Slack Web API


def test_serve_reads_only_slacks_settings_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\nSLACK_APP_TOKEN=xapp-from-dotenv\n"
        "AWS_REGION=mars-1\nWHOCREATED_CONFIG=/nowhere.toml\nDATABASE_URL=postgresql://x/y\n"
    )
    (tmp_path / "whocreated.toml").write_text("[aws\nbroken")
    settings = slack_settings({"SLACK_APP_TOKEN": "xapp-from-env", "AWS_PROFILE": "x"}, tmp_path)
    assert settings.slack_bot_token == "xoxb-from-dotenv"
    assert settings.slack_app_token == "xapp-from-env"  # the real environment wins
    assert settings.socket_mode
    assert settings.policy_path is None and settings.aws_region is None
    assert settings.database_url is None


def test_serve_in_http_mode_needs_the_signing_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        slack_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, tmp_path)


@pytest.fixture
def workspace() -> SlackApi:
    with SlackApi() as api:
        api.add_user("U0OWNER001", "owner", real_name="The Owner", email="o@example.com")
        yield api


def test_serve_maps_everyone_to_the_owner_and_sends_the_first_digest(
    workspace: SlackApi, tmp_path: Path
) -> None:
    environ = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "a-signing-secret",
        "SLACK_API_URL": workspace.url,
    }
    out = io.StringIO()
    assert serve_demo(out, owner="U0OWNER001", environ=environ, cwd=tmp_path, serve=False) == 0
    posts = workspace.calls_to("chat.postMessage")
    assert [call.params["channel"] for call in posts] == ["U0OWNER001"]  # one digest, theirs
    blocks = posts[0].params["blocks"]
    text = json.dumps(json.loads(blocks) if isinstance(blocks, str) else blocks)
    # Every idle resource is theirs: the 15 most expensive shown, a line for the cheapest rest.
    for label in ("analytics", "web-old", "gpu-test", "etl-nat", "shop-web", "alice-eip"):
        assert f"{label} (" in text or f"`{label}`" in text, label
    assert "and 3 more idle resources costing" in text
    assert "Dry run" in text
    assert workspace.calls_to("auth.test")  # the app checked its token at start-up
    shown = out.getvalue()
    assert "sent 1 digest(s) to U0OWNER001" in shown
    assert "/whocreated s3://carol-reports" in shown and "Serving until Ctrl-C." in shown


def test_serve_without_owner_says_a_bot_token_cannot_tell_who_installed_it(
    workspace: SlackApi, tmp_path: Path
) -> None:
    environ = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": workspace.url,
    }
    client = WebClient(token=TOKEN, base_url=workspace.url)
    with pytest.raises(ConfigError) as raised:
        serve_demo(
            io.StringIO(), owner=None, environ=environ, cwd=tmp_path, web_client=client,
            serve=False,
        )  # fmt: skip
    assert str(raised.value) == NO_OWNER
    assert workspace.calls_to("chat.postMessage") == []
