"""`python -m bench --quick`: one JSON line per benchmark, in DESIGN.md §3's shape, whose
call-count targets hold and whose scan owners are the seeder's. Timings are printed, never
asserted: they depend on the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.registry import load

ROOT = Path(__file__).resolve().parent.parent
# Services a patrol round lists besides EC2 (as SigV4 names them): every patrolled type's.
PATROL_ONLY = {
    "elasticloadbalancing",
    "eks",
    "rds",
    "sagemaker",
    "es",
    "elasticache",
    "redshift",
    "elasticmapreduce",
    "dynamodb",
}


@pytest.fixture(scope="module")
def lines() -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_"))}
    ran = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-4000:]
    return [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]


def test_one_line_per_benchmark_in_registry_order(lines: list[dict[str, Any]]) -> None:
    assert [line["bench"] for line in lines] == list(load())
    assert {"lookup-busy", "lookup-any-region", "lookup-cached", "ack"} <= set(load())


def test_each_side_has_calls_time_and_memory(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        assert "error" not in line, line
        assert set(line) == {"bench", "scale", "ours", "naive", "targets", "took_s"}
        assert line["took_s"] >= 0
        assert isinstance(line["scale"], dict) and line["scale"]
        for side in (line["ours"], line["naive"]):
            assert isinstance(side["wall_s"], int | float) and side["wall_s"] >= 0
            # A whole Python process with boto3 loaded: tens of MB at least, never 0 (the
            # trail-file benchmarks' naive side only waits for zcat and grep).
            assert (5 if line["bench"].startswith("trail-") else 20) < side["peak_rss_mb"] < 2_000
            calls = side["aws_calls"]
            assert all(isinstance(count, int) and count >= 0 for count in calls.values())
            for name in calls:
                service = name.split(":")[0]
                # A patrol round also lists every other patrolled type.
                assert service in {"cloudtrail", "ec2", "sts", "monitoring"} | PATROL_ONLY, name
                assert name.split(":")[1][0].isupper(), name
        assert all(isinstance(value, bool) for value in line["targets"].values())


def test_benchmark_specific_figures(lines: list[dict[str, Any]]) -> None:
    by_name = {line["bench"]: line for line in lines}
    for side in ("ours", "naive"):
        assert by_name["lookup-any-region"][side]["single_region_wall_s"] > 0
        ack = by_name["ack"][side]
        assert 0 < ack["p50_ms"] <= ack["p99_ms"] <= ack["max_ms"]
        assert ack["commands"] > 0
    assert by_name["ack"]["ours"]["commands"] == by_name["ack"]["scale"]["commands"]
    assert (
        by_name["lookup-busy"]["naive"]["pages"] * 50 >= by_name["lookup-busy"]["scale"]["events"]
    )


def test_call_count_targets_hold(lines: list[dict[str, Any]]) -> None:
    benchmarks = load()
    for line in lines:
        counted = benchmarks[line["bench"]].counted_targets
        assert set(counted) <= set(line["targets"])
        assert {name: line["targets"][name] for name in counted} == dict.fromkeys(counted, True)


def test_the_figures_behind_the_targets(lines: list[dict[str, Any]]) -> None:
    by_name = {line["bench"]: line for line in lines}
    busy = by_name["lookup-busy"]
    ours_calls = busy["ours"]["aws_calls"]["cloudtrail:LookupEvents"]
    naive_answered = (
        busy["naive"]["aws_calls"]["cloudtrail:LookupEvents"] - busy["naive"]["throttled_calls"]
    )
    assert ours_calls <= 2 and naive_answered >= 20 * ours_calls
    assert busy["ours"]["throttled_calls"] == 0  # ours keeps under 2 requests/s itself

    cached = by_name["lookup-cached"]
    assert cached["ours"]["aws_calls"] == {} and cached["ours"]["source"] == "cache"
    assert cached["ours"]["first_lookup_aws_calls"]["cloudtrail:LookupEvents"] >= 1
    assert cached["naive"]["aws_calls"]["cloudtrail:LookupEvents"] >= 1

    anywhere = by_name["lookup-any-region"]
    # Every region's EC2 is asked where the instance is, and CloudTrail only where it is; a
    # region whose describe fails (a loaded machine) is searched in CloudTrail too, never skipped.
    regions = anywhere["scale"]["regions"]
    assert anywhere["ours"]["aws_calls"]["ec2:DescribeInstances"] == regions
    assert 1 <= anywhere["ours"]["aws_calls"]["cloudtrail:LookupEvents"] <= regions
    assert anywhere["naive"]["aws_calls"]["cloudtrail:LookupEvents"] == regions
    assert anywhere["ours"]["aws_calls"]["ec2:DescribeRegions"] == 1


def test_scan_figures(lines: list[dict[str, Any]]) -> None:
    from bench.scans import expected_get_metric_data

    by_name = {line["bench"]: line for line in lines}
    for name in ("scan-1k", "scan-10k", "scan-10k-again"):
        line = by_name[name]
        ours, naive = line["ours"]["aws_calls"], line["naive"]["aws_calls"]
        assert ours["monitoring:GetMetricData"] == expected_get_metric_data(line["scale"])
        assert ours["ec2:DescribeInstances"] >= 1
        assert line["ours"]["idle"] == line["ours"]["seeded_idle"] > 0
        # Naive: one GetMetricStatistics per resource and metric; LookupEvents only for idle
        # resources, at least one search each (sampled at --quick, and scaled).
        assert naive["monitoring:GetMetricStatistics"] == line["naive"]["metric_queries_total"]
        assert naive["cloudtrail:LookupEvents"] >= line["ours"]["seeded_idle"]
        assert line["naive"]["idle"] == line["ours"]["seeded_idle"]  # every metric read here
        assert "lookup_events" in line["naive"]["scaled_from"]
        if name == "scan-10k-again":
            assert "cloudtrail:LookupEvents" not in ours
            assert line["ours"]["first_round_aws_calls"]["cloudtrail:LookupEvents"] >= 1
            # Right after scan-10k, it goes on from that round and that naive run.
            assert line["ours"]["first_round_reused_from"] == "scan-10k"
            assert line["naive"]["reused_from"] == "scan-10k"
            assert line["ours"]["first_round_wall_s"] == by_name["scan-10k"]["ours"]["wall_s"]
        else:
            assert 10 * ours["cloudtrail:LookupEvents"] <= naive["cloudtrail:LookupEvents"]


def test_scan_owners_are_the_seeders(lines: list[dict[str, Any]]) -> None:
    """Every idle resource's owner as the seeder made it: bob for his Auto Scaling group's
    instances, launched by Auto Scaling; the naive side checked on what it looked up."""
    by_name = {line["bench"]: line for line in lines}
    for name in ("scan-1k", "scan-10k", "scan-10k-again"):
        ours, naive = by_name[name]["ours"], by_name[name]["naive"]
        assert ours["owners_checked"] == ours["owners_correct"] == ours["seeded_idle"]
        assert ours["owners_wrong"] == ours["owners_missing"] == ours["named_not_idle"] == 0
        assert ours["owner_sources"]["parent:AWS::AutoScaling::AutoScalingGroup"] == 2
        assert naive["owners_checked"] == naive["idle_looked_up"] > 0
        checked = naive["owners_correct"] + naive["owners_wrong"] + naive["owners_missing"]
        assert checked == naive["owners_checked"]
    assert by_name["scan-10k-again"]["ours"]["first_round_owners_correct"] > 0


def test_trail_file_figures(lines: list[dict[str, Any]]) -> None:
    by_name = {line["bench"]: line for line in lines}
    folder = by_name["trail-files"]
    ours, naive, made = folder["ours"], folder["naive"], folder["ours"]["made"]
    assert made["gzip_mb"] >= 0.9 * folder["scale"]["gzip_mb"]
    assert ours["aws_calls"] == {} and naive["aws_calls"] == {}
    assert (ours["found"], ours["creator"]) == (True, "alice")
    # Every file searched; only those that name the id (its creation and 5 mentions) parsed.
    assert ours["files_searched"] == made["files"] > made["files_naming_target"] == 6
    assert ours["files_skipped_by_prefilter"] == made["files"] - 6
    assert naive["files_naming_target"] == 6
    assert "zcat -r" in naive["command"] and naive["pipeline_peak_rss_mb"] > 0
    assert {"wall_s", "peak_rss_mb", "mb_per_s", "workers"} <= set(ours)

    large = by_name["trail-file-large"]
    ours, naive = large["ours"], large["naive"]
    assert ours["inflated_mb_searched"] >= large["scale"]["json_mb"]
    assert ours["files_parsed"] == 1 and ours["records_parsed"] > 10_000
    assert ours["creator"] == naive["creator"] == "alice"
    # Reading as a stream holds less than the whole file parsed, even at this small scale.
    assert ours["peak_rss_mb"] < 200 and ours["peak_rss_mb"] < naive["peak_rss_mb"]
