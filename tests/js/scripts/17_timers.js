// setTimeout/clearTimeout: a delay that resolves, and a cleared timer that never fires
export const meta = {name: 'timers', description: 'Claude Code scripts may wait with setTimeout'}
const fired = []
const cancelled = setTimeout(() => fired.push('cancelled'), 5)
clearTimeout(cancelled)
await new Promise(resolve => setTimeout(resolve, 1))
setTimeout((a, b) => fired.push(a + b), 0, 'arg', 's')
await new Promise(resolve => setTimeout(resolve, 10))
return fired
