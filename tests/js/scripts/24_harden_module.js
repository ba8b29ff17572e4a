// the reference's example script (claude-code-workflows.md §17), every primitive in one realistic flow
export const meta = {  // first statement, literal only
  name: 'harden-module', description: 'Audit a module, fix confirmed bugs, verify fixes',
  whenToUse: 'When asked to audit and fix a package end-to-end',
  phases: [{title:'Scope'}, {title:'Find'}, {title:'Verify'}, {title:'Fix'}, {title:'Report'}],
}
const FILES = {type:'object', required:['files'], properties:{files:{type:'array', items:{type:'string'}}}}
const BUGS = {type:'object', required:['bugs'], properties:{bugs:{type:'array', items:{type:'object',
  required:['file','line','desc'], properties:{file:{type:'string'}, line:{type:'number'}, desc:{type:'string'}}}}}}
const VERDICT = {type:'object', required:['refuted'], properties:{refuted:{type:'boolean'}, why:{type:'string'}}}
const TESTS = {type:'object', required:['passed','failed'], properties:{passed:{type:'number'}, failed:{type:'array', items:{type:'string'}}}}

phase('Scope')
const target = args?.path ?? 'src/'  // from Workflow({name, args})
const scope = await agent(`List source files under ${target}`, {schema: FILES, effort: 'low', label: 'scope'})
if (!scope) return {error: 'scoping agent failed'}

// Find -> Verify without a barrier: each file moves on as soon as its finder returns
const verified = await pipeline(scope.files,
  file => agent(`Find real bugs in ${file}; report file:line`, {schema: BUGS, phase: 'Find', label: `find:${file}`}),
  (found, file) => parallel((found?.bugs ?? []).map(b => () =>
    parallel([0, 1, 2].map(i => () => agent(
        `Skeptic #${i}: try to REFUTE "${b.desc}" at ${b.file}:${b.line}. If unsure, refuted=true.`,
        {schema: VERDICT, phase: 'Verify', model: 'simulated', label: `verify:${b.file}:${b.line}#${i}`})))
      .then(votes => { const ok = votes.filter(Boolean)
                       return {...b, real: ok.filter(v => !v.refuted).length >= 2, returned: ok.length} }))))
const confirmed = verified.flat().filter(x => x && x.real)
const shortVotes = verified.flat().filter(x => x && x.returned < 3).length
log(`${confirmed.length} confirmed; ${shortVotes} findings had missing votes (unverified, not refuted)`)

phase('Fix')  // worktree per bug: fixes run in parallel
const fixes = await pipeline(confirmed,
  bug => agent(`Fix ${bug.file}:${bug.line}: ${bug.desc}. Add a regression test.`, {phase: 'Fix', label: `fix:${bug.file}`}),
  async (patch, bug) => {
    for (let round = 1; round <= 3; round++) {  // the gate is decided in JS
      const t = await agent(`In the worktree for ${bug.file}, run the tests; report counts.`, {schema: TESTS, effort: 'low', phase: 'Fix', label: `test:${bug.file}#${round}`})
      if (t && t.failed.length === 0) return {bug, ok: true, round}
      if (!budget.total || budget.remaining() > 100_000)
        await agent(`Tests failing: ${JSON.stringify(t?.failed)}. Fix without weakening tests.`, {phase: 'Fix', label: `refix#${round}`})
    }
    return {bug, ok: false}
  })

phase('Report')
const summary = await workflow('release-notes', {items: fixes.filter(Boolean)})  // one nesting level; shares caps and budget
return {confirmed: confirmed.length, fixed: fixes.filter(f => f?.ok).length, summary}
