"""Benchmarks: `python -m bench` (or `python cli.py bench`).

Each ``bench/bench_*.py`` module defines ``run()`` yielding
``(name, value, unit)`` tuples. The runner prints ``name value unit`` lines
and merges the figures into bench/results.json with the machine they were
measured on. Figures never live in tests as timed assertions.
"""
