// Classify-and-act: a cheap classifier routes each issue, and the script picks the model and effort for
// the follow-up by class. Issues the classifier could not place are logged, not dropped.
export const meta = {
  name: 'route-issues',
  description: 'A cheap classifier routes issues to the right handler',
}

const CLASS = {type: 'object', required: ['kind'], properties: {kind: {type: 'string', enum: ['typo', 'bug', 'design']}}}
const ROUTES = {
  typo: {model: 'haiku', effort: 'low'},
  bug: {model: 'sonnet', effort: 'medium'},
  design: {model: 'opus', effort: 'high', agentType: 'Plan'},
}
const issues = args?.issues ?? []
const handled = await pipeline(issues,
  (issue, _, i) => agent(`Classify issue #${i}: ${issue}`, {schema: CLASS, label: `classify #${i}`, model: 'haiku', effort: 'low'}),
  (cls, issue, i) => {
    if (!cls) { log(`#${i} unclassified — skipped: ${issue}`); return null }
    return agent(`Handle this ${cls.kind}: ${issue}`, {...ROUTES[cls.kind], label: `handle #${i} ${cls.kind}`})
      .then(answer => ({i, kind: cls.kind, answer}))
  })
const counts = handled.filter(Boolean).reduce((acc, h) => ({...acc, [h.kind]: (acc[h.kind] ?? 0) + 1}), {})
return {counts, handled: handled.map(h => h && `${h.i}:${h.kind}:${h.answer}`)}
