// the error semantics table for parallel(): a throwing thunk or a failed agent gives null, parallel never rejects
export const meta = {name: 'parallel-failures', description: 'Failures become null and are counted'}
const out = await parallel([
  () => agent('fine', {label: 'ok'}),
  () => { throw new TypeError('thunk broke') },
  () => agent('this one is refused', {label: 'refused'}),
  async () => { await agent('fine again', {label: 'ok2'}); throw new Error('after an agent') },
])
return {out, failed: out.failed, succeeded: out.succeeded, reasons: out.reasons,
        kept: out.filter(Boolean).length}
