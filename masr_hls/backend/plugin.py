"""The MASR backend for hls4ml: a plugin derived from hls4ml's Vitis backend.

hls4ml finds it through the ``hls4ml.backends`` entry point (or the
``HLS4ML_BACKEND_PLUGINS`` environment variable) and calls :func:`register`.
It inherits Vitis' configuration, part and clock handling and its flows (so
hls4ml tools that list backends, flows and attributes see a Vitis-like
backend), and converts Keras models with masr_hls' own front end and sparse
layers, because hls4ml 1.3's recurrent handlers mis-compute several cases
(GRU reset_after=False, SimpleRNN, non-concat Bidirectional merges) and
crash on Keras-3 Bidirectional(GRU).

This module is the one place that touches hls4ml's backend internals.
"""

from __future__ import annotations

from hls4ml.backends import VitisBackend
from hls4ml.backends.vivado.vivado_backend import VivadoBackend
from hls4ml.writer.vitis_writer import VitisWriter

NAME = "MASR"


class MASRWriter(VitisWriter):
    """Writes a converted model's HLS project (our headers, generated configuration and ROM weights)."""

    def write_hls(self, model, **kwargs):
        model.write(overwrite=True)


class MASRBackend(VitisBackend):
    def __init__(self):
        super(VivadoBackend, self).__init__(name=NAME)  # FPGABackend's set-up under our name, as Vitis does
        self._register_layer_attributes()
        self._register_flows()

    def create_initial_config(self, part="xcvu9p-flga2104-2-e", clock_period=5, clock_uncertainty="27%", **kwargs):
        return super().create_initial_config(part=part, clock_period=clock_period, clock_uncertainty=clock_uncertainty,
                                             **kwargs)

    def convert(self, model, hls_config=None, output_dir="masr_prj", project_name="myproject", part=None, clock_period=None):
        """Convert a Keras model into a MasrModel with this backend's part and clock defaults."""
        from masr_hls import convert_from_keras_model

        initial = self.create_initial_config(**{k: v for k, v in (("part", part), ("clock_period", clock_period)) if v})
        return convert_from_keras_model(model, hls_config=hls_config, output_dir=output_dir, project_name=project_name,
                                        part=initial["Part"], clock_period=float(initial["ClockPeriod"]))


def register(register_backend=None, register_writer=None) -> None:
    """Register the MASR backend with hls4ml; registering again is a no-op."""
    from hls4ml.backends.backend import backend_map
    from hls4ml.backends.backend import register_backend as hls4ml_register_backend
    from hls4ml.writer.writers import register_writer as hls4ml_register_writer
    from hls4ml.writer.writers import writer_map

    if NAME not in writer_map:
        (register_writer or hls4ml_register_writer)(NAME, MASRWriter)
    if NAME.lower() not in backend_map:
        (register_backend or hls4ml_register_backend)(NAME, MASRBackend)


def backend() -> MASRBackend:
    from hls4ml.backends.backend import get_backend

    register()
    return get_backend(NAME)
