// Loop-until-dry: finder rounds until two consecutive rounds add nothing new, deduplicating against
// everything seen (not just what was kept), with a hard round cap and a budget guard as backstops.
export const meta = {
  name: 'find-until-dry',
  description: 'Keep looking until the finders stop finding',
  phases: [{title: 'Sweep'}],
}

const FOUND = {type: 'object', required: ['items'], properties: {items: {type: 'array', items: {type: 'string'}}}}
const MAX_ROUNDS = 10
const seen = []
let dry = 0
let round = 0
phase('Sweep')
while (dry < 2 && round < MAX_ROUNDS && (!budget.total || budget.remaining() > 10_000)) {
  round++
  const found = await agent(`Round ${round}. Find unused exports. Already known: ${JSON.stringify(seen)}`,
                            {schema: FOUND, label: 'finder', model: 'haiku'})
  const fresh = (found?.items ?? []).filter(item => !seen.includes(item))
  seen.push(...fresh)
  dry = fresh.length ? 0 : dry + 1
  log(`round ${round}: +${fresh.length} (${dry} dry)`)
}
if (round === MAX_ROUNDS) log(`stopped at the cap of ${MAX_ROUNDS} rounds — results may be incomplete`)
return {round, seen, unlimited: budget.total === null && budget.remaining() === Infinity}
