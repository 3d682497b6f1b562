#!/usr/bin/env bash
# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0
#
# Build nsvla_interfaces (rosidl: msg/srv/action) into a Python prefix on a wheel-only machine,
# where there is no colcon and no /opt/ros. On a full ROS 2 install use colcon instead.
# Usage: scripts/build_interfaces.sh PREFIX [PYTHON]   (PREFIX: the venv, e.g. .venv)
# rclpy finds the result with no setup.bash: the Python package goes to PREFIX's site-packages,
# the libraries to PREFIX/lib, the ament index to PREFIX/share.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=$(cd "$1" && pwd)
PY=${2:-$PREFIX/bin/python}
BUILD=${NSVLA_INTERFACES_BUILD:-$PREFIX/build/nsvla_interfaces}
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$BUILD"
export AMENT_PREFIX_PATH="$PREFIX${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export PATH="$PREFIX/bin:$PATH"
cmake -S nsvla_interfaces -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DPython3_EXECUTABLE="$PY" \
  -DPYTHON_INSTALL_DIR="$(realpath --relative-to="$PREFIX" "$SITE")" \
  -DCMAKE_PROJECT_INCLUDE="$(pwd)/scripts/wheel_include_fix.cmake" \
  -DBUILD_TESTING=OFF >"$BUILD/configure.log" 2>&1 \
  || { tail -n 40 "$BUILD/configure.log"; echo "[nsvla interfaces] configure failed" >&2; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" >"$BUILD/build.log" 2>&1 \
  || { grep -m 20 -B 2 -A 8 -i 'error' "$BUILD/build.log" | head -60; echo "[nsvla interfaces] build failed" >&2; exit 1; }
cmake --install "$BUILD" >"$BUILD/install.log" 2>&1 \
  || { tail -n 20 "$BUILD/install.log"; echo "[nsvla interfaces] install failed" >&2; exit 1; }
