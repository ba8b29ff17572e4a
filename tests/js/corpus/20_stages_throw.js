// Stages that throw at different depths of a pipeline: the item becomes null, its later stages are
// skipped (counted here), the reason names the stage; a stage that returns null does not stop the chain,
// so later stages guard with `prev == null`. Items that fail early never reach the expensive stage.
export const meta = {
  name: 'migrate-call-sites',
  description: 'Discover → transform → verify, one call site at a time',
  phases: [{title: 'Transform'}, {title: 'Verify'}],
}

const PLAN = {type: 'object', required: ['steps'], properties: {steps: {type: 'array', items: {type: 'string'}}}}
const sites = args?.sites ?? []
const reached = {transform: [], verify: []}
const out = await pipeline(sites,
  site => {
    if (!site.includes(':')) throw new SyntaxError(`bad call site “${site}” — expected file:line`)
    const [file, line] = site.split(':')
    return {file, line: Number(line)}
  },
  async (where, site) => {
    reached.transform.push(site)
    const plan = await agent(`Plan the migration of ${where.file} line ${where.line}`,
                             {schema: PLAN, label: `plan ${site}`, phase: 'Transform'})
    if (plan && plan.steps.length === 0) throw new Error(`nothing to do at ${site}`)
    return plan  // null when the agent failed: the chain goes on
  },
  async (plan, site, index) => {
    reached.verify.push(site)
    if (plan == null) return {site, index, status: 'unplanned'}
    const ok = await agent(`Verify ${plan.steps.length} steps for ${site}`, {label: `verify ${site}`, phase: 'Verify'})
    return {site, index, status: ok}
  },
)
// the order stages are reached in depends on timing: sort before comparing
return {out: [...out], failed: out.failed, reasons: out.reasons,
        reached: {transform: reached.transform.sort(), verify: reached.verify.sort()}}
