"""Installs are reproducible: requirements/*.txt pin every dependency that pyproject.toml names (and what they
need) with hashes, `make` and the image install from them, and this environment is what they pin."""

import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from homelog.tests.processes import REPOSITORY

PROJECT = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]


def pinned(lock_name):
    """{name: version} of the packages `lock_name` pins for this platform."""
    text = (REPOSITORY / "requirements" / lock_name).read_text()
    lines = re.findall(r"^([A-Za-z0-9._-]+==[^\s;\\]+)(.*)$", text, re.MULTILINE)
    assert all(rest.endswith("\\") for _, rest in lines), "a pin without its hashes"
    pins = {}
    for pin, rest in lines:
        requirement = Requirement(pin + rest.removesuffix("\\"))
        if requirement.marker is None or requirement.marker.evaluate():
            pins[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return pins


@pytest.mark.parametrize(
    ("lock_name", "requirements"),
    [
        ("base.txt", PROJECT["dependencies"]),
        ("dev.txt", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_dependency_is_pinned_within_what_pyproject_allows(lock_name, requirements):
    pins = pinned(lock_name)
    for line in requirements:
        requirement = Requirement(line)
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements/{lock_name}: run make lock"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements/{lock_name} pins {requirement.name}=={version}, outside {requirement.specifier}: "
            "run make lock"
        )


def test_this_environment_was_installed_from_the_dev_lock():
    differing = {
        name: (version, metadata.version(name))
        for name, version in pinned("dev.txt").items()
        if _installed(name) and metadata.version(name) != version
    }
    missing = [name for name in pinned("dev.txt") if not _installed(name)]
    assert (differing, missing) == ({}, []), "installed (pinned, found) differ from requirements/dev.txt"


def _installed(name):
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_the_makefile_and_the_image_install_from_the_lock_files():
    makefile = (REPOSITORY / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements/dev.txt" in makefile
    assert "pip install --quiet --require-hashes -r requirements/base.txt" in makefile
    assert makefile.count("pip install --quiet --no-deps -e .") == 2
    dockerfile = (REPOSITORY / "Dockerfile").read_text()
    assert "RUN pip install --require-hashes -r requirements/base.txt" in dockerfile
