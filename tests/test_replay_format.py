"""Replay files: round trip, and every corrupt case refused with the file, the line and the problem."""

import json

import pytest

from game.sim import actions
from game.sim.replay import Replay, ReplayError, ReplayHeader, ReplayWriter, read_replay, write_replay

SHA = "ab" * 32
HEADER = {"format": "lumen-replay", "version": 1, "level": "renal-cobra", "level_sha256": SHA, "seed": 7}


def lines_file(tmp_path, lines, end="\n"):
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines) + end)
    return path


def test_round_trip_keeps_every_action_and_extra_header_fields(tmp_path):
    header = ReplayHeader("renal-cobra", SHA, 7, {"app_version": "0.1.0", "trainee": "ana"})
    acts = (
        actions.make(0.0, "select", "wire"),
        actions.make(0.5, "advance", 20),
        actions.make(1.0, "carm", {"lao": 30, "cra": -10}),
        actions.make(2.0, "fluoro", True),
        actions.make(2.0, "end"),
    )
    write_replay(tmp_path / "r.jsonl", Replay(header, acts))
    back = read_replay(tmp_path / "r.jsonl")
    assert back.header == header
    assert back.actions == acts


def test_writer_flushes_every_line_so_a_crash_loses_nothing_written(tmp_path):
    writer = ReplayWriter(tmp_path / "live.jsonl", ReplayHeader("x", SHA, 1))
    writer.append(actions.make(1.0, "fluoro", True))
    # Without closing (as if the process died), the file already holds both lines.
    assert read_replay(tmp_path / "live.jsonl").actions[0].name == "fluoro"
    writer.close()


CASES = [
    ("empty", [], "", None, "empty"),
    ("not json header", ["{nope"], "\n", 1, "not valid JSON"),
    ("wrong format", [{**HEADER, "format": "other"}], "\n", 1, "not a Lumen replay"),
    ("future version", [{**HEADER, "version": 2}], "\n", 1, "unsupported replay version 2"),
    ("bad sha", [{**HEADER, "level_sha256": "xyz"}], "\n", 1, "level_sha256"),
    ("bad seed", [{**HEADER, "seed": -1}], "\n", 1, "seed"),
    ("unknown action", [HEADER, {"t": 0, "action": "teleport", "value": 1}], "\n", 2, "unknown action 'teleport'"),
    ("wrong type", [HEADER, {"t": 0, "action": "advance", "value": "fast"}], "\n", 2, "must be a number"),
    ("wrong flag", [HEADER, {"t": 0, "action": "fluoro", "value": 1}], "\n", 2, "true or false"),
    ("bad pulse rate", [HEADER, {"t": 0, "action": "pulse_rate", "value": 12}], "\n", 2, "one of 7.5, 15, 30"),
    ("carm keys", [HEADER, {"t": 0, "action": "carm", "value": {"lao": 1}}], "\n", 2, "missing cra"),
    ("negative t", [HEADER, {"t": -1, "action": "end"}], "\n", 2, "non-negative"),
    ("nan t", [HEADER, '{"t": NaN, "action": "end"}'], "\n", 2, "not valid JSON"),
    ("backwards", [HEADER, {"t": 2, "action": "end"}, {"t": 1, "action": "end"}], "\n", 3, "backwards"),
    ("extra key", [HEADER, {"t": 0, "action": "end", "velue": 1}], "\n", 2, "unknown keys velue"),
    ("truncated", [HEADER, {"t": 0, "action": "fluoro", "value": True}, '{"t": 1, "act'], "", 3, "truncated"),
    ("corrupt middle", [HEADER, '{"t": 1, "act', {"t": 2, "action": "end"}], "\n", 2, "not valid JSON"),
    ("blank line", [HEADER, "", {"t": 2, "action": "end"}], "\n", 2, "blank line"),
    ("array line", [HEADER, [1, 2]], "\n", 2, "must be an object"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_corrupt_replays_name_the_file_line_and_problem(tmp_path, case):
    _, lines, end, line, fragment = case
    path = lines_file(tmp_path, lines, end)
    with pytest.raises(ReplayError) as info:
        read_replay(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert fragment in message
    assert info.value.line == line


def test_binary_and_missing_files(tmp_path):
    (tmp_path / "b.jsonl").write_bytes(b"\x00\x01\x02")
    with pytest.raises(ReplayError, match="binary"):
        read_replay(tmp_path / "b.jsonl")
    with pytest.raises(ReplayError, match="no such file"):
        read_replay(tmp_path / "none.jsonl")
