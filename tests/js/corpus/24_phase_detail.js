// phase() with a second argument, as scripts written for Claude Code's progress view pass it
// (`phase('Verify', {detail: '3 skeptics'})`): accepted, the phase starts as usual, and agents group under
// it. A string, null or undefined second argument is accepted too.
export const meta = {
  name: 'phased-audit',
  description: 'Phases with details, matched to meta.phases by title',
  phases: [
    {title: 'Scope', detail: 'list the files'},
    {title: 'Find', detail: 'one finder per file'},
    {title: 'Verify', detail: 'skeptics'},
  ],
}

phase('Scope', {detail: 'listing src/ — 対象を列挙'})
const files = ['a.ts', 'b.ts']
phase('Find', {detail: `${files.length} finders in parallel`, icon: '🔍'})
const found = await parallel(files.map(f => () => agent(`Find bugs in ${f}`, {label: `find ${f}`})))
phase('Verify', 'skeptics → majority')
const verified = await agent(`Verify: ${found.join('; ')}`, {label: 'verify'})
phase('Report', null)
phase('Report — final', undefined)
log('done ✅')
return {found: [...found], verified}
