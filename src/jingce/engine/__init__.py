"""Batch analytics over the measurement lake.

The ``local`` engine (DuckDB + the numpy batch kernels) is the reference; a Spark engine running
the same kernels comes with the scale-out work.
"""
