// Loop-until-done with a completeness critic: writers cover sections, a critic lists what is still
// missing, and the missing list becomes the next round's work, up to a round cap. Coverage is tracked by
// the script, so a lazy critic cannot end the loop early.
export const meta = {
  name: 'docs-coverage',
  description: 'Write docs sections until the critic finds nothing missing',
}

const GAPS = {type: 'object', required: ['missing'], properties: {missing: {type: 'array', items: {type: 'string'}}}}
const REQUIRED = ['install', 'quickstart', 'configuration', 'faq']
let todo = ['install', 'quickstart']
const written = {}
let round = 0
while (todo.length && round < 4) {
  round++
  const drafts = await parallel(todo.map(section => () => agent(`Write the “${section}” section`, {label: `write ${section}`})))
  todo.forEach((section, i) => { if (drafts[i]) written[section] = drafts[i] })
  const critique = await agent(`Sections so far: ${Object.keys(written).join(', ')}. What is missing?`,
                               {schema: GAPS, label: `critic ${round}`})
  const claimed = (critique?.missing ?? []).filter(s => !(s in written))
  const reallyMissing = REQUIRED.filter(s => !(s in written))
  todo = [...new Set([...claimed, ...reallyMissing])]
  log(`round ${round}: wrote ${Object.keys(written).length}, next: ${todo.join(', ') || '—'}`)
}
return {round, sections: Object.keys(written).sort(), leftover: todo}
