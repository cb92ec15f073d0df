"""Which backend an hls4ml conversion is for, so that masr_hls' Keras handlers act only for MASR.

hls4ml's Keras parser has one handler registry for every backend and tells a
handler nothing about the backend.  Three hls4ml functions know it and call the
parser: ``converters.keras_v3_to_hls(config)`` and ``converters.keras_v2_to_hls(config)``
(``config['Backend']``) and ``utils.config.config_from_keras_model(model, ..., backend)``.
A handler asks :func:`conversion` for the innermost of them on the call stack.
``config_from_keras_model`` without a backend is for no backend in particular.
(Wrapping those functions instead does not work: hls4ml loads its plugins half
way through its own import, before they exist.)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

BACKEND_NAME = "MASR"  # the name hls4ml knows the backend by
HLS4ML_DEFAULT_BACKEND = "Vivado"  # hls4ml.utils.config.create_config's default
_FROM_CONFIG = ("keras_v3_to_hls", "keras_v2_to_hls")  # their `config` holds 'Backend' and the Keras model
_FROM_ARGUMENTS = ("config_from_keras_model",)  # takes `backend` and `model`


@dataclass(frozen=True)
class Conversion:
    backend: str | None  # None: a configuration for no backend in particular
    keras_model: object  # the Keras model being read, or None where hls4ml reads it from a file
    to_ir: bool = False  # a conversion into hls4ml's IR (not a configuration being made)

    @property
    def for_masr(self) -> bool:
        return self.backend is not None and self.backend.lower() == BACKEND_NAME.lower()


def conversion() -> Conversion | None:
    """The hls4ml conversion (or config creation) running on this thread's stack, innermost first; None outside one."""
    hls4ml = sys.modules.get("hls4ml")
    if hls4ml is None:
        return None
    package = str(Path(hls4ml.__file__).parent)
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(package):
            local = frame.f_locals
            if code.co_name in _FROM_CONFIG and isinstance(local.get("config"), dict):
                config = local["config"]
                return Conversion(str(config.get("Backend") or HLS4ML_DEFAULT_BACKEND), config.get("KerasModel"), to_ir=True)
            if code.co_name in _FROM_ARGUMENTS:
                backend = local.get("backend")  # a name, or the backend object it has looked up by then
                return Conversion(None if backend is None else str(getattr(backend, "name", backend)), local.get("model"))
        frame = frame.f_back
    return None
