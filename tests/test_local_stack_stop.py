"""Stopping the local stack must not cut short a flow run that is finishing: Prefect marks a run that receives a
SIGTERM Crashed, even one that has just suspended, and it then waits for reconciliation instead of its next input."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from scripts.local_stack import drain_runs, runs_in_progress, stop_all, stop_groups

# Stands in for `python -m flows.serve`: a runner that starts multiprocessing's forkserver (as flows/warm_start.py
# does) and one run, forked from it, that records how it ended: "finished" after a second, or "signalled".
RUNNER = textwrap.dedent("""
    import multiprocessing, signal, sys, time

    def run(path):
        def signalled(*_):
            open(path, "w").write("signalled")
            sys.exit(1)
        signal.signal(signal.SIGTERM, signalled)
        open(path + ".started", "w").close()
        time.sleep(1.5)
        open(path, "w").write("finished")

    if __name__ == "__main__":
        context = multiprocessing.get_context("forkserver")
        context.Process(target=run, args=(sys.argv[1],)).start()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        time.sleep(60)
""")


def start_runner(tmp_path):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    outcome = tmp_path / "run"
    runner = subprocess.Popen([sys.executable, str(script), str(outcome)], start_new_session=True, cwd=tmp_path)
    deadline = time.monotonic() + 20
    while not (tmp_path / "run.started").exists():
        assert time.monotonic() < deadline and runner.poll() is None, "the run did not start"
        time.sleep(0.05)
    return runner, outcome


def test_a_stop_lets_a_finishing_run_end_and_counts_the_forkserver_as_no_run(tmp_path):
    runner, outcome = start_runner(tmp_path)
    assert len(runs_in_progress(runner.pid)) == 1  # the run; not the runner, its forkserver or resource tracker

    stop_all({"flows": runner.pid}, [runner])

    assert outcome.read_text() == "finished"
    assert runner.poll() is not None
    assert runs_in_progress(runner.pid) == []


def test_the_wait_is_bounded_so_a_run_that_does_not_end_is_signalled(tmp_path):
    runner, outcome = start_runner(tmp_path)
    drain_runs(runner.pid, timeout=0.2)  # the run needs 1.5 s: a wait that ignored its bound would see it finish
    stop_groups({"flows": runner.pid}, [runner])

    assert outcome.read_text() == "signalled"
