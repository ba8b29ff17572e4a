// The model fails on every attempt for some agents (HTTP 500 after all retries, a 529 overload, a 400
// refusal): their slots are null, the fan-out says why in `reasons`, and the script reports what it lost
// instead of silently shrinking the result.
export const meta = {
  name: 'resilient-fanout',
  description: 'Fan out, survive provider errors, report the losses',
}

const SHARDS = Array.from({length: 6}, (_, i) => `shard-${i}`)
const results = await parallel(SHARDS.map(s => () => agent(`Index ${s} — list its public symbols`, {label: s})))
const lost = Object.entries(results.reasons).map(([i, why]) => `${SHARDS[i]} ✗ ${why}`)
lost.forEach(line => log(line))
if (results.failed > 0) log(`⚠️ ${results.failed} of ${results.launched} shards lost — the index is partial`)
// a second pass retries only what was lost, once
const retried = await parallel(Object.keys(results.reasons).map(i => () =>
  agent(`Index ${SHARDS[i]} again — list its public symbols`, {label: `${SHARDS[i]} retry`})))
return {
  indexed: results.map((r, i) => (r ? SHARDS[i] : null)).filter(Boolean),
  failed: results.failed, succeeded: results.succeeded, launched: results.launched,
  retried: retried.map(r => r ?? '∅'), retryFailed: retried.failed,
}
