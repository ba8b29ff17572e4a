// One fan-out where everything that can go wrong does, each in its own slot: a provider error after
// retries, a schema never met, a per-agent timeout, a thunk that throws, and healthy agents. The call's
// accounting and the run's failure kinds must both say what happened.
export const meta = {
  name: 'chaos-fanout',
  description: 'Every kind of failure at once, each contained',
}

const OK = {type: 'object', required: ['ok'], properties: {ok: {type: 'boolean'}}}
const out = await parallel([
  () => agent('healthy one', {label: 'healthy 1'}),
  () => agent('provider down', {label: 'api down'}),
  () => agent('bad structure', {label: 'bad schema', schema: OK}),
  () => agent('too slow', {label: 'slow', timeout: 0.2}),
  () => { throw new Error('the thunk itself broke — 壊れた') },
  () => agent('healthy two', {label: 'healthy 2', schema: OK}),
])
const kinds = Object.values(out.reasons).map(r =>
  r.includes('timed out') ? 'timeout' : r.includes('schema') ? 'schema' : r.startsWith('Error:') ? 'script' : 'api')
return {values: [...out], launched: out.launched, succeeded: out.succeeded, failed: out.failed, kinds,
        reasonSlots: Object.keys(out.reasons).map(Number)}
