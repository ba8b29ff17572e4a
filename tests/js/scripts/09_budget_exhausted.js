// budget exhaustion: agent() throws (catchable) once the budget cannot fit another turn; in parallel() the slot is null
export const meta = {name: 'budget-exhaustion', description: 'Loop until the budget runs out'}
let rounds = 0
let stopped = null
try {
  while (budget.total && budget.remaining() > 0) {
    await agent(`Round ${rounds}`, {label: `round ${rounds}`})
    rounds++
  }
} catch (e) {
  stopped = e.message.split(':')[0]
}
const late = await parallel([() => agent('one more', {label: 'late'})])
return {rounds, stopped, late: [...late], lateFailed: late.failed, unlimited: budget.remaining() === Infinity}
