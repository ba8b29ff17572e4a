"""An agent whose worker was lost (distributed executor): counted once, then run again elsewhere."""

from __future__ import annotations

from ..cost.pricing import Usage, price_of
from ..executors import WorkerLost
from .state import AgentRecord, RunState

LOST_RETRIES = 3  # times an agent is run again after losing its worker


def requeue_lost(state: RunState, record: AgentRecord, lost: WorkerLost) -> bool:
    """Put the agent back in the queue for another worker, at most ``LOST_RETRIES`` times (False: give up).

    What the lost attempt's turns spent was billed by the API: it is added to the run's usage and the agent's,
    once, and never spent again for an agent that had finished (those are not re-run)."""
    record.lost_attempts += 1
    if record.attempt_usage:
        spent = Usage(**record.attempt_usage)
        record.attempt_usage = None
        if record.lost_usage is None:
            record.lost_usage = Usage()
        record.lost_usage.add(spent)
        state.usage.add(spent)
        state.cost_usd += price_of(record.model).cost(spent)
        if not state.budget.limited:  # with limits its turns were charged as they settled
            state.budget.charge(record.model, spent)
    capacity = state.executor.capacity()
    if capacity is not None:
        state.scheduler.cap(max(1, capacity))  # the lost worker's slots are gone
    if record.lost_attempts > LOST_RETRIES:
        return False
    state.log(f"{record.label or record.id}: {lost}; running it again on another worker")
    record.state = "queued"
    record.worker = None
    state.emit("agent_queued", agent=record.view(), restarted=True, worker_lost=lost.worker)
    return True
