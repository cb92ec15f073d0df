#!/usr/bin/env bash
# Prepare a fresh machine: system tools (as root, via apt-get) and a virtual
# environment in .venv with masr_hls and its test dependencies installed.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v g++ >/dev/null || need+=(g++)
command -v tclsh >/dev/null || need+=(tcl)
command -v verilator >/dev/null || need+=(verilator)  # RTL twin of the engine
command -v yosys >/dev/null || need+=(yosys)
command -v espeak-ng >/dev/null || need+=(espeak-ng)  # speaks the keyword data set (masr_hls.training.speech_data)
command -v dot >/dev/null || need+=(graphviz)  # hls4ml.utils.plot_model draws with it
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing ${need[*]} with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "setup: please install ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
        exit 1
    fi
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q ".[dev]"
echo "setup: ready (.venv)"
