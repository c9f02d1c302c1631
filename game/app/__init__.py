"""The pygame front end: scenes, monitor, HUD, input, sound. Reads simulation state, changes it only by actions."""

import os

# pygame prints a banner on stdout when imported; commands with --json print exactly one JSON object there.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
