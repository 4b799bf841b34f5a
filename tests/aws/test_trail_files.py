"""Trail logs as a source: every format, folders with digests and junk, and clear errors."""

import gzip
import json
import tracemalloc
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


# Streaming, skipping, reading side by side -------------------------------------------------------


def _trail_file(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return path


def test_files_that_cannot_name_the_id_are_searched_but_never_parsed(tmp_path: Path) -> None:
    records = _records()
    others = [r for r in records if INSTANCE not in json.dumps(r)]
    _trail_file(
        tmp_path / "a" / "123837392027_CloudTrail_us-east-1_20230101T0000Z_x.json.gz", others
    )
    _trail_file(tmp_path / "b" / "with-the-instance.json.gz", records)
    _trail_file(
        tmp_path / "c" / "123837392027_CloudTrail_us-east-1_20231231T2355Z_y.json.gz", others
    )
    [answer], stats = _find([tmp_path], INSTANCE)
    assert answer.found and answer.fact.actor.name == "bert-jan"
    assert (stats.files_read, stats.files_parsed, stats.records) == (3, 1, len(records))
    # The span counts the files searched but not parsed by the time in their names.
    assert "3 files from 2023-01-01 00:00 to 2023-12-31 23:55 UTC" in answer.notes[0]


def test_a_broken_file_in_a_folder_keeps_the_records_before_the_break(tmp_path: Path) -> None:
    text = json.dumps({"Records": _records()})
    (tmp_path / "truncated.json").write_text(text[: len(text) - 100])
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(text.encode())[:-20])
    [answer], stats = _find([tmp_path], INSTANCE)
    assert answer.found
    assert stats.skipped == {"broken JSON": 1, "broken gzip": 1}
    with pytest.raises(TrailLogsError, match=r"truncated\.json: not a CloudTrail log"):
        _find([tmp_path / "truncated.json"], INSTANCE)


def test_an_empty_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(TrailLogsError, match="holds no files"):
        _find([tmp_path], INSTANCE)


def test_answers_are_those_of_one_reader_in_order_however_many_read(tmp_path: Path) -> None:
    """Ties decided as one reader in file order would: the later of two creations at the same
    second, the earlier of two first mentions at the same second."""
    [bucket] = [r for r in _records() if r["eventName"] == "CreateBucket"][:1]
    name = bucket["requestParameters"]["bucketName"]
    mention = next(r for r in _records() if INSTANCE in json.dumps(r) and r["readOnly"])
    creations, mentions = [], []
    for n in range(24):
        made = json.loads(json.dumps(bucket))
        made["eventTime"] = (
            "2023-09-01T00:00:00Z" if n % 5 == 0 else f"2023-08-{n + 1:02d}T00:00:00Z"
        )
        made["userIdentity"]["userName"] = f"creator-{n:02d}"
        creations.append(made)
        seen = json.loads(json.dumps(mention))
        seen["eventTime"] = "2023-01-01T00:00:00Z" if n % 7 == 3 else "2023-06-01T00:00:00Z"
        seen["eventID"] = f"mention-{n:02d}"
        mentions.append(seen)
    for n, (made, seen) in enumerate(zip(creations, mentions, strict=True)):
        filler = [r for r in _records() if INSTANCE not in json.dumps(r)][: n % 4]
        _trail_file(tmp_path / f"{n:02d}.json.gz", [*filler, made, seen])
    refs = [parse(name), parse("ami-029eb80bc237bec6f"), parse(INSTANCE)]
    one_by_one, _ = find_in_logs(refs, [tmp_path], workers=1)
    side_by_side, _ = find_in_logs(refs, [tmp_path], workers=4)
    assert one_by_one == side_by_side
    assert one_by_one[0].fact.actor.name == "creator-20"  # the last at 2023-09-01
    mentioned = one_by_one[2]
    assert mentioned.reason is Reason.ONLY_MENTIONED and mentioned.first_seen["id"] == "mention-03"


def test_memory_follows_a_record_not_the_file(tmp_path: Path) -> None:
    """A 48 MB log (inflated) that names the id is searched and parsed in full, holding a few MB:
    a chunk of text and the record at hand, never the file nor all its records."""
    record = json.dumps(next(r for r in _records() if r["eventName"] == "DescribeInstances"))
    body = gzip.compress(("," + record).encode() * 2_000)  # one gzip member, repeated
    path = tmp_path / "big.json.gz"
    with path.open("wb") as handle:
        handle.write(gzip.compress(b'{"Records": [' + json.dumps(_records()[0]).encode()))
        for _ in range(1 + 48 * 2**20 // (2_000 * (len(record) + 1))):
            handle.write(body)
        handle.write(gzip.compress(b"," + json.dumps(_records()[-1]).encode() + b"]}"))
    tracemalloc.start()
    try:
        [answer], stats = find_in_logs([parse("i-0000000000000000f")], [path], workers=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.bytes_searched > 48 * 2**20
    assert answer.reason is Reason.NOT_IN_WINDOW and stats.files_parsed == 0
    assert peak < 8 * 2**20
    # Now ask for something it names: every record is parsed, memory stays as small.
    tracemalloc.start()
    try:
        [answer], stats = find_in_logs([parse(INSTANCE)], [path], workers=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.files_parsed == 1 and stats.records > 20_000
    assert answer.reason is Reason.ONLY_MENTIONED
    assert peak < 8 * 2**20


def test_a_folder_without_a_cloudtrail_log_file_is_bad_input_not_not_found(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(TrailLogsError) as raised:
        _find([tmp_path], INSTANCE)
    assert str(raised.value) == (
        f"{tmp_path}: no CloudTrail log files (1 skipped: 1 not .json or .json.gz)"
    )
    (tmp_path / "other.json").write_text('{"not": "cloudtrail"}')
    with pytest.raises(TrailLogsError) as raised:
        _find([tmp_path], INSTANCE)
    assert str(raised.value) == (
        f"{tmp_path}: no CloudTrail log files "
        "(2 skipped: 1 not .json or .json.gz, 1 not CloudTrail records)"
    )
    # One log file anywhere among the paths given is a search: the answer is then "not found".
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.json").write_text(json.dumps({"Records": []}))
    [answer], stats = _find([tmp_path], INSTANCE)
    assert not answer.found and stats.files_read == 1
