"""Settings for the whole suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Property tests judge behaviour, not speed: on a loaded 2-core CI machine input generation
# and single examples can be slow, which Hypothesis would otherwise report as a failure.
settings.register_profile("edgeshield", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("edgeshield")
