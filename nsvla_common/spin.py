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
# The watchdog is a Python thread: it runs only when it gets the interpreter lock. A call into
# C that blocks while it holds the lock (the middleware's teardown) would stop it too, so
# faulthandler's own thread, which needs no lock, writes the stacks and leaves (exit status 1)
# this long after the watchdog should have.
BACKSTOP_S = 1.0


class TeardownWatchdog:
    """
    Bound the way out of a node process.

    Started once spin has ended. If the process is still there ``seconds`` later, it writes
    the stack of every thread to stderr (where a callback or the middleware hangs), logs a
    warning and leaves with ``os._exit(status)``. The thread is a daemon: a process that
    leaves in time takes it along. Where it cannot run because a blocked C call holds the
    interpreter lock, ``faulthandler.dump_traceback_later`` does the same ``BACKSTOP_S``
    later with exit status 1.
    """

    def __init__(self, name: str, seconds: float = TEARDOWN_S) -> None:
        self.name = name
        self.seconds = seconds
        self.status = 0
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name='teardown-watchdog',
                                        daemon=True)
        self._thread.start()
        faulthandler.dump_traceback_later(seconds + BACKSTOP_S, exit=True, file=sys.stderr)

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


# How long the spinning thread waits for a worker to begin the callback it just handed over.
HANDOVER_S = 0.05


def steady_executor(threads: int, context: Any = None) -> Any:
    """
    Return a MultiThreadedExecutor that lets a worker begin each callback before it looks again.

    rclpy's MultiThreadedExecutor hands a ready callback to its thread pool and loops at once:
    while no worker has begun it, the task is pending, so the next loop yields it again and
    rebuilds the wait set, until a worker gets the interpreter lock. Measured on the launched
    graph (3 blocks): the planner and the executor went round 67 and 113 times a second for a
    topic that carried 2 messages a second, 1-2 % of a core each for nothing. Here the
    spinning thread waits up to ``HANDOVER_S`` for the worker to begin: about 2 rounds per
    message. Callbacks, groups and threads are rclpy's own; only the loop's pace changes.
    """
    from rclpy import executors as rex
    stops = tuple(getattr(rex, name) for name in (
        'ExternalShutdownException', 'ShutdownException', 'TimeoutException',
        'ConditionReachedException') if hasattr(rex, name))

    class SteadyExecutor(rex.MultiThreadedExecutor):
        def _spin_once_impl(self, timeout_sec: Any = None,
                            wait_condition: Callable[[], bool] = lambda: False) -> None:
            try:
                handler, _entity, _node = self.wait_for_ready_callbacks(
                    timeout_sec, None, wait_condition)
            except stops:
                return
            begun = threading.Event()

            def run() -> None:
                begun.set()
                handler()

            self._executor.submit(run)
            self._futures.append(handler)
            for future in self._futures[:]:
                if future.done():
                    self._futures.remove(future)
                    future.result()       # a callback's exception, as rclpy raises it
            begun.wait(HANDOVER_S)

        def spin_once(self, timeout_sec: Optional[float] = None) -> None:
            self._spin_once_impl(timeout_sec)

    return SteadyExecutor(num_threads=threads, context=context)


def _shutdown_race(exc: BaseException) -> bool:
    """Whether ``exc`` is rcl refusing a call because the context was shut down under it."""
    return type(exc).__name__ == 'RCLError' and 'context is invalid' in str(exc)


def run_node(make_node: Callable[[], Any], name: str, args: Optional[Sequence[str]] = None,
             threads: int = 1, refuse: Tuple[Type[BaseException], ...] = (),
             teardown_s: float = TEARDOWN_S) -> int:
    """
    Create the node, spin it until Ctrl-C or shutdown, then destroy it and shut down.

    ``threads`` > 1 spins a :func:`steady_executor` (for nodes with reentrant callback groups).
    An NsvlaError (or one of ``refuse``) while the node is made is a refused start: it is logged
    and the exit status is 2. Kilted raises ExternalShutdownException on SIGINT in spin; it is
    caught with KeyboardInterrupt. The way out is bounded by a :class:`TeardownWatchdog`.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
    rclpy.init(args=args)
    node = None
    executor = None
    status = 0
    try:
        node = make_node()
        executor = (steady_executor(threads) if threads > 1
                    else SingleThreadedExecutor())
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (NsvlaError,) + tuple(refuse) as exc:
        rclpy.logging.get_logger(name).fatal('%s refused to start: %s' % (name, exc))
        status = 2
    except Exception as exc:  # noqa: BLE001 - only the shutdown race is swallowed, below
        # a callback that publishes while Ctrl-C shuts the context down gets "publisher's
        # context is invalid" (the robustness graph's sim node exited 1 so, under load, at
        # the end of a passing run): the way out of a shutdown, not a fault of the node
        if rclpy.ok() or not _shutdown_race(exc):
            raise
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
