"""masr_hls: trained Keras sparse recurrent models to MASR accelerator hardware (HLS C++), as hls4ml's backend ``MASR``.

    import masr_hls
    config = masr_hls.config_from_keras_model(model, granularity="name", lanes=8)
    hm = masr_hls.convert_from_keras_model(model, hls_config=config, output_dir="build/kws")  # an hls4ml ModelGraph
    hm.compile()
    y = hm.predict(x)                          # C simulation, Keras-shaped
    hw = masr_hls.masr_model(hm)               # MASR's view: reference, csim figures, cross-check, export
    print(hw.cross_check(x).summary())

The same ModelGraph comes from hls4ml's own API with ``backend="MASR"``.
"""

from __future__ import annotations

import warnings

__version__ = "0.1.0"

from masr_hls.backend.config import ConfigError, config_from_keras_model
from masr_hls.backend.convert import convert_from_keras_model
from masr_hls.frontend.keras_reader import ConversionError
from masr_hls.model import MasrModel


def masr_model(hm) -> MasrModel:
    """MASR's view of a converted ModelGraph (:class:`masr_hls.model.MasrModel`), one per graph."""
    return MasrModel.of(hm)


def hardware(hm) -> MasrModel:
    """The former name of :func:`masr_model`."""
    warnings.warn("masr_hls.hardware() is now masr_hls.masr_model()", DeprecationWarning, stacklevel=2)
    return masr_model(hm)


__all__ = ["config_from_keras_model", "convert_from_keras_model", "masr_model", "MasrModel", "ConversionError", "ConfigError"]
