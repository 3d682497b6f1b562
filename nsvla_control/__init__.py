# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Action half: plan steps to arm motions, closed-loop execution with replanning."""
