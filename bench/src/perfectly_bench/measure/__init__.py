"""How a scenario is timed: the runner, the noise of each run, the machine it ran on, and
the baselines (NumPy, numba, the C yardstick)."""
