# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Bad input and overload, sent to a launched graph: every request answered or refused, no node down.

:func:`run_attacks` starts the embedded graph (ground-truth perception, no camera, fast clock)
and sends, as typed messages: malformed symbolic states, malformed and impossible plan requests,
30 concurrent ``~/get_plan`` calls and 30 concurrent ``plan_task`` goals, 50 ``execute_task``
goals within 5 s (one runs, the others must be refused with a reason, then the running one is
cancelled and the arm must hold), a 30 rad/s arm trajectory and malformed ones, and malformed
episode events for the power monitor. It then checks that every node is still up and that the
graph still solves a tower. ``bench/robustness.py`` prints the counts; a test asserts them.
"""

import io
import math
import time
from typing import Any, Dict, List

from nsvla_common.topics import ARM_COMMAND
from nsvla_eval.graph import graph, params_file
from nsvla_eval.launcher import Launcher


def _spin(node: Any, executor: Any, done: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if done():
            return True
        executor.spin_once(timeout_sec=0.05)
    return bool(done())


def _bad_states() -> List[Any]:
    from nsvla_interfaces.msg import Fact, Stack, SymbolicState
    f = Fact
    return [
        SymbolicState(status='known', num_blocks=3, num_pegs=3,
                      facts=[f(predicate='on', args=['b9', 'p1'])]),
        SymbolicState(status='known', num_blocks=0, num_pegs=3),
        SymbolicState(status='known', num_blocks=3, num_pegs=1),
        SymbolicState(status='maybe', num_blocks=3, num_pegs=3),
        SymbolicState(status='known', num_blocks=3, num_pegs=3,
                      facts=[f(predicate='[on]', args=[], confidence=float('nan'))]),
        SymbolicState(status='known', num_blocks=2, num_pegs=3, facts=[
            f(predicate='on', args=['b2', 'b1']), f(predicate='on', args=['b1', 'p1'])]),
        SymbolicState(status='known', num_blocks=1, num_pegs=3,
                      facts=[f(predicate='on', args=['b1', 'p1'])],
                      stacks=[Stack(peg='p2', blocks=['b1'])]),
        SymbolicState(status='known', num_blocks=3, num_pegs=3,
                      facts=[f(predicate='on', args=['b1', 'p1'], confidence=7.0)]),
    ]


def run_attacks(real_time_factor: float = 4.0, log: Any = None) -> Dict[str, Any]:
    """Launch the graph, attack it, return the counts (see the module docstring)."""
    import rclpy
    from rclpy.action import ActionClient
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    from nsvla_control.episode_cli import execute_task
    from nsvla_interfaces.action import ExecuteTask, PlanTask
    from nsvla_interfaces.msg import (EpisodeEvent, Fact, Goal as GoalMsg, SimEvent,
                                      SymbolicState as StateMsg)
    from nsvla_interfaces.srv import GetPlan
    from nsvla_planner import messages
    from nsvla_planner.state import SymbolicState
    from nsvla_sim.mjcf import ARM_JOINTS

    nodes = graph('embedded', perception='ground_truth')
    for n in nodes:
        if n.name == 'sim':
            n.parameters.update({'real_time_factor': real_time_factor, 'camera_rate': 0.0})
    out = log or io.StringIO()
    launcher = Launcher(nodes, params_file(), output=out)
    report: Dict[str, Any] = {}
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('nsvla_attacks', context=context)
    ex = SingleThreadedExecutor(context=context)
    ex.add_node(node)
    deep = QoSProfile(depth=200)
    try:
        launcher.start()
        get_plan = node.create_client(GetPlan, 'planner/get_plan', qos_profile=deep)
        plan_task = ActionClient(node, PlanTask, 'plan_task', goal_service_qos_profile=deep,
                                 result_service_qos_profile=deep)
        execute = ActionClient(node, ExecuteTask, 'execute_task',
                               goal_service_qos_profile=deep, result_service_qos_profile=deep,
                               cancel_service_qos_profile=deep)
        sim_events: List[Any] = []
        node.create_subscription(SimEvent, 'sim/events', sim_events.append, 100)
        state_pub = node.create_publisher(StateMsg, 'symbolic_state', 10)
        truth_pub = node.create_publisher(StateMsg, 'sim/ground_truth', 10)
        event_pub = node.create_publisher(EpisodeEvent, 'execution_status', 10)
        arm_pub = node.create_publisher(JointTrajectory, ARM_COMMAND, 10)
        ready = _spin(node, ex, lambda: get_plan.service_is_ready()
                      and plan_task.server_is_ready() and execute.server_is_ready()
                      and arm_pub.get_subscription_count() > 0, 120.0)
        launcher.check()
        if not ready:
            raise RuntimeError('graph not ready:\n' + out.getvalue()[-3000:])
        _spin(node, ex, lambda: False, 2.0)

        # 1. malformed states on the topics the planner and executor read
        bad = _bad_states()
        for msg in bad:
            state_pub.publish(msg)
            truth_pub.publish(msg)
        report['malformed_states_sent'] = 2 * len(bad)

        # 2. malformed and impossible plan requests
        tower = messages.state_to_msg(SymbolicState.tower(3))
        requests = [
            GetPlan.Request(),
            GetPlan.Request(instruction='frobnicate the tower', start=[tower]),
            GetPlan.Request(instruction='put the yellow block on the red block', start=[tower]),
            GetPlan.Request(goal=[GoalMsg(facts=[Fact(predicate='on', args=['b1'])])],
                            start=[tower]),
            GetPlan.Request(goal=[GoalMsg(facts=[])], start=[tower]),
            GetPlan.Request(instruction='move the tower to the right peg',
                            start=[bad[5]]),
            GetPlan.Request(goal=[GoalMsg(num_blocks=7, facts=[
                Fact(predicate='on', args=['b1', 'p3'])])], start=[tower]),
        ]
        futures = [get_plan.call_async(r) for r in requests]
        _spin(node, ex, lambda: all(f.done() for f in futures), 60.0)
        answers = [f.result().plan for f in futures if f.done()]
        report['bad_plan_requests'] = len(requests)
        report['bad_plan_requests_answered'] = len(answers)
        report['bad_plan_requests_refused_with_reason'] = sum(
            1 for a in answers if a.status != 'solved' and a.reason)

        # 3. 30 concurrent get_plan, 30 concurrent plan_task
        futures = [get_plan.call_async(GetPlan.Request(
            instruction='move the tower to peg %d' % (2 + i % 2), start=[tower]))
            for i in range(30)]
        _spin(node, ex, lambda: all(f.done() for f in futures), 120.0)
        statuses = [f.result().plan.status for f in futures if f.done()]
        report['get_plan_concurrent'] = {'sent': 30, 'answered': len(statuses),
                                         'solved': statuses.count('solved'),
                                         'busy': statuses.count('busy')}
        sends = [plan_task.send_goal_async(PlanTask.Goal(
            instruction='move the tower to the middle peg', start=[tower])) for _ in range(30)]
        _spin(node, ex, lambda: all(s.done() for s in sends), 60.0)
        results = [s.result().get_result_async() for s in sends
                   if s.done() and s.result().accepted]
        _spin(node, ex, lambda: all(r.done() for r in results), 120.0)
        pstat = [r.result().result.plan.status for r in results if r.done()]
        report['plan_task_concurrent'] = {'sent': 30, 'answered': len(pstat),
                                          'solved': pstat.count('solved'),
                                          'busy': pstat.count('busy')}

        # 4. 50 execute_task goals in 5 s: one runs, the rest are refused with a reason
        goals = []
        t0 = time.monotonic()
        for i in range(50):
            goal = ExecuteTask.Goal(instruction='move the tower to the right peg')
            if i % 10 == 9:
                goal = ExecuteTask.Goal(goal=[GoalMsg(facts=[Fact(predicate='on',
                                                                  args=['b1'])])])
            goals.append(execute.send_goal_async(goal))
            _spin(node, ex, lambda: False, 0.09)
        report['execute_goals_sent_in_s'] = round(time.monotonic() - t0, 2)
        _spin(node, ex, lambda: all(g.done() for g in goals), 30.0)
        handles = [g.result() for g in goals if g.done()]
        results = [h.get_result_async() for h in handles if h.accepted]
        _spin(node, ex, lambda: sum(r.done() for r in results) >= len(results) - 1, 60.0)
        refused = [r.result().result for r in results if r.done()]
        running = [h for h, r in zip([h for h in handles if h.accepted], results)
                   if not r.done()]
        report['execute_goals'] = {'sent': 50, 'accepted': len(results),
                                   'answered_at_once': len(refused),
                                   'refused_with_reason': sum(1 for r in refused
                                                              if not r.success and r.reason),
                                   'reasons': sorted({r.reason[:80] for r in refused}),
                                   'running': len(running)}
        # cancel the one that runs: the arm must hold
        if running:
            before_cancel = len(sim_events)
            cancel = running[0].cancel_goal_async()
            _spin(node, ex, cancel.done, 10.0)
            last = results[[h for h in handles if h.accepted].index(running[0])]
            _spin(node, ex, last.done, 60.0)
            report['cancelled_result'] = (last.result().result.reason if last.done()
                                          else 'no result')
            report['cancelled_status'] = last.result().status if last.done() else None
            report['arm_stopped_after_cancel'] = any(
                e.event == 'stopped' and e.controller == 'arm_controller'
                for e in sim_events[before_cancel:])

        # 5. trajectories a Panda refuses, and malformed ones
        def traj(points: List[Any]) -> Any:
            return JointTrajectory(joint_names=list(ARM_JOINTS), points=points)

        from builtin_interfaces.msg import Duration
        from nsvla_sim.scene import load_scene
        home = [float(q) for q in load_scene().home]
        # from home, joint 1 by 2 rad in 0.1 s at 30 rad/s: all within the position limits
        fast = traj([JointTrajectoryPoint(positions=[home[0] + 2.0] + home[1:],
                                          velocities=[30.0] + [0.0] * 6,
                                          time_from_start=Duration(sec=0, nanosec=100000000))])
        nan = traj([JointTrajectoryPoint(positions=[math.nan] * 7,
                                         time_from_start=Duration(sec=1))])
        short = traj([JointTrajectoryPoint(positions=[0.0] * 3,
                                           time_from_start=Duration(sec=1))])
        ghost = JointTrajectory(joint_names=['no_such_joint'], points=[
            JointTrajectoryPoint(positions=[0.0], time_from_start=Duration(sec=1))])
        seen = len(sim_events)
        for msg in (fast, nan, short, ghost):
            arm_pub.publish(msg)
        _spin(node, ex, lambda: sum(e.event == 'trajectory_rejected'
                                    for e in sim_events[seen:]) >= 4, 10.0)
        rejected = [e for e in sim_events[seen:] if e.event == 'trajectory_rejected']
        report['bad_trajectories'] = {'sent': 4, 'rejected': len(rejected),
                                      'reasons': [e.reason[:120] for e in rejected]}

        # 6. malformed episode events for the power monitor
        for ev in (EpisodeEvent(episode_id='', event='episode_start'),
                   EpisodeEvent(episode_id='x', event='teleport'),
                   EpisodeEvent(episode_id='never-started', event='episode_end')):
            event_pub.publish(ev)
        _spin(node, ex, lambda: False, 1.0)

        # every node still up, and the graph still solves
        launcher.check()
        report['nodes_down'] = launcher.dead()
        end = execute_task(node, ex, 'move the tower to the right peg', 300.0,
                           check=launcher.check)
        keys = ('result', 'moves', 'replans', 'reason')
        report['final_episode'] = {k: end.get(k) for k in keys}
        report['nodes_down_at_end'] = launcher.dead()
    finally:
        ex.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        # a loaded machine can take more than the default 10 s to stop a node cleanly
        report['exit_codes'] = launcher.stop(grace_s=30.0)
    return report
