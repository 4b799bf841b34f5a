"""Trail logs as a source: every format, folders with digests and junk, and clear errors."""

import gzip
import json
from pathlib import Path

import pytest

from bot.aws.trail_files import TrailLogsError, find_in_logs
from bot.core.answers import Reason, Source
from bot.core.refs import parse

SAMPLE = Path(__file__).parents[2] / "examples" / "cloudtrail"
SAMPLE_FILE = next(SAMPLE.glob("*.json"))
INSTANCE = "i-0dbc91f429e48eeed"  # created by bert-jan with Terraform in the sample


def _records() -> list[dict]:
    return json.loads(SAMPLE_FILE.read_text())["Records"]


def _find(paths: list, *ids: str, region: str | None = None):
    answers, stats = find_in_logs([parse(i) for i in ids], paths, region=region)
    return answers, stats


def test_s3_log_file_answers_creator_and_never_claims_a_mention(tmp_path: Path) -> None:
    [instance, ami], _ = _find([SAMPLE_FILE], INSTANCE, "ami-029eb80bc237bec6f")
    assert instance.found and instance.source is Source.TRAIL_LOGS
    assert instance.fact.actor.name == "bert-jan"
    assert instance.fact.tool == "Terraform"
    assert instance.fact.event_name == "RunInstances"
    # The AMI is only passed to RunInstances: seen, not created.
    assert not ami.found
    assert ami.reason is Reason.ONLY_MENTIONED
    assert ami.first_seen["name"] in {"RunInstances", "DescribeImages"}


def test_gzip_lookup_events_output_and_plain_array_read_alike(tmp_path: Path) -> None:
    records = _records()
    with gzip.open(tmp_path / "log.json.gz", "wt") as handle:
        json.dump({"Records": records}, handle)
    (tmp_path / "array.json").write_text(json.dumps(records))
    lookup_events = {"Events": [{"CloudTrailEvent": json.dumps(r)} for r in records]}
    (tmp_path / "lookup.json").write_text(json.dumps(lookup_events))
    for name in ("log.json.gz", "array.json", "lookup.json"):
        [answer], stats = _find([tmp_path / name], INSTANCE)
        assert answer.fact.actor.name == "bert-jan", name
        assert stats.records == len(records)


def test_folder_skips_digests_and_other_files_and_counts_them(tmp_path: Path) -> None:
    logs = tmp_path / "AWSLogs" / "123837392027"
    (logs / "CloudTrail" / "us-east-1").mkdir(parents=True)
    (logs / "CloudTrail-Digest" / "us-east-1").mkdir(parents=True)
    (logs / "CloudTrail" / "us-east-1" / "a.json").write_text(SAMPLE_FILE.read_text())
    (logs / "CloudTrail-Digest" / "us-east-1" / "d.json.gz").write_bytes(
        gzip.compress(b'{"digestPublicKeyFingerprint": "x"}')
    )
    (logs / "notes.txt").write_text("hello")
    (logs / "other.json").write_text('{"not": "cloudtrail"}')
    [answer], stats = _find([tmp_path], INSTANCE)
    assert answer.found
    assert stats.files_read == 1
    assert stats.skipped == {
        "digest files": 1,
        "not .json or .json.gz": 1,
        "not CloudTrail records": 1,
    }


def test_newest_creation_wins_when_a_name_is_reused(tmp_path: Path) -> None:
    [bucket] = [r for r in _records() if r["eventName"] == "CreateBucket"][:1]
    name = bucket["requestParameters"]["bucketName"]
    later = json.loads(json.dumps(bucket))
    later["eventTime"] = "2023-09-01T00:00:00Z"
    later["userIdentity"]["userName"] = "someone-else"
    (tmp_path / "logs.json").write_text(json.dumps([later, bucket]))
    [answer], _ = _find([tmp_path / "logs.json"], name)
    assert answer.fact.actor.name == "someone-else"


def test_region_filter_and_absent_resources(tmp_path: Path) -> None:
    [elsewhere], _ = _find([SAMPLE_FILE], INSTANCE, region="eu-west-1")
    assert elsewhere.reason is Reason.NOT_IN_WINDOW
    [unknown], _ = _find([SAMPLE_FILE], "vpc-00000000")
    assert unknown.reason is Reason.NOT_IN_WINDOW
    assert "no record in the logs given" in unknown.notes[0]


def test_missing_path_and_wrong_file_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(TrailLogsError, match="nothing-here"):
        _find([tmp_path / "nothing-here"], INSTANCE)
    (tmp_path / "config.json").write_text('{"key": "value"}')
    with pytest.raises(TrailLogsError, match=r"config\.json: not a CloudTrail log"):
        _find([tmp_path / "config.json"], INSTANCE)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(TrailLogsError, match=r"broken\.json"):
        _find([tmp_path / "broken.json"], INSTANCE)
