"""The autopilot: plays a level through the same actions a person uses, from what a person could know."""
