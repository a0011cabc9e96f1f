"""What a run measures: the scenario matrix, the range sizes for this machine, and how hard
it tries (the presets)."""
