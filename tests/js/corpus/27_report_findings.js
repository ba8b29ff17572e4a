// Report confirmed findings as they are confirmed (the editor shows them live): report({title, path,
// line}) in the short form, and the full form with location, severity and message. report() resolves to
// the finding's id; a malformed finding rejects and the script carries on.
export const meta = {
  name: 'report-confirmed',
  description: 'Find, verify, and report each confirmed bug at once',
}

const BUGS = {type: 'object', required: ['bugs'], properties: {bugs: {type: 'array', items: {
  type: 'object', required: ['path', 'line', 'title'],
  properties: {path: {type: 'string'}, line: {type: 'integer'}, title: {type: 'string'}, severity: {type: 'string'}}}}}}
const VERDICT = {type: 'object', required: ['real'], properties: {real: {type: 'boolean'}}}

const found = await agent('Find bugs in src/ — report path, line, title', {schema: BUGS, label: 'find'})
const ids = await pipeline(found.bugs,
  bug => agent(`Is "${bug.title}" at ${bug.path}:${bug.line} real?`, {schema: VERDICT, label: `verify ${bug.line}`}),
  (verdict, bug) => (verdict?.real
    ? (bug.severity
      ? report({title: bug.title, location: {path: bug.path, start_line: bug.line}, severity: bug.severity,
                message: `confirmed by a verifier — ${bug.title}`})
      : report({title: bug.title, path: bug.path, line: bug.line}))
    : null),
)
let rejected = null
try {
  await report({title: 'no location at all'})
} catch (e) {
  rejected = e.name
}
return {reported: ids.filter(Boolean).length, idsAreStrings: ids.filter(Boolean).every(id => typeof id === 'string'),
        distinct: new Set(ids.filter(Boolean)).size, rejected}
