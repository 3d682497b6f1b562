# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Running the system: demo, launcher, episode and replay evaluation, benchmark tables."""
