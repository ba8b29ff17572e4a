// try/catch around agent(): what throws and what does not. A failed agent does NOT throw (it resolves to
// null), so scripts that only catch miss it; using the null throws a TypeError in the script; an unknown
// model, an invalid schema and a bad effort throw at the call before any agent starts.
export const meta = {
  name: 'defensive-calls',
  description: 'Every way an agent call can go wrong, caught',
}

const outcomes = {}
async function attempt(name, fn) {
  try {
    outcomes[name] = {value: await fn()}
  } catch (e) {
    outcomes[name] = {error: e.name}
  } finally {
    log(`${name} → ${'error' in outcomes[name] ? 'threw' : 'returned'}`)
  }
}

await attempt('failedAgent', () => agent('Answer despite the outage', {label: 'outage'}))
await attempt('usedNull', async () => (await agent('Once more despite the outage', {label: 'outage 2'})).trim())
await attempt('unknownModel', () => agent('Use a model we do not price', {model: 'gpt-9'}))
await attempt('badSchema', () => agent('Give a list', {schema: {type: 'object', required: ['x'], properties: {}}}))
await attempt('badEffort', () => agent('Try hard', {effort: 'maximum'}))
await attempt('fine', () => agent('Answer normally', {label: 'fine'}))

return outcomes
