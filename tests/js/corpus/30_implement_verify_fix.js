// Implement → verify → fix as a bounded round loop: the implementer reports what it changed (schema),
// verifiers report numbers, and the script — not an agent — decides the gate. Verifiers answer
// differently each round (scenario call counts), so the loop ends in round 3.
export const meta = {
  name: 'implement-verify-fix',
  description: 'Implement a change and iterate until the tests pass',
  phases: [{title: 'Implement'}, {title: 'Verify'}, {title: 'Fix'}],
}

const CHANGE = {type: 'object', required: ['filesChanged', 'summary'],
                properties: {filesChanged: {type: 'array', items: {type: 'string'}}, summary: {type: 'string'}}}
const TESTS = {type: 'object', required: ['passed', 'failed'],
               properties: {passed: {type: 'integer'}, failed: {type: 'array', items: {type: 'string'}}}}
const REVIEW = {type: 'object', required: ['blocking'], properties: {blocking: {type: 'integer'}}}
const MAX_ROUNDS = 4

phase('Implement')
const change = await agent(`Implement: ${args.task}. Report the files you changed.`, {schema: CHANGE, label: 'implement'})
if (!change) return {status: 'implementer failed'}

const history = []
let status = 'gave up'
for (let round = 1; round <= MAX_ROUNDS; round++) {
  phase('Verify')
  const [tests, review] = await parallel([
    () => agent(`Run the tests touching ${change.filesChanged.join(', ')}`, {schema: TESTS, label: 'tests', effort: 'low'}),
    () => agent(`Review the change: ${change.summary}`, {schema: REVIEW, label: 'review'}),
  ])
  const failing = tests?.failed ?? ['(no test report)']
  const blocking = review?.blocking ?? 1
  history.push(`round ${round}: ${failing.length} failing, ${blocking} blocking`)
  if (failing.length === 0 && blocking === 0) { status = `green in round ${round}`; break }
  phase('Fix')
  await agent(`Fix without weakening tests. Failing: ${failing.join(', ')}; blocking review comments: ${blocking}`,
              {label: `fix ${round}`})
}
history.forEach(line => log(line))
return {status, history, files: change.filesChanged}
