"""Side-by-side benchmarks: every figure is a ratio to a floor measured in the same run.

Run them with `python3 benchmarks/run.py` (see README, Benchmarks).
"""
