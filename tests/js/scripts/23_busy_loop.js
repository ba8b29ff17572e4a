// synchronous code over the time slice is interrupted with a clear error; try/catch cannot swallow it
export const meta = {name: 'busy-loop', description: 'Never yields'}
await agent('first', {label: 'first'})
try {
  let i = 0
  while (true) { i++ }
} catch (e) {
  log('caught: ' + e)
}
return 'unreachable'
