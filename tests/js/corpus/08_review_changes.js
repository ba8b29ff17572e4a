// The canonical review-changes shape: each review dimension returns findings (schema), each finding is
// verified by a parallel panel as soon as its dimension finishes (parallel inside a pipeline stage, no
// barrier between dimensions), and confirmed findings are filtered at the end.
export const meta = {
  name: 'review-changes',
  description: 'Find bugs along several dimensions and verify each finding',
  whenToUse: 'Before merging a branch',
  phases: [{title: 'Find'}, {title: 'Verify', detail: 'three skeptics per finding', model: 'sonnet'}],
}

const FINDINGS = {type: 'object', required: ['findings'], properties: {findings: {type: 'array', items: {
  type: 'object', required: ['file', 'line', 'summary'],
  properties: {file: {type: 'string'}, line: {type: 'integer'}, summary: {type: 'string'}}}}}}
const VERDICT = {type: 'object', required: ['refuted'], properties: {refuted: {type: 'boolean'}, reason: {type: 'string'}}}
const DIMENSIONS = ['correctness', 'security', 'performance']

const reviewed = await pipeline(DIMENSIONS,
  dimension => agent(`Review the diff for ${dimension} problems only. Report file, line and a summary.`,
                     {schema: FINDINGS, phase: 'Find', label: `find ${dimension}`}),
  (found, dimension) => parallel((found?.findings ?? []).map(finding => () =>
    parallel([1, 2, 3].map(n => () => agent(
      `Skeptic ${n}: try to refute "${finding.summary}" at ${finding.file}:${finding.line}. If unsure, refuted=true.`,
      {schema: VERDICT, phase: 'Verify', model: 'sonnet', label: `verify ${dimension} ${finding.line} #${n}`})))
      .then(votes => ({...finding, dimension, upheld: votes.filter(v => v && !v.refuted).length}))
  )),
)

const all = reviewed.flat().filter(Boolean)
const confirmed = all.filter(f => f.upheld >= 2)
log(`${all.length} findings, ${confirmed.length} confirmed`)
return confirmed.map(f => `${f.dimension}: ${f.file}:${f.line} — ${f.summary} (${f.upheld}/3)`)
