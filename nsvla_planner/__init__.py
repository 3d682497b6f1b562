# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Symbolic half: Hanoi domain, states, goals from words, planning with unified-planning."""
