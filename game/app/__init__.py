"""The pygame front end: scenes, monitor, HUD, input, sound. Reads simulation state, changes it only by actions."""
