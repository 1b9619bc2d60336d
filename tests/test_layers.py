"""The library stands alone: game and evaluation commands plug in, and every package folder ships."""
import sys
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import graphmem.cli as cli

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_COMMANDS = ("eval-qa", "eval-memory", "play", "eval-agents")


def _commands(parser) -> set[str]:
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


def test_plugin_commands_join_the_one_command():
    commands = _commands(cli.build_parser())
    assert set(PLUGIN_COMMANDS) <= commands
    assert {"extract", "build", "ask", "cypher", "serve-mcp"} <= commands


def test_without_plugins_the_engine_commands_remain(monkeypatch):
    monkeypatch.setattr(cli, "entry_points", lambda group: [])
    commands = _commands(cli.build_parser())
    assert not set(PLUGIN_COMMANDS) & commands
    assert {"extract", "build", "add", "forget", "ask", "cypher", "recall", "view", "serve-mcp"} <= commands


def test_a_broken_plugin_is_left_out_with_a_warning(monkeypatch, capsys):
    broken = EntryPoint(name="broken", value="no_such_module_anywhere:register", group=cli.PLUGIN_GROUP)
    monkeypatch.setattr(cli, "entry_points", lambda group: [broken])
    assert "build" in _commands(cli.build_parser())
    err = capsys.readouterr().err
    assert "plugin 'broken'" in err and "left out" in err


def test_game_commands_say_which_extra_they_need(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textworld", None)  # as if the games extra were not installed
    assert cli.main(["play", "--game", "x.z8", "--agent", "ariadne"]) == 2
    assert "pip install 'graphmem[games]'" in capsys.readouterr().err


def test_every_package_folder_is_listed_for_the_wheel():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    import_name = {folder: name for name, folder in setuptools["package-dir"].items()}
    found = set()
    for init in ROOT.glob("*/**/__init__.py"):
        parts = init.parent.relative_to(ROOT).parts
        if parts[0] in ("graphmem", *import_name):
            found.add(".".join((import_name.get(parts[0], parts[0]), *parts[1:])))
    assert found == set(setuptools["packages"])


@pytest.mark.parametrize("folder, name", [("agents", "graphmem_agents"), ("environments", "graphmem_environments")])
def test_app_folders_install_under_names_of_their_own(folder, name):
    module = __import__(name)
    assert Path(module.__file__).resolve().parent == ROOT / folder
