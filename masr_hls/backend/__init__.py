"""The hls4ml backend ``MASR``: registration (idempotent, silent) and the parts it is made of.

Importing this package registers the backend.  hls4ml loads plugins while it
imports ``hls4ml.backends``; ``register`` is defined before anything here
imports hls4ml, so that load finds it even when masr_hls is imported first.
"""

from __future__ import annotations

from masr_hls.frontend.entry_points import BACKEND_NAME as NAME


def register(register_backend=None, register_writer=None) -> None:
    """Register MASR's Keras handlers, layers, writer and backend with hls4ml; registering again is a no-op."""
    from hls4ml.backends.backend import backend_map
    from hls4ml.backends.backend import register_backend as hls4ml_register_backend
    from hls4ml.writer.writers import register_writer as hls4ml_register_writer
    from hls4ml.writer.writers import writer_map

    import masr_hls.frontend.keras_v3  # noqa: F401  (its handlers register themselves)
    from masr_hls.backend.layers import register_layers
    from masr_hls.backend.writer import MASRWriter

    if NAME.lower() in backend_map:
        return
    register_layers()
    if NAME not in writer_map:
        (register_writer or hls4ml_register_writer)(NAME, MASRWriter)
    from masr_hls.backend.plugin import MASRBackend

    (register_backend or hls4ml_register_backend)(NAME, MASRBackend)


import hls4ml.backends  # noqa: E402,F401  (hls4ml loads its plugins, MASR among them when installed)

register()  # also from a source checkout, where no entry point is installed
