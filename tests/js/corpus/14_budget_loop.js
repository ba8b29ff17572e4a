// Loop-until-budget: keep asking for more ideas while the run's token budget has room for another round,
// with the guard written the way the docs recommend (`budget.total &&` first, or the loop would run to
// the agent cap in a run without a budget).
export const meta = {
  name: 'brainstorm-until-budget',
  description: 'Generate ideas while the budget lasts',
}

const IDEAS = {type: 'object', required: ['ideas'], properties: {ideas: {type: 'array', items: {type: 'string'}}}}
const RESERVE = 15_000
const seen = new Set()
let round = 0
const spentPerRound = []
while (budget.total && budget.remaining() > RESERVE) {
  const before = budget.spent()
  const out = await agent(`Round ${round}: propose new names for the CLI, not any of: ${[...seen].join(', ') || '—'}`,
                          {schema: IDEAS, label: `ideas ${round}`, effort: 'low'})
  for (const idea of out?.ideas ?? []) seen.add(idea)
  spentPerRound.push(budget.spent() - before)
  round++
}
log(`stopped after ${round} rounds with ${budget.remaining()} tokens left (reserve ${RESERVE})`)
return {round, ideas: [...seen], spentPerRound, spent: budget.spent(), remaining: budget.remaining(), total: budget.total}
