"""Generator adapters behind one protocol: SDV, synthcity and calibration baselines.

>>> from generators import make_generator, clone
>>> gen = make_generator("ctgan", epochs=5).fit(train, random_state=0)
>>> synthetic = gen.sample(len(train), random_state=1)
>>> shadow = clone(gen)  # unfitted, same parameters

Importing this package imports no modelling library and registers nothing; built-in generators are
resolved by name on first use (see :mod:`generators.registry`).
"""

from __future__ import annotations

from generators.base import (
    BaseGenerator,
    Generator,
    GeneratorFitError,
    GeneratorSampleError,
    clone,
    privacy_params,
)
from generators.registry import (
    GeneratorInfo,
    available_generators,
    make_generator,
    register_generator,
    unregister_generator,
)

__all__ = [
    "BaseGenerator",
    "Generator",
    "GeneratorFitError",
    "GeneratorInfo",
    "GeneratorSampleError",
    "available_generators",
    "clone",
    "make_generator",
    "privacy_params",
    "register_generator",
    "unregister_generator",
]
