"""The apps depend one way, accounts <- sources <- readings, with homelog below them all: no module of an app
imports an app that depends on it, at the top of the module or inside a function (where a cycle would hide).
Tests and migrations are left out; homelog's URLconfs put the apps together and may name them all."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each app, with the apps it must not import.
ABOVE = {
    "homelog": {"accounts", "sources", "readings"},
    "accounts": {"sources", "readings"},
    "sources": {"readings"},
    "readings": set(),
}
COMPOSITION = {"homelog/urls.py", "homelog/api/urls.py", "homelog/wsgi.py"}


def modules(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or "/migrations/" in relative or relative in COMPOSITION:
            continue
        yield relative, ast.parse(path.read_text())


def imported_apps(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name.split(".")[0], node.lineno


@pytest.mark.parametrize("app", sorted(ABOVE))
def test_an_app_imports_no_app_that_depends_on_it(app):
    wrong = [
        f"{path}:{line} imports {imported}"
        for path, tree in modules(app)
        for imported, line in imported_apps(tree)
        if imported in ABOVE[app]
    ]
    assert wrong == []


def test_no_import_inside_a_function_but_the_apps_ready():
    inside = []
    for app in ABOVE:
        for path, tree in modules(app):
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if path.endswith("/apps.py") and function.name == "ready":
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        inside.append(f"{path}:{node.lineno} in {function.name}()")
    assert inside == []
