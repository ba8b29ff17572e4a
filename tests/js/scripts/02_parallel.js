// parallel(): thunks run concurrently, results come back in input order with the call's accounting
export const meta = {name: 'parallel-order', description: 'Results in input order'}
const items = ['slow', 'fast', 'plain']
const out = await parallel(items.map(name => () => agent(`Echo ${name}`, {label: name})))
const mixed = await parallel([() => 41 + 1, async () => 'sync value', () => null])
return {out, launched: out.launched, succeeded: out.succeeded, failed: out.failed, mixed,
        isArray: Array.isArray(out), keys: Object.keys(out)}
