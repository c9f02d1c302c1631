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
    _add_record_options(play)
    play.set_defaults(command="play", run=_cmd_play)

    levels = sub.add_parser("levels", help="list the shipped levels")
    levels.add_argument("--json", action="store_true", help="print one JSON object")
    levels.set_defaults(command="levels", run=_cmd_levels)

    check = sub.add_parser("check", help="validate level files")
    check.add_argument("paths", nargs="+", metavar="PATH", help="level files to check")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument("--solve", action="store_true", help="also let the autopilot play each valid level")
    check.set_defaults(command="check", run=_cmd_check)

    autoplay = sub.add_parser("autoplay", help="the built-in autopilot plays a level headless")
    autoplay.add_argument("level", help="a level id or a path to a level file")
    autoplay.add_argument("--style", choices=("expert", "careless"), default="expert", help="the pilot's habits")
    autoplay.add_argument("--out", metavar="REPLAY", help="write the replay here (JSON Lines)")
    autoplay.add_argument("--seed", type=int, default=0, metavar="N", help="simulation seed (image noise)")
    autoplay.add_argument("--json", action="store_true", help="print the result as one JSON object")
    _add_record_options(autoplay)
    autoplay.set_defaults(command="autoplay", run=_cmd_autoplay)

    replay = sub.add_parser("replay", help="re-simulate a replay and print its result")
    replay.add_argument("replay", help="a replay file (JSON Lines)")
    replay.add_argument("--json", action="store_true", help="print the result as one JSON object")
    replay.add_argument("--watch", action="store_true", help="watch it in the window (play, pause, speed, scrub)")
    _add_record_options(replay)
    replay.set_defaults(command="replay", run=_cmd_replay)

    snapshot = sub.add_parser("snapshot", help="render one fluoroscopy frame of a level's start to a PNG")
    snapshot.add_argument("level", help="a level id or a path to a level file")
    snapshot.add_argument("--out", required=True, metavar="FILE.png", help="where to write the PNG")
    snapshot.add_argument("--raw", metavar="FILE.npy", help="also save the detector image (float32, I/I0)")
    snapshot.add_argument("--lao", type=float, metavar="DEG", help="LAO angle (negative: RAO)")
    snapshot.add_argument("--cra", type=float, metavar="DEG", help="CRA angle (negative: CAU)")
    snapshot.add_argument("--fov", type=float, metavar="CM", help="field of view (detector side)")
    snapshot.add_argument("--dose-scale", type=float, default=1.0, metavar="X", help="dose per pulse factor")
    snapshot.add_argument("--contrast", action="store_true", help="fill every vessel with contrast")
    snapshot.add_argument("--seed", type=int, default=0, metavar="N", help="noise seed")
    snapshot.set_defaults(command="snapshot", run=_cmd_snapshot)

    bench = sub.add_parser("bench", help="headless performance benchmark: physics, imaging, full frame")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--quick", action="store_true", help="fewer repeats (a rough figure in seconds)")
    bench.set_defaults(command="bench", run=_cmd_bench)

    shots = sub.add_parser("shots", help="render a screenshot of every scene to PNG files, headless")
    shots.add_argument("dir", metavar="DIR", help="where to write the PNG files")
    shots.add_argument(
        "--size",
        action="append",
        metavar="WxH",
        help="window size (repeatable; default: 1280x800 and 1920x1080)",
    )
    shots.set_defaults(command="shots", run=_cmd_shots)

    klass = sub.add_parser("class", help="classroom sessions: create, leaderboard, export")
    class_sub = klass.add_subparsers(title="class commands", metavar="ACTION", required=True)
    create = class_sub.add_parser("create", help="create a class session and print its code")
    create.add_argument("name", help="the class's name, e.g. 'Radiology residents, March'")
    create.add_argument("--levels", required=True, help="comma-separated level ids (or level files)")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(command="class", run=_cmd_class_create)
    board = class_sub.add_parser("board", help="the class leaderboard")
    board.add_argument("code", help="the class code")
    board_output = board.add_mutually_exclusive_group()
    board_output.add_argument("--json", action="store_true", help="print one JSON object")
    board_output.add_argument(
        "--window", action="store_true", help="show it in the game window, refreshed as results arrive (projector)"
    )
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

    return cmd_class_board(args.code, args.json, window=args.window)


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
    from game.sim.level import LevelError, load_level

    results = []
    for number, path in enumerate(args.paths, start=1):
        started = time.perf_counter()
        entry: dict = {"path": path}
        try:
            level = load_level(path)
            entry.update(valid=True, problems=[])
        except LevelError as exc:
            level = None
            entry.update(valid=False, problems=[str(p) for p in exc.problems])
        entry["load_ms"] = round(1000 * (time.perf_counter() - started), 1)
        if not args.json:
            for problem in entry["problems"]:
                print(problem)
            if level is not None:
                print(f"{path}: ok")
        if args.solve and level is not None:
            entry["solve"] = _solve(level, path, number, len(args.paths), quiet=args.json)
        results.append(entry)
    valid = all(r["valid"] for r in results)
    solved = all(r.get("solve", {}).get("success", True) for r in results)
    if args.json:
        print(json.dumps({"valid": valid, "solved": solved if args.solve else None, "levels": results}))
    return EXIT_OK if valid and solved else EXIT_INVALID


