"""The ``jingce`` command line (Typer + Rich): a thin client of ``jingce.services``."""
