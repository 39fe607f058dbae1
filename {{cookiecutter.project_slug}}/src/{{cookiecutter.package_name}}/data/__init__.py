"""Data layer: example sources, data specs, validation and profiling.

Sub-modules are imported on use so that a stage only pays for what it needs
(e.g. pandera is imported by ``validation`` only when a frame is validated).
"""

from .spec import BUILTIN_SPECS, DataSpec, get_spec, spec_from_config

__all__ = ["BUILTIN_SPECS", "DataSpec", "get_spec", "spec_from_config"]
