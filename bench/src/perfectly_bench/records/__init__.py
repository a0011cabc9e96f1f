"""What a run is, as data: the typed records of scenarios and timed runs, the versioned
results file (with the readers of versions 1 and 2), and the same measurements in
pyperf's format (:func:`.pyperf_json.write`, ``pyperf.json`` beside ``results.json``)."""
