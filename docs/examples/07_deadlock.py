"""
Step 7: a deadlock, and how to avoid it
=======================================

One lock protects one thing. With two locks, say one for the tally of step 6 and one
for a log of the numbers found, a thread may need both at once. If two threads take
them in opposite orders, each can end up holding one lock and waiting for the other's,
forever: a *deadlock*. Nothing fails and nothing is printed; the program just stops.
"""

import threading

tally_lock = threading.Lock()
log_lock = threading.Lock()
NAMES = {id(tally_lock): "the tally lock", id(log_lock): "the log lock"}
TIMEOUT = 0.5  # seconds: how long a thread waits for its second lock before giving up
events: list[str] = []


def record(name: str, first: threading.Lock, second: threading.Lock, barrier=None) -> None:
    """Take ``first``, then ``second``; give up on ``second`` after TIMEOUT seconds."""
    with first:
        if barrier is not None:
            barrier.wait(timeout=10)  # both threads now hold their first lock
        if second.acquire(timeout=TIMEOUT):
            try:
                events.append(f"{name}: took {NAMES[id(first)]}, then {NAMES[id(second)]}")
            finally:
                second.release()
        else:
            events.append(
                f"{name}: holds {NAMES[id(first)]}, gave up waiting for {NAMES[id(second)]}"
            )
        if barrier is not None:
            barrier.wait(timeout=10)  # both have tried before either lets go of its first


def run(orders: list[tuple[threading.Lock, threading.Lock]], barrier=None) -> None:
    events.clear()
    threads = [
        threading.Thread(target=record, args=(f"thread {k}", first, second, barrier))
        for k, (first, second) in enumerate(orders)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("\n".join(sorted(events)))


# %%
# Opposite orders: a deadlock
# ---------------------------
# Thread 0 takes the tally lock, then the log lock; thread 1 the other way round. A
# :class:`threading.Barrier` makes sure both hold their first lock before either asks
# for its second, so the deadlock happens every time rather than now and then (which is
# how it usually happens, and why it is hard to find). A plain ``acquire()`` would wait
# forever and this page would never be built; ``acquire(timeout=...)`` returns False
# instead, so the deadlock is seen, not suffered.
run([(tally_lock, log_lock), (log_lock, tally_lock)], barrier=threading.Barrier(2))

# %%
# One order for everyone: no deadlock
# -----------------------------------
# The usual cure: decide one order for all locks (here: the tally lock, then the log
# lock) and always take them in that order. Then whoever holds the tally lock can
# always get the log lock in the end, and no cycle of waiting can form.
run([(tally_lock, log_lock), (tally_lock, log_lock)])
assert all("gave up" not in e for e in events)

# %%
# Other ways out: hold one lock at a time (finish with the tally before touching the
# log); use a timeout, as above, and back off and retry when it expires; or share
# nothing and pass messages through queues (step 5), which is how
# ``perfectly.search`` works: its workers share no data, only messages.
