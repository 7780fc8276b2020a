"""The code's shape, checked as CI checks it: no dead code (vulture), lint and format (ruff),
types (mypy), and imports that run one way."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(sys.executable).parent  # the virtualenv's bin/, where the test extra installs them
CHECKS = {
    "dead code": [
        *("vulture", "gshare", "web", "storage", "antivirus", ".vulture_whitelist.py"),
        *("--min-confidence", "60"),
    ],
    "lint": ["ruff", "check", "."],
    "format": [
        "ruff",
        "format",
        "--check",
        "gshare",
        "web",
        "storage",
        "antivirus",
        "tests",
        "bench",
    ],
    "types": ["mypy"],  # gshare, storage and antivirus: see [tool.mypy] in pyproject.toml
}


@pytest.mark.parametrize("command", CHECKS.values(), ids=CHECKS.keys())
def test_the_code_has_no_finding(command):
    tool = TOOLS / command[0]
    if not tool.exists():
        missing = f"{tool} is missing: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    done = subprocess.run(
        [str(tool), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"


def imports_of(package: str) -> dict[str, set[str]]:
    """Return, for each module of a package, the project modules it imports (at any depth of
    the file: an import inside a function counts too)."""
    graph = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[module] = names
    return graph


def test_the_domain_imports_neither_flask_nor_the_front_ends():
    graph = imports_of("gshare")
    assert "gshare.access.permissions" in graph  # the walk found the domain
    upward = {
        module: sorted(n for n in names if n.split(".")[0] in ("flask", "flask_login", "web"))
        for module, names in graph.items()
    }
    assert {m: names for m, names in upward.items() if names} == {}


def test_the_adapters_import_nothing_of_the_project():
    for adapter in ("storage", "antivirus"):
        graph = imports_of(adapter)
        assert f"{adapter}.errors" in graph
        found = {
            m: sorted(n for n in names if n.split(".")[0] in ("gshare", "web"))
            for m, names in graph.items()
        }
        assert {m: names for m, names in found.items() if names} == {}, adapter


@pytest.mark.parametrize("package", ["gshare", "web"])
def test_imports_have_no_cycle(package):
    graph = imports_of(package)
    edges = {m: {n for n in names if n in graph and n != m} for m, names in graph.items()}
    assert any(edges.values())  # modules do import each other: the check has something to do
    cycles = [sorted(c) for c in _strongly_connected(edges) if len(c) > 1]
    assert cycles == []


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other in a ring."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups
