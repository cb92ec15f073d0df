"""masr_hls: trained Keras sparse recurrent models to MASR accelerator hardware (HLS C++).

    import masr_hls
    config = masr_hls.config_from_keras_model(model, lanes=8)
    hw = masr_hls.convert_from_keras_model(model, hls_config=config, output_dir="build/kws")
    hw.compile()
    y = hw.predict(x)                 # C simulation, bit-exact with hw.reference(x)
    print(hw.cross_check(x).summary())
"""

from __future__ import annotations

__version__ = "0.1.0"

from masr_hls.backend.config import ConfigError, config_from_keras_model  # noqa: E402
from masr_hls.frontend.keras_reader import ConversionError  # noqa: E402


def convert_from_keras_model(model, hls_config=None, output_dir="masr_prj", project_name="myproject",
                             part="xcvu9p-flga2104-2-e", clock_period=5.0, backend="MASR"):
    """Convert a Keras 3 model (object or ``.keras`` path) into a :class:`masr_hls.backend.model.MasrModel`.

    ``hls_config``: a dict from :func:`config_from_keras_model`, a path to a YAML file, or None for defaults.
    Nothing is written until ``compile()``, ``write()`` or ``build()``.
    """
    from masr_hls.backend import plugin as hls4ml_backend
    from masr_hls.backend.config import load_yaml, validate
    from masr_hls.backend.model import MasrModel
    from masr_hls.frontend.keras_reader import load_model, read_model

    if backend != hls4ml_backend.NAME:
        raise ConversionError(f"backend {backend!r}: masr_hls converts for the 'MASR' backend only")
    hls4ml_backend.register()
    keras_model = load_model(model)
    if hls_config is None:
        hls_config = {}
    elif not isinstance(hls_config, dict):
        hls_config = load_yaml(hls_config)
    return MasrModel(read_model(keras_model), validate(hls_config), output_dir, project_name, part, clock_period, keras_model)


__all__ = ["config_from_keras_model", "convert_from_keras_model", "ConversionError", "ConfigError"]
