# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The one exception family of nsvla; caught only at node / CLI boundaries."""


class NsvlaError(Exception):
    """Base of every error nsvla raises on purpose; ``status`` is a short machine-readable word."""

    status = 'error'


class ValidationError(NsvlaError):
    """A message, state, goal or file that does not follow its schema or the domain rules."""

    status = 'invalid'


class IllegalStateError(ValidationError):
    """A symbolic state that breaks the Hanoi rules (bigger on smaller, two places, cycles)."""

    status = 'illegal_state'


class InstructionError(NsvlaError):
    """An instruction in words that could not be understood or is ambiguous."""

    status = 'unknown_instruction'


class PlanningError(NsvlaError):
    """A planner that failed, timed out or returned an invalid plan."""

    status = 'planning_failed'


class UnsolvableError(PlanningError):
    """A goal that cannot be reached from the given state."""

    status = 'unsolvable'


class PlanningTimeout(PlanningError):
    """A planner that did not answer within its wall-clock bound."""

    status = 'timeout'


class PlanningCancelled(PlanningError):
    """A planning request cancelled by its client while the engine ran."""

    status = 'cancelled'


class ConfigError(NsvlaError):
    """A configuration file or parameter that is missing or wrong."""

    status = 'config_error'
