"""Project rules that a test can check: documented settings, ruff, the import direction."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_every_setting_is_documented_in_the_readme():
    from kb.settings import Settings

    readme = (ROOT / "README.md").read_text()
    missing = [f"KB_{name.upper()}" for name in Settings.model_fields if f"KB_{name.upper()}" not in readme]
    assert not missing, f"document these settings in README.md: {missing}"


def test_kb_imports_nothing_of_ours_and_arrows_point_one_way():
    allowed = {"kb": {"kb"}, "ingest": {"kb", "ingest"}, "index": {"kb", "index"}, "api": {"kb", "ingest", "index", "api"}}
    for package, may_import in allowed.items():
        for file in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
                for name in names:
                    top = name.split(".")[0]
                    if top in allowed:
                        assert top in may_import, f"{file.relative_to(ROOT)} imports {name}"


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install '.[test]')")
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
