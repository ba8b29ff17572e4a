// a slot may return a promise that another slot, or the script, holds too: every holder gets the value,
// whether the call is still running when the slot starts or has already settled
export const meta = {name: 'shared-promise', description: 'Slots returning the same agent call'}
const first = agent('shared', {label: 'shared'})
const out = await parallel([() => first, () => first, () => agent('own', {label: 'own'}),
                            () => agent('refused', {label: 'refused'})])
const again = await parallel([() => first, () => first])
return {out, again, reasons: out.reasons, shared: await first}
