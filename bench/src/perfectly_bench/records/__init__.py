"""What a run is, as data: the typed records of scenarios and timed runs, and the versioned
results file (with the readers of versions 1 and 2)."""
