"""File discovery per SPEC section 2."""

from __future__ import annotations

import os
from pathlib import Path

from lint_ws.discovery import discover, display_path


def make(root: Path, *relative: str) -> None:
    for name in relative:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("// x\n" if name.endswith(".rs") else "# x\n")


def names(found, root: Path) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in found.files]


def test_walks_recursively_and_keeps_only_rust_and_python(tmp_path):
    make(tmp_path, "a.rs", "b/c.py", "b/d.pyi", "b/e.txt", "b/f/g.rs", "h.pyc", "README.md")
    assert names(discover([str(tmp_path)]), tmp_path) == ["a.rs", "b/c.py", "b/d.pyi", "b/f/g.rs"]


def test_skips_target_git_node_modules_and_virtualenvs(tmp_path):
    make(tmp_path, "src/lib.rs", "target/debug/build.rs", ".git/hooks/x.py", "node_modules/m/x.py")
    make(tmp_path, "env/lib/site.py", "myvenv/lib/x.py", "__pycache__/x.py")
    (tmp_path / "myvenv" / "pyvenv.cfg").write_text("home = /usr\n")
    assert names(discover([str(tmp_path)]), tmp_path) == ["env/lib/site.py", "src/lib.rs"]


def test_a_virtualenv_is_known_by_its_marker_and_walked_only_when_named(tmp_path):
    make(tmp_path, "src/lib.rs", "condaenv/lib/x.py", "notenv/lib/y.py", "myvenv/lib/z.py")
    (tmp_path / "condaenv" / "conda-meta").mkdir()
    (tmp_path / "notenv" / "pyvenv.cfg").mkdir()  # a directory, not the marker file
    (tmp_path / "notenv" / "conda-meta").write_text("")  # a file, not the marker directory
    (tmp_path / "myvenv" / "pyvenv.cfg").write_text("home = /usr\n")
    assert names(discover([str(tmp_path)]), tmp_path) == ["notenv/lib/y.py", "src/lib.rs"]
    assert names(discover([str(tmp_path / "myvenv")]), tmp_path) == ["myvenv/lib/z.py"]


def test_respects_nested_gitignore_and_negation(tmp_path):
    (tmp_path / ".git").mkdir()
    make(tmp_path, "keep.py", "gen/out.rs", "sub/a.py", "sub/b.py", "sub/deep/c.py", "logs/x.py")
    (tmp_path / ".gitignore").write_text("gen/\n/logs\n")
    (tmp_path / "sub" / ".gitignore").write_text("*.py\n!a.py\n")
    assert names(discover([str(tmp_path)]), tmp_path) == ["keep.py", "sub/a.py"]


def test_gitignore_above_the_walked_directory_applies_inside_a_repository(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("generated/\n")
    make(tmp_path, "src/generated/x.rs", "src/main.rs")
    found = discover([str(tmp_path / "src")])
    assert names(found, tmp_path) == ["src/main.rs"]


def test_gitignore_outside_any_repository_above_the_root_does_not_apply(tmp_path):
    (tmp_path / ".gitignore").write_text("*.rs\n")
    make(tmp_path, "project/main.rs")
    assert names(discover([str(tmp_path / "project")]), tmp_path) == ["project/main.rs"]


def test_named_files_are_always_linted_even_when_ignored(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.py\n")
    make(tmp_path, "ignored.py", "target/x.rs")
    found = discover([str(tmp_path / "ignored.py"), str(tmp_path / "target" / "x.rs")])
    assert names(found, tmp_path) == ["ignored.py", "target/x.rs"]


def test_order_is_deterministic_and_duplicates_collapse(tmp_path):
    make(tmp_path, "b.rs", "a.rs", "c/a.py", "c-d.rs")
    first = discover([str(tmp_path / "c"), str(tmp_path), str(tmp_path / "a.rs")])
    # Directory by directory: a directory's files come before a sibling whose name it
    # prefixes ("c/" before "c-d.rs", though "-" sorts before "/").
    assert names(first, tmp_path) == ["a.rs", "b.rs", "c/a.py", "c-d.rs"]


def test_missing_paths_are_reported_not_raised(tmp_path):
    found = discover([str(tmp_path / "nope.rs")])
    assert found.files == [] and found.missing == [str(tmp_path / "nope.rs")]


def test_symlinked_directories_are_not_followed_into_loops(tmp_path):
    make(tmp_path, "a/x.rs")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    assert names(discover([str(tmp_path)]), tmp_path) == ["a/x.rs"]


def test_display_path_is_relative_below_cwd_and_absolute_elsewhere(tmp_path):
    assert display_path(str(tmp_path / "a" / "b.rs"), str(tmp_path)) == "a/b.rs"
    assert display_path(str(tmp_path) + "-sibling/x.py", str(tmp_path)) == str(tmp_path) + "-sibling/x.py"
    assert display_path("/elsewhere/x.py", str(tmp_path)) == "/elsewhere/x.py"
