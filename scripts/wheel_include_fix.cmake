# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0
#
# Passed as -DCMAKE_PROJECT_INCLUDE= by scripts/build_interfaces.sh on wheel-only machines.
# The ROS 2 PyPI wheels export CMake targets whose INTERFACE_INCLUDE_DIRECTORIES still name the
# manylinux build paths (/opt/python/cp3*/include/python3.* and its numpy include folder); CMake
# refuses to generate with a non-existent include folder. At the end of configure this swaps each
# such folder of every imported target for this interpreter's, editing nothing on disk.
cmake_minimum_required(VERSION 3.16)

function(nsvla_fix_wheel_includes)
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development)
  execute_process(
    COMMAND "${Python3_EXECUTABLE}" -c "import numpy; print(numpy.get_include())"
    OUTPUT_VARIABLE _numpy_inc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  get_property(_dirs DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY BUILDSYSTEM_TARGETS)
  set(_todo)
  macro(_nsvla_collect dir)
    get_property(_imported DIRECTORY "${dir}" PROPERTY IMPORTED_TARGETS)
    list(APPEND _todo ${_imported})
    get_property(_subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
    foreach(_sub ${_subdirs})
      get_property(_imported2 DIRECTORY "${_sub}" PROPERTY IMPORTED_TARGETS)
      list(APPEND _todo ${_imported2})
    endforeach()
  endmacro()
  _nsvla_collect("${CMAKE_SOURCE_DIR}")
  list(REMOVE_DUPLICATES _todo)
  foreach(_target ${_todo})
    get_target_property(_inc ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _inc)
      continue()
    endif()
    set(_new)
    set(_changed FALSE)
    foreach(_d ${_inc})
      if(NOT _d MATCHES "^\\$<" AND NOT EXISTS "${_d}")
        if(_d MATCHES "numpy")
          if(_numpy_inc)
            list(APPEND _new "${_numpy_inc}")
          endif()
          set(_changed TRUE)
          continue()
        elseif(_d MATCHES "/include/python3")
          list(APPEND _new ${Python3_INCLUDE_DIRS})
          set(_changed TRUE)
          continue()
        endif()
      endif()
      list(APPEND _new "${_d}")
    endforeach()
    if(_changed)
      list(REMOVE_DUPLICATES _new)
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_new}")
    endif()
  endforeach()
endfunction()

# Run once everything has been configured (targets are imported by then).
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL nsvla_fix_wheel_includes)
