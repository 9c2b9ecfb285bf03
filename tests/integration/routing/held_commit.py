"""Run a manage.py command (run_router, run_mapper) whose transaction loop can be held at its crash point.

``python -m tests.integration.routing.held_commit run_router --group ...`` is ``manage.py run_router --group ...``
with one difference: once the file named by ``HOLD_COMMIT_FILE`` exists, the next batch that produced anything
flushes its records to the broker and stops there, before its offsets are sent and its transaction committed,
and says so by creating ``<HOLD_COMMIT_FILE>.held``. Until then the loop runs unchanged.

A kill at that point is the crash exactly-once has to survive: records of an open transaction on the broker,
their source offsets uncommitted. Without the hold, a process keeping up with a stream has a transaction open for a
few milliseconds, and a probe from outside misses it on a loaded machine more often than not.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def hold_commits(arm: Path) -> None:
    from onboarding.routing.transactional import TransactionalLoop

    commit_batch, produce = TransactionalLoop.commit_batch, TransactionalLoop.produce
    produced = [0]

    def counting_produce(self, *args, **kwargs):
        produced[0] += 1
        return produce(self, *args, **kwargs)

    def held_commit_batch(self, batch, handle):
        def handle_then_hold(records):
            before = produced[0]
            handle(records)
            if produced[0] > before and arm.exists():
                self.producer.flush(30)
                Path(f"{arm}.held").touch()
                while True:  # until killed
                    time.sleep(60)

        return commit_batch(self, batch, handle_then_hold)

    TransactionalLoop.produce = counting_produce
    TransactionalLoop.commit_batch = held_commit_batch


def main() -> None:
    import manage  # the working directory is the repository's

    hold_commits(Path(os.environ["HOLD_COMMIT_FILE"]))
    sys.argv = ["manage.py", *sys.argv[1:]]
    manage.main()


if __name__ == "__main__":
    main()
