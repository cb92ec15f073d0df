#!/usr/bin/env bash
# Prepare a fresh machine: system tools (as root, via apt-get) and a virtual environment in .venv with
# masr_hls installed.  `bash setup.sh` installs what the flow needs; `bash setup.sh --test` also what the
# test suite needs (Verilator, Yosys, Graphviz and the dev extras).
set -euo pipefail
cd "$(dirname "$0")"

tests=false
case "${1:-}" in
    "") ;;
    --test) tests=true ;;
    *) echo "usage: bash setup.sh [--test]" >&2; exit 2 ;;
esac

need=()
command -v g++ >/dev/null || need+=(g++)
command -v tclsh >/dev/null || need+=(tcl)
command -v espeak-ng >/dev/null || need+=(espeak-ng)  # speaks the keyword data set (masr_hls.training.speech_data)
if $tests; then
    command -v verilator >/dev/null || need+=(verilator)  # RTL twin of the engine
    command -v yosys >/dev/null || need+=(yosys)
    command -v dot >/dev/null || need+=(graphviz)  # hls4ml.utils.plot_model draws with it
fi
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
if $tests; then
    .venv/bin/python -m pip install -q ".[dev]"
else
    .venv/bin/python -m pip install -q .
fi
echo "setup: ready (.venv)"
