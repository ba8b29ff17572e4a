// A tournament: three designs from different angles, a panel of judges scoring every design, the
// winner by total score (ties broken by angle order), and the runners-up mined for ideas to borrow.
export const meta = {
  name: 'design-tournament',
  description: 'Competing designs, judged in parallel, winner refined',
  phases: [{title: 'Design'}, {title: 'Judge'}, {title: 'Refine'}],
}

const SCORE = {type: 'object', required: ['scores'], properties: {scores: {type: 'array', items: {type: 'integer', minimum: 0, maximum: 10}}}}
const ANGLES = ['MVP-first', 'risk-first', 'user-first']
const task = args?.task ?? 'a cache'

phase('Design')
const designs = await parallel(ANGLES.map(angle => () => agent(`Design ${task}, ${angle}. One paragraph.`, {label: `design ${angle}`})))

phase('Judge')
const ballot = designs.map((d, i) => `(${i + 1}) ${ANGLES[i]}: ${d ?? '— missing —'}`).join('\n')
const judges = await parallel([1, 2, 3].map(j => () =>
  agent(`Judge ${j}: score each design 0-10 in order.\n${ballot}`, {schema: SCORE, label: `judge ${j}`, model: 'sonnet'})))
const totals = ANGLES.map((_, i) => judges.filter(Boolean).reduce((sum, j) => sum + (j.scores[i] ?? 0), 0))
const ranked = ANGLES.map((angle, i) => ({angle, total: totals[i], i})).sort((a, b) => b.total - a.total || a.i - b.i)
const [winner, ...rest] = ranked
log(`🏆 ${winner.angle} (${winner.total}) — then ${rest.map(r => `${r.angle} (${r.total})`).join(', ')}`)

phase('Refine')
const refined = await agent(`Refine: ${designs[winner.i]}\nBorrow from: ${rest.map(r => designs[r.i]).filter(Boolean).join(' | ')}`,
                            {label: 'refine', effort: 'high'})
return {winner: winner.angle, totals, refined, judgesAnswered: judges.succeeded}
