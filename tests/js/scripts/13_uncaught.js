// an uncaught throw fails the run with the JS error's name, message and line
export const meta = {name: 'uncaught', description: 'Throws out of the body'}
await agent('some work', {label: 'work'})
const data = {items: []}
if (data.items.length === 0) {
  throw new Error(`nothing to review in ${data.items.length} items`)
}
return 'unreachable'
