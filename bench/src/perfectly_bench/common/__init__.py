"""What every stage shares: how numbers read (formatting) and the summary statistics of
timings (stats)."""
