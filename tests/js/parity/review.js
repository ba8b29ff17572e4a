export const meta = {
  name: 'review-parity',
  description: 'Find bugs per file, verify each with three skeptics, keep the confirmed ones',
  phases: [{title: 'Find'}, {title: 'Verify'}, {title: 'Report'}],
}
const BUGS = {type: 'object', required: ['bugs'], properties: {bugs: {type: 'array', items: {type: 'object',
  required: ['line', 'title'], properties: {line: {type: 'integer'}, title: {type: 'string'}}}}}}
const VERDICT = {type: 'object', required: ['refuted'], properties: {refuted: {type: 'boolean'}}}
const files = args?.files ?? ['a.py', 'b.py']
const barrier = Boolean(args?.barrier)

phase('Find')
async function verify(found, path) {
  if (found == null) return []
  const checked = []
  for (const bug of found.bugs) {
    const votes = await parallel([0, 1, 2].map(i => () => agent(
      `Skeptic ${i}: try to REFUTE ${path}:${bug.line} ${bug.title}`,
      {schema: VERDICT, label: `verify ${path}:${bug.line}#${i}`, phase: 'Verify'})))
    const upheld = votes.filter(v => v && !v.refuted).length
    checked.push({path, line: bug.line, title: bug.title, confirmed: upheld >= 2, votes: votes.filter(Boolean).length})
  }
  return checked
}
const find = path => agent(`Find real bugs in ${path}`, {schema: BUGS, label: `find ${path}`})
let results
if (barrier) {
  const found = await parallel(files.map(f => () => find(f)))
  results = await parallel(files.map((f, i) => () => verify(found[i], f)))
} else {
  results = await pipeline(files, find, verify)
}
phase('Report')
const confirmed = results.filter(Boolean).flat().filter(b => b.confirmed)
log(`${confirmed.length} confirmed; ${results.failed} files failed`)
return {confirmed, launched: results.launched}
