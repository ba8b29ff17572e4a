// pipeline(): stages get (previous, item, index); no barrier between stages
export const meta = {name: 'pipeline-flow', description: 'Each item flows on its own'}
const out = await pipeline(['a', 'b'],
  (item, same, index) => agent(`First look at ${item}`, {label: `one ${item}`, phase: 'One'}),
  async (previous, item, index) => {
    const second = await agent(`Second look at ${item} after ${previous}`, {label: `two ${item}`, phase: 'Two'})
    return `${index}:${item}:${previous}:${second}`
  })
return {out, launched: out.launched}