def _solve(level, path: str, number: int, total: int, quiet: bool) -> dict:
    """Let the expert autopilot play ``level``; print a progress line and its figures."""
    from game.sim.runs import autoplay_level

    if not quiet:
        print(f"[{number}/{total}] solving {level.id} with the autopilot...", flush=True)
    result = autoplay_level(level, "expert")
    summary = {
        "success": result["success"],
        "outcome": result["outcome"],
        "fluoro_time_s": result["fluoro_time_s"],
        "air_kerma_mGy": result["air_kerma_mGy"],
        "kap_Gycm2": result["kap_Gycm2"],
        "contrast_mL": result["contrast_mL"],
        "sim_time_s": result["sim_time_s"],
    }
    if "autopilot_problem" in result:
        summary["why"] = result["autopilot_problem"]
    if not quiet:
        verdict = "solvable" if result["success"] else f"NOT solved ({summary.get('why', result['message'])})"
        print(
            f"{path}: {verdict}: fluoroscopy {result['fluoro_time_s']:.1f} s, Ka,r {result['air_kerma_mGy']:.2f} "
            f"mGy, KAP {result['kap_Gycm2']:.3f} Gy*cm2, contrast {result['contrast_mL']:.1f} mL"
        )
    return summary


def _load(ref: str):
    """The level named by an id or a path, or None after printing its problems."""
    from game.sim.level import LevelError, load_level
    from game.sim.level.library import resolve_level

    try:
        return load_level(resolve_level(ref))
    except LevelError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def _cmd_snapshot(args: argparse.Namespace) -> int:
    import numpy as np

    from game.pngio import write_png
    from game.sim.imaging.snapshot import render_snapshot

    level = _load(args.level)
    if level is None:
        return EXIT_INVALID
    if not 0.0 < args.dose_scale <= 100.0:
        print(f"lumen snapshot: --dose-scale must be in (0, 100], not {args.dose_scale:g}", file=sys.stderr)
        return EXIT_INVALID
    try:
        display, raw = render_snapshot(
            level,
            lao_deg=args.lao,
            cra_deg=args.cra,
            fov_cm=args.fov,
            dose_scale=args.dose_scale,
            contrast=args.contrast,
            seed=args.seed,
        )
    except ValueError as exc:  # an impossible geometry, e.g. a negative field
        print(f"lumen snapshot: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        write_png(args.out, display)
        if args.raw:
            np.save(args.raw, raw.astype(np.float32))
    except OSError as exc:
        print(f"lumen snapshot: cannot write {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {args.out}" + (f" and {args.raw}" if args.raw else ""))
    return EXIT_OK


def _cmd_autoplay(args: argparse.Namespace) -> int:
    from game.sim.runs import RunError, autoplay_level

    level = _load(args.level)
    if level is None:
        return EXIT_INVALID
    if not _record_target_ok(args, level.id):
        return EXIT_INVALID
    try:
        result = autoplay_level(level, style=args.style, seed=args.seed, replay_path=args.out)
    except RunError as exc:
        print(f"lumen autoplay: {exc}", file=sys.stderr)
        return EXIT_INVALID
    _record(args, result, args.out)
    _print_result(result, args.json)
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from game.sim.replay import ReplayError
    from game.sim.runs import RunError, load_replay_level, replay_run

    try:
        replay, level = load_replay_level(args.replay)
    except (ReplayError, RunError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    if args.watch:
        from game.app.main import watch_replay

        return watch_replay(args.replay)
    if not _record_target_ok(args, level.id):
        return EXIT_INVALID
    result = replay_run(level, replay)
    _record(args, result, args.replay)
    _print_result(result, args.json)
    return EXIT_OK


def _record_target_ok(args: argparse.Namespace, level_id: str) -> bool:
    if not (args.trainee or args.class_code):
        return True
    from game.records.cli import check_run_target

    problem = check_run_target(args.trainee, args.class_code, level_id)
    if problem:
        print(problem, file=sys.stderr)
    return problem is None


def _record(args: argparse.Namespace, result: dict, replay_path: str | None) -> None:
    if not (args.trainee or args.class_code):
        return
    from game.records.cli import record_run

    print(record_run(result, replay_path, args.trainee, args.class_code), file=sys.stderr)


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    outcome = "SUCCESS" if result["success"] else result["outcome"].upper().replace("_", " ")
    print(f"{result['level']}: {outcome} - {result['message']}")
    print(
        f"  time {result['sim_time_s']:.1f} s, fluoroscopy {result['fluoro_time_s']:.1f} s, "
        f"cine {result['cine_frames']} frames, contrast {result['contrast_mL']:.1f} mL"
    )
    print(
        f"  Ka,r {result['air_kerma_mGy']:.2f} mGy, KAP {result['kap_Gycm2']:.3f} Gy*cm2, "
        f"peak skin {result['peak_skin_dose_mGy']:.2f} mGy, operator {result['operator_dose_uSv']:.2f} uSv"
    )
    print(f"  score {result['score']}, {'*' * result['stars'] or 'no stars'}")
    for sentence in result["feedback"]:
        print(f"  - {sentence}")


def _cmd_bench(args: argparse.Namespace) -> int:
    from game.benchmarks.run import run_all

    figures = run_all(quick=args.quick)
    if args.json:
        print(json.dumps(figures))
        return EXIT_OK
    print(f"physics step    {figures['physics_step_ms']:8.3f} ms (median)")
    print(f"image 512x512   {figures['image_ms']:8.3f} ms (median)")
    print(f"C-arm move      {figures['background_ms']:8.3f} ms (median, background recomputed)")
    sim = figures["details"]["sim_frame"]
    print(f"sim frame       {sim['median']:8.3f} ms median, {sim['p95']:.3f} ms p95 (simulation + image, no drawing)")
    print(
        f"full frame      {figures['frame_ms_median']:8.3f} ms median, {figures['frame_ms_p95']:.3f} ms p95, "
        f"{figures['fps_median']:.0f} fps (simulation + image + monitors and HUD at "
        f"{figures['details']['frame']['size']}, {figures['details']['frame']['video_driver']} video driver)"
    )
    frame = figures["details"]["frame"]
    if frame.get("pulse_frame_ms_median") is not None:
        print(
            f"                {frame['pulse_frame_ms_median']:8.3f} ms median with an X-ray pulse "
            f"({frame['pulse_frames']} of {frame['frames']} frames), {frame['other_frame_ms_median']:.3f} ms without"
        )
    return EXIT_OK


def _cmd_play(args: argparse.Namespace) -> int:
    return _open_game(args.level, args.trainee, args.class_code)


def _open_game(level_ref: str | None, trainee: str | None = None, class_code: str | None = None) -> int:
    level = None
    if level_ref is not None:
        level = _load(level_ref)
        if level is None:
            return EXIT_INVALID
    if trainee or class_code:
        from game.records import names
        from game.records.errors import InvalidInputError

        target = argparse.Namespace(trainee=trainee, class_code=class_code)
        if not _record_target_ok(target, level.id if level else None):
            return EXIT_INVALID
        try:
            trainee = names.trainee_name(trainee) if trainee else None
            class_code = names.class_code(class_code) if class_code else None
        except InvalidInputError as exc:
            print(f"lumen play: {exc}", file=sys.stderr)
            return EXIT_INVALID
    from game.app.main import run_app

    return run_app(level, trainee=trainee, class_code=class_code)


def _cmd_shots(args: argparse.Namespace) -> int:
    sizes = []
    for text in args.size or ("1280x800", "1920x1080"):
        try:
            width, height = (int(v) for v in text.lower().split("x"))
            if not (320 <= width <= 7680 and 240 <= height <= 4320):
                raise ValueError
        except ValueError:
            print(f"lumen shots: --size must be WIDTHxHEIGHT (e.g. 1280x800), not {text!r}", file=sys.stderr)
            return EXIT_INVALID
        sizes.append((width, height))
    from game.app.shots import ShotError, render_shots

    try:
        written = render_shots(args.dir, sizes, progress=lambda message: print(message, file=sys.stderr))
    except ShotError as exc:
        print(f"lumen shots: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {len(written)} screenshots to {args.dir}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
