# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The one ``main()`` body every nsvla node shares: init, spin, clean shutdown."""

from typing import Any, Callable, Optional, Sequence, Tuple, Type

from nsvla_common.errors import NsvlaError


def run_node(make_node: Callable[[], Any], name: str, args: Optional[Sequence[str]] = None,
             threads: int = 1, refuse: Tuple[Type[BaseException], ...] = ()) -> int:
    """
    Create the node, spin it until Ctrl-C or shutdown, then destroy it and shut down.

    ``threads`` > 1 spins a MultiThreadedExecutor (for nodes with reentrant callback groups).
    An NsvlaError (or one of ``refuse``) while the node is made is a refused start: it is logged
    and the exit status is 2. Kilted raises ExternalShutdownException on SIGINT in spin; it is
    caught with KeyboardInterrupt.
    """
    import rclpy
    from rclpy.executors import (ExternalShutdownException, MultiThreadedExecutor,
                                 SingleThreadedExecutor)
    rclpy.init(args=args)
    node = None
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
        # a Ctrl-C that lands while the node is being made or torn down (the launcher's
        # SIGINT can come before spin starts) must not leave the process by the signal
        try:
            if node is not None:
                node.destroy_node()
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            rclpy.try_shutdown()
    return status
