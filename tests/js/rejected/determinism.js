// expect: determinism@5 determinism@6 determinism@7 determinism@8 determinism@9
export const meta = {name: 'clocks', description: 'real uses of the clock and randomness'}
// Date.now() in a comment is fine, and so is "Math.random()" in a string
const label = `stamp: Date.now()` + 'new Date()'
const t = Date.now()
const r = Math.random()
const d = new Date()
const e = new Date
const stamp = `at ${Date['now']()}`
const fixed = new Date(0)
const parsed = Date.parse('2026-01-01')
return {label, t, r, d, e, stamp, fixed, parsed}
