# tapegrad/bench/compare_common.sh: what the side-by-side scripts against PyTorch share (sourced,
# not run): Debian's interpreter, installing missing Debian packages, and the median of rounds.

py=/usr/bin/python3  # Debian's interpreter, where python3-torch lives (not a pyenv/venv python3)

# install_missing PACKAGE...: apt-get installs the packages given (nothing when none are).
install_missing() {
  (($#)) || return 0
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

# torch_packages: the packages to install for PyTorch, if it is not importable.
torch_packages() { $py -c "import torch, numpy" 2>/dev/null || echo python3-torch python3-numpy; }

# onnx_packages: the package to install for the onnx Python module, if it is not importable (asked
# for by a submodule: libonnx-testdata's files alone make "import onnx" succeed on an empty package).
onnx_packages() { $py -c "import onnx.numpy_helper" 2>/dev/null || echo python3-onnx; }

# median FILE FIGURE: the median of FIGURE's values over the rounds in FILE.
median() { awk -v f="$2" '$1 == f {print $2}' "$1" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
