"""Real worker processes for the multi-process tests, forked from one warmed-up parent.

``python workers_support.py HOME`` loads the read-only parts of the analyzer once (models, the
place automaton, the IDF table: derived from files, never from the database), prints
``ready``, then forks one worker per ``worker`` line read on stdin and prints ``pid N``. Each
worker is what ``yuqing run --role worker`` runs: a fresh ``AppContext`` (its own
connections), a fresh event index rebuilt from the database, and ``Worker.run`` until SIGTERM,
when it prints ``status {json}``. Sharing the loaded models keeps three workers from costing
three model loads (~15 s each) on a two-core machine.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading


def run_worker(home: str) -> None:
    """One worker until SIGTERM, as `yuqing run --role worker` runs it."""
    from yuqing.context import AppContext
    from yuqing.workers import Worker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ctx = AppContext(home=home)
    worker = Worker(ctx, "worker")
    worker.run(stop, 1.0)
    print("status " + json.dumps(worker.status()), flush=True)
    ctx.close()


def main(home: str) -> None:
    from crash_support import warm_up  # a sibling script: this file runs as one too

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warm_up(home)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "worker":
            break
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                run_worker(home)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            os._exit(code)
        print(f"pid {pid}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
