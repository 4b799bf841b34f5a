"""The benchmarks' own machinery: failing or over-budget benchmarks still give their line, owners
are checked against the truth, and a sampled naive run is scaled as its line says."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from bench import scan_naive
from bench.__main__ import _line
from bench.owner_truth import check_owners, expected_owners
from bench.registry import Benchmark, Figures, Run
from bench.runner import OverBudget, Runner
from bot.sandbox.fleet import Seeded


def _never_runs(context: Mapping[str, Any]) -> Figures:
    raise AssertionError("no side runs in these tests")


def _benchmark(setup: Any) -> Benchmark:
    return Benchmark(
        name="broken",
        scale=lambda quick: {"n": 1 if quick else 2},
        setup=setup,
        runs=(Run("ours", _never_runs),),
        targets=lambda ours, naive, scale: {},
    )


def test_a_failing_setup_gives_a_line_with_the_error() -> None:
    def setup(sandbox: Any, scale: Mapping[str, Any]) -> dict[str, Any]:
        raise RuntimeError("moto is on fire")

    with Runner(quick=True, deadline=time.monotonic() + 600) as runner:
        line = _line(runner, _benchmark(setup))
    assert line["bench"] == "broken" and line["scale"] == {"n": 1}
    assert line["error"] == "moto is on fire" and line["over_budget"] is False
    assert line["took_s"] >= 0 and "ours" not in line


def test_a_benchmark_past_the_budget_says_so_without_running() -> None:
    def setup(sandbox: Any, scale: Mapping[str, Any]) -> dict[str, Any]:
        raise AssertionError("not started past the budget")

    with Runner(quick=False, deadline=time.monotonic() - 1) as runner:
        line = _line(runner, _benchmark(setup))
    assert line["over_budget"] is True
    assert "not started, the time budget was spent before it" in line["error"]


def test_a_budget_spent_in_setup_stops_before_the_runs() -> None:
    def setup(sandbox: Any, scale: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    with (
        Runner(quick=True, deadline=time.monotonic()) as runner,
        pytest.raises(OverBudget, match="ran out during its setup"),
    ):
        runner.run(_benchmark(setup))


def _seeded(resource_id: str, owner: str | None, idle: bool | None) -> Seeded:
    return Seeded(
        label=resource_id,
        type="AWS::EC2::Instance",
        id=resource_id,
        region="us-east-1",
        reference=resource_id,
        creator=None,
        tool=None,
        owner=owner,
        idle=idle,
    )


def test_the_truth_is_each_idle_resources_owner_by_aws_name() -> None:
    made = [
        _seeded("i-1", "alice", True),
        _seeded("i-2", "carol", True),  # her SSO session is named after her email
        _seeded("i-3", "bob", False),
        _seeded("ami-1", None, None),
    ]
    assert expected_owners(made) == {"i-1": "alice", "i-2": "carol@example.com"}


def test_owners_are_correct_wrong_or_missing() -> None:
    expected = {"i-1": "alice", "i-2": "bob", "i-3": "carol@example.com", "i-4": "dave"}
    named = {"i-1": "alice", "i-2": "autoscaling", "i-3": None, "i-9": "bob"}
    checked = check_owners(named, expected)
    assert checked["owners_checked"] == 4
    assert (checked["owners_correct"], checked["owners_wrong"], checked["owners_missing"]) == (
        1,
        1,
        2,  # i-3 named nobody, i-4 not reported at all
    )
    assert checked["named_not_idle"] == 1
    assert checked["owners_wrong_examples"] == ["i-2: named autoscaling, owner bob"]

    sampled = check_owners({"i-1": "alice", "i-2": "bob"}, expected, ["i-1", "i-2"])
    assert sampled["owners_checked"] == sampled["owners_correct"] == 2


def test_samples_are_spread_over_the_list() -> None:
    items = [f"i-{n}" for n in range(10)]
    assert scan_naive._every(items, None) == items
    assert scan_naive._every(items, 20) == items
    assert scan_naive._every(items, 2) == ["i-2", "i-7"]


def _naive_figures() -> Figures:
    return {
        "wall_s": 12.0,
        "describe_s": 2.0,
        "metrics_s": 4.0,
        "lookups_s": 6.0,
        "instances": 100,
        "instances_measured": 10,
        "metric_queries_total": 300,
        "metric_queries_measured": 30,
        "idle_looked_up": 5,
        "throttled_calls": 3,
        "aws_calls": {
            "cloudtrail:LookupEvents": 8,
            "monitoring:GetMetricStatistics": 30,
            "ec2:DescribeInstances": 1,
        },
    }


def test_a_sampled_naive_run_is_scaled_and_says_how() -> None:
    scale = {"naive_metric_sample": 10, "naive_owner_lookups": 5}
    scaled = scan_naive.scaled(_naive_figures(), scale, idle_in_fleet=50)
    assert scaled["aws_calls"] == {
        "cloudtrail:LookupEvents": 50,  # 5 answered (8 sent, 3 throttled), x10
        "ec2:DescribeInstances": 1,
        "monitoring:GetMetricStatistics": 300,
    }
    assert scaled["wall_s"] == 2.0 + 4.0 * 10 + 6.0 * 10
    assert scaled["scaled_from"]["aws_calls"]["cloudtrail:LookupEvents"] == 8
    assert scaled["scaled_from"]["lookup_events"].startswith("5 of 50 idle resources")


def test_a_naive_run_measured_in_full_is_not_scaled() -> None:
    figures = _naive_figures()
    full = {"naive_metric_sample": None, "naive_owner_lookups": None}
    assert scan_naive.scaled(figures, full, idle_in_fleet=50) is figures
