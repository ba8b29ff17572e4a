// Structured output that never validates: the agent is retried up to the schema-attempt cap, then fails,
// agent() resolves to null, and inside a pipeline the item is null with the agent's reason. The script
// separates "could not answer" from "answered no".
export const meta = {
  name: 'extract-contracts',
  description: 'Extract API contracts; report the endpoints whose answer never validated',
}

const CONTRACT = {
  type: 'object',
  required: ['method', 'path', 'status'],
  properties: {
    method: {type: 'string', enum: ['GET', 'POST', 'PUT', 'DELETE']},
    path: {type: 'string', pattern: '^/'},
    status: {type: 'array', items: {type: 'integer'}, minItems: 1},
  },
}
const endpoints = ['listUsers', 'createUser', 'purgeCache']
const contracts = await pipeline(endpoints,
  name => agent(`Extract the HTTP contract of ${name}`, {schema: CONTRACT, label: `contract ${name}`}))
const unanswered = endpoints.filter((_, i) => contracts[i] === null)
log(`could not extract: ${unanswered.join(', ') || 'none'}`)
return {contracts: [...contracts], unanswered, failed: contracts.failed,
        reasonStartsWithLabel: Object.values(contracts.reasons).every((r, k) => r.startsWith(`contract ${unanswered[k]}: `))}
