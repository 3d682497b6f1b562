#!/usr/bin/env bash
# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0
#
# One-step set-up on a fresh machine: a virtual environment in .venv with everything nsvla needs.
# - torch is pinned to 2.13.0 (a CPU build on these machines; an unpinned torch pulls GBs of CUDA).
# - The ROS 2 Kilted PyPI wheels are installed ONLY when `import rclpy` fails, so a machine with a
#   full ROS 2 install (source /opt/ros/<distro>/setup.bash first) keeps its own rclpy.
# - Panda meshes come from dm-robotics-panda, installed with --no-deps (its deps are not needed).
# Re-running is cheap: a stamp file skips pip when the requirement files have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${NSVLA_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3}
LOG=$VENV/nsvla-setup.log

if [ ! -x "$VENV/bin/python" ]; then
  echo "[nsvla setup] creating virtual environment $VENV"
  # A full ROS 2 install's rclpy stays visible through PYTHONPATH (set by its setup.bash).
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
STAMP="$VENV/.nsvla-setup-stamp"
# the interface sources are part of the stamp: a changed .msg rebuilds nsvla_interfaces
WANT=$(cat requirements/*.txt setup.py package.xml scripts/build_interfaces.sh \
       scripts/wheel_include_fix.cmake nsvla_interfaces/CMakeLists.txt nsvla_interfaces/package.xml \
       nsvla_interfaces/msg/* nsvla_interfaces/srv/* nsvla_interfaces/action/* \
       | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
    && "$VPY" -c 'import rclpy, nsvla_common, nsvla_interfaces.action' 2>/dev/null; then
  echo "[nsvla setup] up to date ($VENV)"
  exit 0
fi
echo "[nsvla setup] installing Python packages (log: $LOG)"
{
  "$VPY" -m pip install -q --upgrade pip
  "$VPY" -m pip install -q torch==2.13.0
  "$VPY" -m pip install -q -r requirements/base.txt -r requirements/test.txt
  "$VPY" -m pip install -q --no-deps dm-robotics-panda
} >"$LOG" 2>&1 || { tail -n 40 "$LOG"; echo "[nsvla setup] pip failed, see $LOG" >&2; exit 1; }
if "$VPY" -c 'import rclpy' 2>/dev/null; then
  echo "[nsvla setup] using the rclpy already installed: $("$VPY" -c 'import rclpy, os; print(os.path.dirname(rclpy.__file__))')"
else
  echo "[nsvla setup] no rclpy found: installing the ROS 2 Kilted wheels (requirements/ros-wheels.txt)"
  "$VPY" -m pip install -q -r requirements/ros-wheels.txt >>"$LOG" 2>&1 \
    || { tail -n 40 "$LOG"; echo "[nsvla setup] ROS 2 wheels failed, see $LOG" >&2; exit 1; }
fi
# nsvla_interfaces: colcon builds it on a full ROS 2 install; here the set-up builds it into the
# venv. The ament/rosidl build wheels are installed only when the ROS 2 wheels were (a full
# install brings its own ament_cmake and rosidl generators through AMENT_PREFIX_PATH).
if "$VPY" -m pip show -q ros-rclpy >/dev/null 2>&1; then
  "$VPY" -m pip install -q -r requirements/ros-build.txt >>"$LOG" 2>&1 \
    || { tail -n 40 "$LOG"; echo "[nsvla setup] ROS 2 build wheels failed, see $LOG" >&2; exit 1; }
fi
echo "[nsvla setup] building nsvla_interfaces (msg/srv/action) into $VENV"
T0=$(date +%s)
scripts/build_interfaces.sh "$VENV" "$VPY" \
  || { echo "[nsvla setup] building nsvla_interfaces failed" >&2; exit 1; }
echo "[nsvla setup] nsvla_interfaces built in $(( $(date +%s) - T0 )) s"
"$VPY" -m pip install -q --no-deps -e . --config-settings editable_mode=compat >>"$LOG" 2>&1 \
  || { tail -n 40 "$LOG"; echo "[nsvla setup] installing nsvla failed, see $LOG" >&2; exit 1; }
"$VPY" -c 'import rclpy, unified_planning, mujoco, torch, nsvla_common, nsvla_interfaces.action' \
  || { echo "[nsvla setup] import check failed" >&2; exit 1; }
echo "$WANT" > "$STAMP"
echo "[nsvla setup] ready: $VENV (torch $("$VPY" -c 'import torch; print(torch.__version__)'))"
