"""TensorFlow's start-up log, kept out of what masr_hls' commands print.

TensorFlow's C++ runtime writes to the process's stderr while it loads and
first looks for devices (absl's pre-initialisation notice, oneDNN and CPU
feature notes, and on a machine without a GPU ``failed call to cuInit: ...
CUDA error``, which reads like a failure).  ``TF_CPP_MIN_LOG_LEVEL`` no longer
silences all of it.  :func:`load_tensorflow` loads TensorFlow with file
descriptor 2 caught, drops the lines it recognises as start-up notices and
passes every other line on.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import tempfile

STARTUP_NOTICES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} .*(port\.cc|cudart_stub\.cc|cpu_feature_guard\.cc|cuda_executor\.cc|gpu_device\.cc)"
    r"|E\d{4} .*cuda_(platform|driver)\.cc.*cuInit"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)"
)


def load_tensorflow() -> None:
    """Import TensorFlow and let it find its devices, without its start-up notices; once per process."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    # TensorFlow's thread pools, started here, inherit a blocked SIGINT: Ctrl-C then reaches the main thread.
    blocked = hasattr(signal, "pthread_sigmask") and signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
            tf.constant(0.0)  # the first tensor makes the runtime probe for devices
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if blocked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        caught.seek(0)
        for line in caught.read().decode(errors="replace").splitlines():
            if line.strip() and not STARTUP_NOTICES.match(line):
                print(line, file=sys.stderr)
