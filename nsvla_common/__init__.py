# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Shared pieces of nsvla: errors, JSON envelopes, paths, DDS environment, the CLI."""
