"""Fuzzing budget: small in CI, as long as asked for on demand.

``CHAPTERKIT_FUZZ_EXAMPLES`` sets the examples per test (default 25, which keeps the
suite to about a minute on a loaded 2-core machine); ``CHAPTERKIT_FUZZ_EXAMPLES=5000``
is a long run. Failing examples are printed by hypothesis as a reproducible blob.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("CHAPTERKIT_FUZZ_EXAMPLES", "25"))
#: Any one call (a parse, a reader, a CLI run) must end within this, loaded machine included.
CALL_SECONDS = 20.0

settings.register_profile(
    "chapterkit-fuzz", max_examples=EXAMPLES, deadline=None, derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])
FUZZ = settings.get_profile("chapterkit-fuzz")


def fewer(divisor: int) -> settings:
    """The profile with fewer examples, for calls that start a process (FFmpeg, the CLI)."""
    return settings(FUZZ, max_examples=max(3, EXAMPLES // divisor))
