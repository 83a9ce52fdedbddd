#!/usr/bin/env bash
# The studio as a user installs it: a wheel built from this checkout, in a fresh environment
# that has torch and nothing else, used from a folder outside the repository.
#
#   1. torch only: the generated training script trains from weights.pt, and for
#      weights.safetensors (no safetensors package) says exactly what to install;
#   2. + the wheel (and the dependencies it declares, no test extras): cnnstudio --version,
#      summary of a bundled example, a short train on the built-in MNIST, export to ONNX,
#      TorchScript, safetensors and Keras, a screenshot of the window; the training script then
#      finds the installed studio's MNIST and reads .safetensors weights.
#
# Usage: .ci/fresh_install.sh PYTHON   (PYTHON: an environment with this checkout installed and the
# test extra, which builds the wheel and writes the script; .ci/run passes its own).
# KEEP_FRESH_INSTALL=1 keeps the work folder (the venv, the run, window.png) and prints its path.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
builder=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/cnnstudio-fresh-install.XXXXXX")
if [ -n "${KEEP_FRESH_INSTALL:-}" ]; then
    trap 'echo "fresh-install: kept $work"' EXIT
else
    trap 'rm -rf "$work"' EXIT
fi
export QT_QPA_PLATFORM=offscreen PIP_DISABLE_PIP_VERSION_CHECK=1
checkout_path=${PYTHONPATH:-}
unset PYTHONPATH  # nothing of the checkout leaks into the fresh environment
checkout() { PYTHONPATH=$checkout_path "$builder" "$@"; }

timings=()
started=$EPOCHREALTIME
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%7.1f s", b - a }'; }
step() {  # step NAME: note the time the previous step took, announce the next
    if [ -n "${current:-}" ]; then
        timings+=("$(seconds_since "$last")  $current")
    fi
    current=$1 last=$EPOCHREALTIME
    echo "fresh-install: $1"
}
pip_quietly() {  # pip, without this machine's notes about index folders it skips
    "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
fail() { echo "fresh-install: FAILED: $*" >&2; exit 1; }
expect() {  # expect TEXT FILE: FILE contains TEXT
    grep -qF -- "$1" "$2" || { cat "$2" >&2; fail "expected '$1' in $(basename "$2")"; }
}

step "build the wheel (from a copy of the checkout)"
mkdir -p "$work/source" "$work/dist" "$work/user"
cp -r "$repo"/{pyproject.toml,README.md,cnnstudio,resources,projects} "$work/source/"
checkout -m pip wheel --quiet --no-deps --no-build-isolation -w "$work/dist" "$work/source" >/dev/null
wheel=$(ls "$work"/dist/cnnstudio-*.whl)

step "write a training script and weights with the checkout"
cd "$work/user"
checkout -m cnnstudio export "$repo/projects/lecture_mnist.cnnproj" --format train-script -o train.py
checkout - <<'EOF'
import torch
from safetensors.torch import save_file
from cnnstudio.core import build_model, load_project
from cnnstudio.paths import EXAMPLE_PROJECTS
state = build_model(load_project(EXAMPLE_PROJECTS / "lecture_mnist.cnnproj").network).state_dict()
torch.save(state, "weights.pt")
save_file({key: value.contiguous() for key, value in state.items()}, "weights.safetensors")
EOF

step "create a venv and install torch==2.13.0 alone"
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
pip_quietly "$py" -m pip install --quiet torch==2.13.0
"$py" -c "import numpy" 2>/dev/null && fail "numpy is in the torch-only environment"
"$py" -c "import safetensors" 2>/dev/null && fail "safetensors is in the torch-only environment"

step "torch only: the training script trains from weights.pt"
"$py" train.py --init weights.pt --data "$repo/resources/datasets" --limit 2000 --epochs 1 --out trained.pt >pt.log 2>&1 \
    || { cat pt.log >&2; fail "train.py --init weights.pt"; }
expect "saved trained.pt" pt.log

step "torch only: weights.safetensors, and no data given"
if "$py" train.py --init weights.safetensors --data "$repo/resources/datasets" --limit 200 --epochs 1 >st.log 2>&1; then
    fail "train.py --init weights.safetensors ran without the safetensors package"
fi
expect "needs the safetensors package: pip install safetensors" st.log
if "$py" train.py --init weights.pt --epochs 1 >nodata.log 2>&1; then
    fail "train.py found data with no studio installed and no --data"
fi
expect "--data DIR" nodata.log
grep -q Traceback st.log nodata.log && fail "a traceback instead of a message"

step "install the wheel (its declared dependencies, no extras)"
pip_quietly "$py" -m pip install --quiet "$wheel"
"$py" -c "import onnxruntime" 2>/dev/null && fail "onnxruntime came with the plain install"
bin="$work/venv/bin"
[ -x "$bin/cnnstudio" ] && [ -x "$bin/cnnstudio-studio" ] || fail "the cnnstudio and cnnstudio-studio commands are missing"

step "installed: version, summary of a bundled example"
"$bin/cnnstudio" --version | tee version.log
expect "CNN Studio " version.log
examples=$("$py" -c "from cnnstudio.paths import EXAMPLE_PROJECTS; print(EXAMPLE_PROJECTS)")
case "$examples" in "$work/venv/"*) ;; *) fail "the examples are not in the installed package: $examples" ;; esac
cp "$examples/lecture_mnist.cnnproj" .
"$bin/cnnstudio" summary lecture_mnist.cnnproj >summary.log
expect "Total params: 93,322" summary.log

step "installed: train on the built-in MNIST"
"$bin/cnnstudio" train lecture_mnist.cnnproj --subset 1000 --epochs 1 --threads 1 | tee train.log
expect "Finished in" train.log
weights=$(ls lecture_mnist.runs/*/weights.pt)

step "installed: export to ONNX, TorchScript and safetensors"
for target in lecture.onnx lecture.pt lecture.safetensors; do
    format=$(case $target in *.onnx) echo onnx ;; *.pt) echo torchscript ;; *) echo safetensors ;; esac)
    "$bin/cnnstudio" export lecture_mnist.cnnproj --weights "$weights" --format "$format" -o "$target"
    [ -s "$target" ] || fail "export --format $format wrote nothing"
done

step "installed: export Keras code with its weights (h5py comes with the plain install)"
"$bin/cnnstudio" export lecture_mnist.cnnproj --weights "$weights" --format keras -o keras_net.py | tee keras.log
expect "keras_net.weights.h5" keras.log
[ -s keras_net.weights.h5 ] || fail "no Keras weights file"

step "installed: the window renders (offscreen screenshot)"
"$bin/cnnstudio" screenshot lecture_mnist.cnnproj -o window.png --size 1200x800 >/dev/null
[ -s window.png ] || fail "no screenshot"

step "installed: the training script finds the studio's MNIST and reads .safetensors"
"$py" train.py --init weights.safetensors --limit 2000 --epochs 1 --out again.pt >shipped.log 2>&1 \
    || { cat shipped.log >&2; fail "train.py with the installed studio"; }
expect "(the MNIST that ships with CNN Studio)" shipped.log
expect "$work/venv/" shipped.log
expect "saved again.pt" shipped.log

step "done"
for line in "${timings[@]}"; do echo "fresh-install: $line"; done
echo "fresh-install: $(seconds_since "$started")  in all"
echo "fresh-install: passed"
