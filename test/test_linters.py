# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
ament linters as tests: flake8, pep257, copyright, xmllint.

ament_flake8 and ament_pep257 come from PyPI (ros-ament-flake8, ros-ament-pep257) or a ROS 2
install. ament_copyright and ament_xmllint have no PyPI wheels: the copyright and XML checks
below apply the same rules (a copyright + licence header on every Python file; well-formed
package.xml of format 3 with the fields ament needs, and well-formed XML files in config/).
"""

import glob
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY_DIRS = ['nsvla_common', 'nsvla_planner', 'nsvla_sim', 'nsvla_control', 'nsvla_perception',
           'nsvla_energy', 'nsvla_eval', 'launch', 'test', 'bench', 'scripts']


def _paths():
    found = [os.path.join(REPO, d) for d in PY_DIRS if os.path.isdir(os.path.join(REPO, d))]
    return found + [os.path.join(REPO, 'setup.py')]


def _python_files():
    files = []
    for path in _paths():
        if path.endswith('.py'):
            files.append(path)
        else:
            files += glob.glob(os.path.join(path, '**', '*.py'), recursive=True)
    return sorted(files)


def test_flake8():
    pytest.importorskip(
        'ament_flake8.main', reason='ament_flake8 is not installed (pip: ros-ament-flake8)')
    # in its own process: flake8 forks a worker pool, and a fork of this test process (which
    # has run rclpy, MuJoCo and torch threads by now) can crash in the child
    code = ('import sys; from ament_flake8.main import main_with_errors; '
            'rc, errors = main_with_errors(argv=sys.argv[1:]); sys.exit(rc)')
    proc = subprocess.run([sys.executable, '-c', code] + _paths(), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, 'flake8 found problems:\n%s' % proc.stdout[-6000:]


def test_pep257():
    ament_pep257 = pytest.importorskip(
        'ament_pep257.main', reason='ament_pep257 is not installed (pip: ros-ament-pep257)')
    assert ament_pep257.main(argv=_paths()) == 0, 'pep257 found problems (see output above)'


def test_copyright():
    missing = []
    for path in _python_files():
        with open(path) as f:
            head = f.read(400)
        if not (head.startswith('# Copyright 2026 nsvla maintainers')
                and 'Licensed under the Apache License, Version 2.0' in head):
            missing.append(os.path.relpath(path, REPO))
    assert not missing, 'files without the copyright/licence header: %s' % missing


def test_xmllint_package_xml():
    root = ET.parse(os.path.join(REPO, 'package.xml')).getroot()
    assert root.tag == 'package' and root.get('format') == '3'
    for tag in ('name', 'version', 'description', 'maintainer', 'license'):
        assert root.find(tag) is not None and root.find(tag).text.strip(), tag
    assert root.find('name').text == 'nsvla'
    assert root.find('export/build_type').text == 'ament_python'
    with open(os.path.join(REPO, 'setup.py')) as f:
        assert "VERSION = '%s'" % root.find('version').text in f.read(), \
            'setup.py and package.xml versions differ'


def test_xmllint_config_files():
    files = glob.glob(os.path.join(REPO, 'config', '**', '*.xml'), recursive=True)
    files += glob.glob(os.path.join(REPO, 'config', '**', '*.sdf'), recursive=True)
    assert files, 'expected the Fast DDS profile in config/'
    for path in files:
        ET.parse(path)   # raises ParseError on malformed XML
