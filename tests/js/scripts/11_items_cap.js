// 4096 items per parallel()/pipeline() call: exactly 4096 runs, 4097 throws before anything starts
export const meta = {name: 'items-cap', description: 'The per-call item cap'}
const ok = await parallel(Array.from({length: 4096}, (_, i) => () => i))
const errors = []
try { await parallel(Array.from({length: 4097}, () => () => agent('never', {label: 'never'}))) } catch (e) { errors.push(e.message) }
try { await pipeline(Array.from({length: 5000}, (_, i) => i), x => x) } catch (e) { errors.push(e.message) }
const piped = await pipeline(Array.from({length: 4096}, (_, i) => i), x => x * 2)
return {count: ok.length, last: ok[4095], sum: piped.reduce((a, b) => a + b, 0), errors}
