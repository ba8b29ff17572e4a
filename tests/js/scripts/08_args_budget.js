// args is the run's JSON input verbatim; budget.total/spent()/remaining() follow the run's token budget
export const meta = {name: 'args-budget', description: 'Reads args and the budget'}
const before = {total: budget.total, spent: budget.spent(), remaining: budget.remaining()}
await agent(`Summarise ${args.files.join(', ')}`, {label: 'summary'})
const after = {spent: budget.spent(), remaining: budget.remaining()}
return {
  files: args.files, depth: args.options.depth, isArray: Array.isArray(args.files),
  before, grew: after.spent > 0, adds: after.spent + after.remaining === budget.total,
  frozen: Object.isFrozen(budget),
}
