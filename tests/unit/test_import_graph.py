"""Guards on the shape of the package: no import cycle (imports inside functions counted), and
``followup/rules/`` pure (only the standard library, ``holidays`` and itself).

An import cycle is a bug: when two modules need each other, the shared piece belongs in a third.
The graph is read from the source (ast), the way ``../shared/tools/import_cycles.py`` reads it,
so an import hidden inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "followup"


def _module(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = PACKAGE) -> set[str]:
    me = _module(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            out.add(stem)
            out.update(f"{stem}.{alias.name}" for alias in node.names)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in its source)."""
    files = {_module(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = set()
        for imported in _imports(path):
            while imported and imported not in files:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle_through_an_import_inside_a_function() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_an_import_inside_a_function_is_an_edge(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from followup.engine import tick\n", encoding="utf-8")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    found = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert found == {"followup.engine"}


def test_no_import_cycle_in_followup() -> None:
    graph = import_graph()
    assert "followup.engine.tick" in graph and "followup.rules.contact_policy" in graph
    assert cycles(graph) == []


#: what a module of ``followup/rules/`` may import besides ``followup.rules`` itself
PURE_ALLOWED = frozenset(sys.stdlib_module_names) | {"holidays", "__future__"}


def impure_imports(package: Path = PACKAGE, sub: str = "rules") -> list[str]:
    """Every import in ``package/sub`` of something other than the standard library, ``holidays``
    or ``<package>.<sub>`` itself (imports inside functions counted), as ``path imports name``."""
    own = f"{package.name}.{sub}"
    bad = set()
    for path in sorted((package / sub).rglob("*.py")):
        for imported in _imports(path, package):
            if imported == own or imported.startswith(own + ".") or imported.split(".")[0] in PURE_ALLOWED:
                continue
            bad.add(f"{path.relative_to(package.parent)} imports {imported}")
    return sorted(bad)


def test_the_purity_check_catches_an_impure_import_even_inside_a_function(tmp_path: Path) -> None:
    rules = tmp_path / "followup" / "rules"
    rules.mkdir(parents=True)
    (rules / "__init__.py").write_text("", encoding="utf-8")
    (rules / "fine.py").write_text(
        "from __future__ import annotations\nimport re\nfrom datetime import date\nimport holidays\n"
        "from followup.rules.values import Window\nfrom . import fine\n",
        encoding="utf-8",
    )
    assert impure_imports(tmp_path / "followup") == []
    (rules / "slow.py").write_text(
        "def count():\n    import sqlalchemy\n    from followup.settings import load_settings\n", encoding="utf-8"
    )
    assert impure_imports(tmp_path / "followup") == [
        "followup/rules/slow.py imports followup.settings",
        "followup/rules/slow.py imports followup.settings.load_settings",
        "followup/rules/slow.py imports sqlalchemy",
    ]
    (rules / "slow.py").write_text("import followup.rulesets\n", encoding="utf-8")  # a name that only starts alike
    assert impure_imports(tmp_path / "followup") == ["followup/rules/slow.py imports followup.rulesets"]


def test_the_rules_import_only_the_standard_library_holidays_and_themselves() -> None:
    modules = {p.stem for p in (PACKAGE / "rules").glob("*.py")}
    assert {"calendar", "contact_policy", "values", "bonus_tiers"} <= modules
    assert impure_imports() == []
