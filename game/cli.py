"""The ``lumen`` command line (also ``python -m game``). See PRODUCT.md for the contract.

Headless commands never import pygame; the game window is opened only by ``lumen`` and ``lumen play``.
Every expected failure (a bad level, a missing file) prints one clear message and returns a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from game import __version__

EXIT_OK = 0
EXIT_INVALID = 1  # invalid input: a level with problems, a corrupt replay
EXIT_USAGE = 2  # argparse's own code for a bad command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _open_game(None)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lumen",
        description="Lumen: a training game for fluoroscopy-guided procedures, scored on radiation dose.",
    )
    parser.add_argument("--version", action="version", version=f"lumen {__version__}")
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    play = sub.add_parser("play", help="open the game straight into a level")
    play.add_argument("level", help="a level id (see 'lumen levels') or a path to a level file")
    play.set_defaults(command="play", run=_cmd_play)

    levels = sub.add_parser("levels", help="list the shipped levels")
    levels.add_argument("--json", action="store_true", help="print one JSON object")
    levels.set_defaults(command="levels", run=_cmd_levels)

    check = sub.add_parser("check", help="validate level files")
    check.add_argument("paths", nargs="+", metavar="PATH", help="level files to check")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(command="check", run=_cmd_check)

    klass = sub.add_parser("class", help="classroom sessions: create, leaderboard, export")
    class_sub = klass.add_subparsers(title="class commands", metavar="ACTION", required=True)
    create = class_sub.add_parser("create", help="create a class session and print its code")
    create.add_argument("name", help="the class's name, e.g. 'Radiology residents, March'")
    create.add_argument("--levels", required=True, help="comma-separated level ids (or level files)")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(command="class", run=_cmd_class_create)
    board = class_sub.add_parser("board", help="the class leaderboard")
    board.add_argument("code", help="the class code")
    board.add_argument("--json", action="store_true", help="print one JSON object")
    board.set_defaults(command="class", run=_cmd_class_board)
    export = class_sub.add_parser("export", help="all of the class's runs as CSV")
    export.add_argument("code", help="the class code")
    export.add_argument("--csv", required=True, metavar="FILE", help="where to write the CSV file")
    export.set_defaults(command="class", run=_cmd_class_export)
    return parser


def _add_record_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trainee", metavar="NAME", help="store the run under this trainee")
    parser.add_argument("--class", dest="class_code", metavar="CODE", help="and under this class session")


def _cmd_class_create(args: argparse.Namespace) -> int:
    from game.records.cli import cmd_class_create

    return cmd_class_create(args.name, args.levels, args.json)


def _cmd_class_board(args: argparse.Namespace) -> int:
    from game.records.cli import cmd_class_board

    return cmd_class_board(args.code, args.json)


def _cmd_class_export(args: argparse.Namespace) -> int:
    from game.records.cli import cmd_class_export

    return cmd_class_export(args.code, args.csv)


def _cmd_levels(args: argparse.Namespace) -> int:
    from game.sim.level.library import shipped_levels

    infos, problems = shipped_levels()
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.json:
        print(json.dumps({"levels": [info.to_dict() for info in infos]}))
        return EXIT_OK
    if not infos:
        print("no levels found")
        return EXIT_OK
    width = max(len(i.id) for i in infos)
    for info in infos:
        print(f"{info.id:<{width}}  {'*' * info.difficulty:<5}  {info.procedure:<24}  {info.title}")
        print(f"{'':<{width}}         {info.path}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from game.sim.level import check_level

    results = []
    for path in args.paths:
        started = time.perf_counter()
        problems = check_level(path)
        results.append(
            {
                "path": path,
                "valid": not problems,
                "problems": [str(p) for p in problems],
                "load_ms": round(1000 * (time.perf_counter() - started), 1),
            }
        )
        if not args.json:
            for problem in problems:
                print(problem)
            if not problems:
                print(f"{path}: ok")
    valid = all(r["valid"] for r in results)
    if args.json:
        print(json.dumps({"valid": valid, "levels": results}))
    return EXIT_OK if valid else EXIT_INVALID


def _cmd_play(args: argparse.Namespace) -> int:
    return _open_game(args.level)


def _open_game(level_ref: str | None) -> int:
    from game.sim.level import LevelError, load_level
    from game.sim.level.library import resolve_level

    level = None
    if level_ref is not None:
        try:
            level = load_level(resolve_level(level_ref))
        except LevelError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return EXIT_INVALID
    from game.app.main import run_app

    return run_app(level)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
