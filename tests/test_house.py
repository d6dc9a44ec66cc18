"""The rules of the house, checked on the source: one unit of work commits and pushes jobs, only
storage/ runs queries, and the rooms of bot/ depend on each other in one direction."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT_OF_WORK = ROOT / "bot" / "runtime.py"
QUEUE = ROOT / "bot" / "jobs" / "queue.py"  # the queue itself: its retries go back into its own heap
# What only the unit of work (and storage/, which owns transactions of its own) may call.
TRANSACTION_CALLS = {"commit", "session", "sessions", "begin", "begin_nested", "push", "added"}
QUERY_NAMES = {"select", "insert", "update", "delete", "text", "func", "and_", "or_", "exists"}


def _sources() -> Iterator[Path]:
    """The application: everything but storage/, the tests, the benchmarks and migrations."""
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"storage", "tests", "bench", "migrations", ".venv", "build"}:
            continue
        yield path


def _calls(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node.lineno, node.func.attr


def test_the_sources_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert {
        "app.py",
        "worker.py",
        "bot/domain/service.py",
        "bot/web/webhook.py",
        "bot/jobs/runner.py",
    } <= names


def test_only_the_unit_of_work_commits_or_pushes_jobs() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} .{name}()"
        for path in _sources()
        if path not in (UNIT_OF_WORK, QUEUE)
        for line, name in _calls(path)
        if name in TRANSACTION_CALLS
    ]
    assert offences == [], "use `with hotline.work() as session:` instead"


def test_the_rule_catches_a_writer_that_pushes_by_hand(tmp_path: Path) -> None:
    """The scan itself: a module written the old way is caught."""
    rogue = tmp_path / "rogue.py"
    rogue.write_text(
        "def handle(hotline):\n"
        "    with hotline.db.session() as s:\n"
        "        jobs = outbox.added(s)\n"
        "    for job in jobs:\n"
        "        hotline.queue.push(job)\n",
        encoding="utf-8",
    )
    assert sorted(name for _, name in _calls(rogue) if name in TRANSACTION_CALLS) == [
        "added",
        "push",
        "session",
    ]


def test_queries_live_in_storage() -> None:
    offences = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {alias.name for alias in node.names}
                if names & QUERY_NAMES or "dialects" in (node.module or ""):
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(names & QUERY_NAMES)}")
    assert offences == []


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_rooms_depend_one_way() -> None:
    """storage/, flows/ and sitefiles/ never import bot/; the domain never imports the web, the
    command line or the renderers."""
    for room in ("storage", "flows", "sitefiles"):
        for path in (ROOT / room).rglob("*.py"):
            assert not {m for m in _imports(path) if m == "bot" or m.startswith("bot.")}, path
    for path in (ROOT / "bot" / "domain").rglob("*.py"):
        outward = {m for m in _imports(path) if m.startswith(("bot.web", "bot.cli", "bot.render"))}
        assert not outward, f"{path.relative_to(ROOT)} imports {outward}"


def test_no_function_is_longer_than_sixty_lines() -> None:
    """Past a screen, a function hides its steps: split it into named ones."""
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in [*_sources(), *(ROOT / "storage").rglob("*.py")]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > 60
    ]
    assert long == []
