"""Architecture rules: the simulation never imports pygame, directly or through anything it imports."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import game.sim

SIM_DIR = Path(game.sim.__file__).parent


def sim_modules():
    return [m.name for m in pkgutil.walk_packages([str(SIM_DIR)], prefix="game.sim.")]


def test_no_source_file_under_game_sim_imports_pygame():
    offenders = []
    for path in SIM_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}:{node.lineno}" for n in names if n.split(".")[0] == "pygame"]
    assert offenders == []


def test_importing_every_sim_module_loads_no_pygame():
    modules = sim_modules()
    assert len(modules) > 5
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print('pygame' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
