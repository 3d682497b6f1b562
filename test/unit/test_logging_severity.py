# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
No call site in any nsvla package logs at a severity chosen at run time.

rclpy keeps one logging context per call site (file, line, instruction) and raises
``ValueError: Logger severity cannot be changed between calls`` when the same site logs at a
second severity, e.g. ``log = logger.info if ok else logger.warning; log(text)`` or a helper
``logger.log(text, level)``. That error would escape a callback and take the node down, so the
pattern is refused here by reading the sources.
"""

import ast
import glob
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEVELS = {'debug', 'info', 'warn', 'warning', 'error', 'fatal'}
SOURCES = sorted(glob.glob(os.path.join(REPO, 'nsvla_*', '*.py')))


def _is_level_method(node):
    return isinstance(node, ast.Attribute) and node.attr in LEVELS


def _variable_severity_sites(tree):
    """Yield (line, why) for each construct that picks a logging severity at run time."""
    for node in ast.walk(tree):
        if isinstance(node, ast.IfExp) and (_is_level_method(node.body)
                                            or _is_level_method(node.orelse)):
            yield node.lineno, 'logging method chosen by a conditional expression'
        elif isinstance(node, ast.BoolOp) and any(_is_level_method(v) for v in node.values):
            yield node.lineno, 'logging method chosen by and/or'
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_level_method(node.value):
            yield node.lineno, 'logging method bound to a name (one call site, many callers)'
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            if func.attr == 'log' and 'log' in ast.unparse(func.value).lower():
                yield node.lineno, 'logger.log() with a severity argument'
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == 'getattr' and len(node.args) >= 2 \
                and 'log' in ast.unparse(node.args[0]).lower():
            yield node.lineno, 'getattr(logger, level)'


def test_the_check_finds_the_pattern():
    bad = ('log = logger.info if ok else logger.warning\n'
           'log("x")\n'
           'logger.log("x", level)\n'
           'getattr(self.get_logger(), level)("x")\n'
           'emit = self.get_logger().error\n')
    assert sorted(line for line, _ in _variable_severity_sites(ast.parse(bad))) == [1, 3, 4, 5]
    fine = ('self.get_logger().warning("dropped %s" % why, throttle_duration_sec=1.0)\n'
            'self.get_logger().error("meter read failed")\n')
    assert list(_variable_severity_sites(ast.parse(fine))) == []


@pytest.mark.parametrize('path', SOURCES, ids=os.path.basename)
def test_no_call_site_logs_at_two_severities(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    found = ['%s:%d: %s' % (os.path.relpath(path, REPO), line, why)
             for line, why in _variable_severity_sites(tree)]
    assert not found, '\n'.join(found)
