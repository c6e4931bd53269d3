"""Shared test configuration."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "fuzz",
    deadline=None,
    suppress_health_check=list(HealthCheck),
    max_examples=int(os.environ.get("JINGCE_FUZZ_EXAMPLES", "100000")),
)
settings.load_profile("fuzz" if os.environ.get("JINGCE_FUZZ_EXAMPLES") else "default")
