// Budget-aware depth inside a pipeline: each item gets a quick pass, and a deep pass only while the
// budget still has room (`!budget.total || budget.remaining() > X`). The gate is read when an item
// reaches stage 2. With one agent at a time, every quick pass is queued before any deep pass, and each
// quick pass takes 100 ms, so the gates read 58k, 56k, 54k, 52k left: the last item misses the reserve
// and stays quick.
export const meta = {
  name: 'budget-gated-depth',
  description: 'Quick pass for all, deep pass while the budget lasts',
}

const RESERVE = 53_000
const items = ['α', 'β', 'γ', 'δ']
const out = await pipeline(items,
  item => agent(`Quick look at ${item}`, {label: `quick ${item}`, model: 'haiku'}),
  async (quick, item) => {
    if (budget.total && budget.remaining() <= RESERVE) return {item, depth: 'quick', quick}
    const deep = await agent(`Deep look at ${item} — take your time`, {label: `deep ${item}`, model: 'opus', effort: 'high'})
    return {item, depth: 'deep', quick, deep}
  })
log(`deep: ${out.filter(o => o?.depth === 'deep').map(o => o.item).join(' ')} · quick only: ${out.filter(o => o?.depth === 'quick').map(o => o.item).join(' ')}`)
return {depths: out.map(o => o.depth), spent: budget.spent(), remaining: budget.remaining()}
