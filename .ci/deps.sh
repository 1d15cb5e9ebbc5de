#!/usr/bin/env bash
# Installs what the build, the tests and the demo need, from Debian's packages.
# Root installs with apt-get; anyone else gets the command to run.
set -euo pipefail
# `deps.sh demo`: what building and running the demo needs; otherwise also the
# test suite's (Criterion, ONNX conformance data, and torch + torchvision, with
# which the checkpoint tests build real torchvision models to compare against,
# and matplotlib, with which cli_bench checks profiling/plot_bench.py; curl and
# python3-venv, with which cli_serve and cli_serve_triton talk to ppserve; Open
# MPI, with which cli_mpi runs ppengine on 2 and 4 ranks: docs/scale.md).
# libmicrohttpd is ppserve's HTTP layer (docs/serving.md says why).
pkgs=(cmake make gcc g++ pkg-config libcjson-dev zlib1g-dev libmicrohttpd-dev)
[ "${1:-test}" = demo ] || pkgs+=(libcriterion-dev libonnx-testdata python3-numpy python3-onnx python3-torch python3-torchvision python3-matplotlib curl python3-venv libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ppengine needs these packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "ppengine needs ${missing[*]} and this machine has no apt-get; install them by hand" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
