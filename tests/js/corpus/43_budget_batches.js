// Spend a budget in batches: launch a parallel batch only while the budget can pay for a whole batch,
// then show what happens to a batch launched without the guard — agents whose turn no longer fits fail
// with "token budget exhausted", their slots are null and the run counts them as budget failures.
export const meta = {
  name: 'batched-by-budget',
  description: 'Fan out in budget-sized batches',
}

const PER_AGENT = 4_000
const BATCH = 3
const queue = Array.from({length: 20}, (_, i) => `module-${String(i).padStart(2, '0')}`)
const done = []
let batches = 0
while (budget.total && budget.remaining() > PER_AGENT * BATCH && queue.length) {
  const batch = queue.splice(0, BATCH)
  const results = await parallel(batch.map(m => () => agent(`Document ${m}`, {label: `doc ${m}`})))
  batch.forEach((m, i) => results[i] && done.push(m))
  batches++
}
log(`${batches} batches, ${done.length} documented, ${queue.length} left, ${budget.remaining()} tokens left`)
const unguarded = await parallel(queue.splice(0, BATCH).map(m => () => agent(`Document ${m}`, {label: `doc ${m}`})))
return {
  batches, done: done.length, remaining: budget.remaining(),
  unguarded: {values: [...unguarded], failed: unguarded.failed,
              reasons: Object.values(unguarded.reasons).map(r => r.replace(/:.*/, ''))},
}
