// Thunks that throw in every way a script's own code can: a TypeError from reading a failed agent's
// null, a custom Error subclass, a thrown string, a rejected promise, an async throw after an agent
// succeeded, and a non-function entry caught by the script. Each slot is null with its reason; the
// others keep their values.
export const meta = {
  name: 'thunk-failures',
  description: 'Script errors inside parallel() are contained per slot',
}

class ValidationError extends Error {
  constructor(message) { super(message); this.name = 'ValidationError' }
}

const out = await parallel([
  () => agent('Describe the API', {label: 'describe'}),
  async () => (await agent('This one fails', {label: 'doomed'})).length,
  () => { throw new ValidationError('missing field “owner” → cannot route') },
  () => { throw 'a bare string — 文字列' },
  () => Promise.reject(new RangeError('index 7 out of range [0, 5)')),
  async () => { const text = await agent('Then throw', {label: 'then-throw'}); throw new Error(`got ${text}, wanted JSON`) },
  () => 'plain value',
])
let notAThunk = null
try {
  await parallel([agent('started too early', {label: 'eager'})])
} catch (e) {
  notAThunk = e.name
}
return {values: [...out], failed: out.failed, succeeded: out.succeeded, reasons: out.reasons, notAThunk}
