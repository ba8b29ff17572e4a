// the per-run agent cap: the call past it throws, explaining the cap; the script may catch it
export const meta = {name: 'agent-cap', description: 'Hits the lifetime agent cap'}
const done = []
let error = null
try {
  for (let i = 0; i < 10; i++) done.push(await agent(`Task ${i}`, {label: `task ${i}`}))
} catch (e) {
  error = e.message
}
return {done: done.length, error, name: 'caught'}
