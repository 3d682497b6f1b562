# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The one ``main()`` body every nsvla node shares: init, spin, clean shutdown."""

import faulthandler
import os
import sys
import threading
import time
from typing import Any, Callable, Optional, Sequence, Tuple, Type

from nsvla_common.errors import NsvlaError

# How long the way out (destroying the node, joining the executor's threads, leaving the
# interpreter) may take once spin has ended. ``ros2 launch`` sends SIGTERM 5 s after its
# SIGINT and SIGKILL 5 s later; a node still busy after this long says where and leaves.
TEARDOWN_S = 4.0


class TeardownWatchdog:
    """
    Bound the way out of a node process.

    Started once spin has ended. If the process is still there ``seconds`` later, it writes
    the stack of every thread to stderr (where a callback or the middleware hangs), logs a
    warning and leaves with ``os._exit(status)``. The thread is a daemon: a process that
    leaves in time takes it along.
    """

    def __init__(self, name: str, seconds: float = TEARDOWN_S) -> None:
        self.name = name
        self.seconds = seconds
        self.status = 0
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name='teardown-watchdog',
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        time.sleep(self.seconds)
        sys.stderr.write('[WARN] [%s]: teardown still running %.1f s after spin ended; the '
                         'stacks of its threads follow, then the process leaves without '
                         'waiting for them (exit status %d)\n'
                         % (self.name, time.monotonic() - self.t0, self.status))
        try:
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            sys.stderr.flush()
            sys.stdout.flush()
        finally:
            os._exit(self.status)


def run_node(make_node: Callable[[], Any], name: str, args: Optional[Sequence[str]] = None,
             threads: int = 1, refuse: Tuple[Type[BaseException], ...] = (),
             teardown_s: float = TEARDOWN_S) -> int:
    """
    Create the node, spin it until Ctrl-C or shutdown, then destroy it and shut down.

    ``threads`` > 1 spins a MultiThreadedExecutor (for nodes with reentrant callback groups).
    An NsvlaError (or one of ``refuse``) while the node is made is a refused start: it is logged
    and the exit status is 2. Kilted raises ExternalShutdownException on SIGINT in spin; it is
    caught with KeyboardInterrupt. The way out is bounded by a :class:`TeardownWatchdog`.
    """
    import rclpy
    from rclpy.executors import (ExternalShutdownException, MultiThreadedExecutor,
                                 SingleThreadedExecutor)
    rclpy.init(args=args)
    node = None
    executor = None
    status = 0
    try:
        node = make_node()
        executor = (MultiThreadedExecutor(num_threads=threads) if threads > 1
                    else SingleThreadedExecutor())
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (NsvlaError,) + tuple(refuse) as exc:
        rclpy.logging.get_logger(name).fatal('%s refused to start: %s' % (name, exc))
        status = 2
    finally:
        watchdog = TeardownWatchdog(name, teardown_s)
        watchdog.status = status
        # a Ctrl-C that lands while the node is being made or torn down (the launcher's
        # SIGINT can come before spin starts) must not leave the process by the signal
        try:
            if node is not None:
                node.destroy_node()      # nodes stop their running work here
            if executor is not None:
                # callbacks still running end first; the threads are joined at exit
                executor.shutdown(timeout_sec=max(0.0, teardown_s - 1.0))
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            rclpy.try_shutdown()
    return status
