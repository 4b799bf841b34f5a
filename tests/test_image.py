"""The image's recipe: DESIGN §5's rules, a dependency layer from pinned constraints before the
sources, a numeric user, the port, the stop signal, tini as PID 1; and constraints.txt pins every
dependency of the package and the extras the image carries with a version that satisfies it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
IMAGE_EXTRAS = ("postgres", "demo")


def dockerfile_lines() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, equals, version = line.partition("==")
        assert equals and version and not re.search(r"[<>=!~;\s]", version), f"not pinned: {line}"
        found[canonicalize_name(name)] = version
    return found


def test_the_dockerfile_keeps_the_rules_of_design_5() -> None:
    lines = dockerfile_lines()
    assert lines[0] == "ARG PYTHON_IMAGE=python:3.12-slim"
    assert lines[1] == "FROM ${PYTHON_IMAGE}"
    assert any(line.startswith("RUN python3 -m venv ") for line in lines)


def test_dependencies_are_a_layer_of_their_own_before_the_sources() -> None:
    lines = dockerfile_lines()
    copy_pins = lines.index("COPY constraints.txt /tmp/constraints.txt")
    install = next(i for i, line in enumerate(lines) if "-r /tmp/constraints.txt" in line)
    sources = lines.index("COPY bot ./bot")
    assert copy_pins < install < sources
    assert "--no-deps" in lines[install]
    build = next(line for line in lines[sources:] if line.startswith("RUN pip install"))
    assert "--no-deps" in build and "pip check" in build  # the pinned set must be whole


def test_it_runs_as_a_numeric_user_under_tini_and_stops_on_sigterm() -> None:
    lines = dockerfile_lines()
    assert "USER 10001:10001" in lines
    assert "EXPOSE 3000" in lines
    assert "STOPSIGNAL SIGTERM" in lines
    assert 'ENTRYPOINT ["/usr/bin/tini", "--"]' in lines
    assert 'CMD ["whocreated", "serve"]' in lines
    assert any("install" in line and " tini" in line for line in lines if line.startswith("RUN"))


def test_every_dependency_of_the_image_has_a_pin_that_satisfies_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [Requirement(text) for text in project["project"]["dependencies"]]
    for extra in IMAGE_EXTRAS:
        wanted += [Requirement(text) for text in project["project"]["optional-dependencies"][extra]]
    wanted += [Requirement(text) for text in project["build-system"]["requires"]]
    pinned = pins()
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} has no pin: regenerate constraints.txt (see its header)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{name}=={pinned[name]} does not satisfy {requirement}: regenerate constraints.txt"
        )


def test_the_readme_runs_the_image_with_its_port_and_the_demo() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docker run --env-file .env -p 3000:3000 " in readme
    assert "docker run --rm whocreated whocreated demo" in readme
