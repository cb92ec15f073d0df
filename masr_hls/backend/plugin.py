"""The MASR backend for hls4ml: a plugin derived from hls4ml's Vitis backend.

``backend="MASR"`` in hls4ml's own API gives MASR hardware: the Keras handlers
(``frontend.keras_v3``) emit the recurrent layers correctly, ``create_layer_class``
makes MASR nodes (``backend.layers``) of hls4ml's GRU, LSTM, SimpleRNN,
Bidirectional and Dense, and the MASR flows run the passes in ``backend/passes``
(one per file), the templates and the MASR writer.  ``compile`` builds the
C simulation with the content-cached g++ build and ``predict`` runs it, batched.
Vitis' part, clock and build handling are inherited.

This module is the one place that touches hls4ml's backend internals.
"""

from __future__ import annotations

from hls4ml.backends import VitisBackend
from hls4ml.backends.fpga.fpga_backend import FPGABackend
from hls4ml.model.flow import register_flow

from masr_hls.backend.config import DEFAULT_CLOCK_PERIOD, DEFAULT_PART
from masr_hls.backend.layers import STOCK_TO_MASR
from masr_hls.backend.passes.build_designs import BuildDesigns
from masr_hls.backend.passes.fold_activation import FoldActivation
from masr_hls.backend.passes.fold_batchnorm import FoldBatchNormalization
from masr_hls.backend.passes.refuse_unsupported import RefuseUnsupported
from masr_hls.backend.templates import TEMPLATES
from masr_hls.frontend.entry_points import BACKEND_NAME as NAME


class MASRBackend(VitisBackend):
    def __init__(self):
        FPGABackend.__init__(self, name=NAME)  # Vitis' own constructor hard-codes its name
        self._register_layer_attributes()
        self._register_flows()

    def _init_file_optimizers(self):
        # Only MASR's passes: Vitis' pass files would register Vitis validations under our name.
        return {p.get_name(): p for p in (RefuseUnsupported(), FoldBatchNormalization(), FoldActivation(), BuildDesigns())}

    def _register_layer_attributes(self):
        self.attribute_map = {}  # MASR layers declare their own keys (backend/layers.py)

    def _register_flows(self):
        for template in TEMPLATES:
            self.register_template(template)
        refuse = register_flow("refuse", ["masr:refuse_unsupported"], backend=self.name)
        fold = register_flow("fold", ["masr:fold_batchnorm", "masr:fold_activation"], requires=[refuse], backend=self.name)
        build = register_flow("build", ["masr:build_designs"], requires=[fold], backend=self.name)
        templates = register_flow("apply_templates", self._get_layer_templates, requires=[build], backend=self.name)
        self._default_flow = register_flow("ip", None, requires=[refuse, fold, build, templates], backend=self.name)
        self._writer_flow = register_flow("write", ["make_stamp", "masr:write_hls"], requires=[self._default_flow], backend=self.name)

    def create_layer_class(self, layer_class):
        """hls4ml's GRU, LSTM, SimpleRNN, Bidirectional and Dense become MASR nodes; other layers stay hls4ml's."""
        return super().create_layer_class(STOCK_TO_MASR.get(layer_class.__name__, layer_class))

    def create_initial_config(self, part=DEFAULT_PART, clock_period=DEFAULT_CLOCK_PERIOD, clock_uncertainty="27%", **kwargs):
        return super().create_initial_config(part=part or DEFAULT_PART, clock_period=clock_period, clock_uncertainty=clock_uncertainty, **kwargs)

    # MASR's view of a converted graph (masr_hls.model.MasrModel.of), which compiles, simulates and builds it.  It
    # lives in the layer above the backend, which sets it here when it loads (masr_hls imports it).
    view = None

    def compile(self, model):
        """Build the C simulation of the written project (cached by content); the path of the model's own instance
        of it, its weights loaded (hls4ml loads that path and so shares the instance)."""
        return str(type(self).view(model).instances(1)[0]._name)

    def predict(self, model, x, level: str = "csim", **kwargs):
        """Keras-shaped outputs of ``x``: ``level`` 'csim' (the compiled project) or 'reference' (numpy)."""
        return type(self).view(model).predict(x, level=level, **kwargs)

    def build(self, model, **kwargs):
        """hls4ml's ``build``: export to ``<output_dir>/vitis`` and run Vitis HLS there (it must be on PATH)."""
        return type(self).view(model).build(**kwargs)
