// workflow(): a saved workflow runs inline with its own args, shares the agent count; one level only
export const meta = {name: 'nested-parent', description: 'Calls a child workflow'}
phase('Parent')
const a = await agent('parent work', {label: 'parent'})
const child = await workflow('child-js', {topic: 'caching'})
const byPath = await workflow({scriptPath: '.claude/workflows/child-js.js'}, {topic: 'paths'})
let deeper = null
try { await workflow('deep-child') } catch (e) { deeper = e.message }
let missing = null
try { await workflow('no-such-workflow') } catch (e) { missing = e.name }
let broken = null
try { await workflow('broken-child') } catch (e) { broken = [e.name, e.message.includes(': determinism: Date.now() reads the clock')] }
return {a, child, byPath, deeper, missing, broken}
