// phase() starts progress groups, log() and console.* write narrator lines, in script order
export const meta = {name: 'narration', description: 'Phases and log lines',
  phases: [{title: 'Scope'}, {title: 'Work'}]}
phase('Scope')
log('scoping')
console.log('numbers', 1, 2.5, {k: [1, 2]}, null, undefined, true)
console.error(new TypeError('shown, not thrown'))
phase('Work')
await agent('work', {label: 'worker'})
log(42)
phase('Unlisted phase')
return 'ok'
