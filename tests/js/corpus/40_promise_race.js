// Plain promise combinators around agent(): Promise.race takes the first answer, Promise.any the first
// non-failure (a failed agent resolves to null, so the script rejects nulls itself), Promise.allSettled
// reports each. Agents that lose a race still finish and are accounted for before the run ends.
export const meta = {
  name: 'first-answer-wins',
  description: 'Race two strategies, keep the first good answer',
}

const quick = agent('Answer from the cache — fast', {label: 'cache', model: 'haiku'})
const thorough = agent('Answer from the source — slow', {label: 'source'})
const first = await Promise.race([quick, thorough])

const nonNull = p => p.then(v => (v == null ? Promise.reject(new Error('no answer')) : v))
const any = await Promise.any([
  nonNull(agent('Mirror A', {label: 'mirror A'})),
  nonNull(agent('Mirror B', {label: 'mirror B'})),
])
const settled = await Promise.allSettled([
  agent('Mirror C', {label: 'mirror C'}),
  agent('', {label: 'invalid'}),
  Promise.resolve('cached value'),
])
return {first, any, settled: settled.map(s => s.status === 'fulfilled' ? s.value : `rejected: ${s.reason.name}`),
        slowOneStillResolves: await thorough}
