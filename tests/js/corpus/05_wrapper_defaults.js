// Wrap agent() once with the run's defaults and override per call, the most common helper in shared
// workflows: `const ask = (p, o) => agent(p, {...DEFAULTS, ...o})`.
export const meta = {
  name: 'triage-with-defaults',
  description: 'Cheap defaults for every agent, heavier models only where needed',
  phases: [{title: 'Triage'}, {title: 'Escalate', model: 'opus'}],
}

const DEFAULTS = {model: 'haiku', effort: 'low', agentType: 'general-purpose'}
const ask = (p, o) => agent(p, {...DEFAULTS, ...o})
const askJson = (p, schema, o = {}) => ask(p, {schema, ...o})
const SEVERITY = {type: 'object', required: ['level'], properties: {level: {type: 'string', enum: ['low', 'high']}}}

phase('Triage')
const todos = await ask('List the TODO comments in src/', {label: 'todos'})
const severity = await askJson('Rate the worst TODO', SEVERITY, {label: 'severity'})
let deep = null
if (severity.level === 'high') {
  deep = await ask('Explain the worst TODO in depth — root cause → fix', {label: 'deep', model: 'opus', effort: 'high'})
}
const sonnet = await ask('Second opinion', {label: 'second', model: 'sonnet', agentType: 'code-reviewer'})
phase('Escalate')
const escalated = await agent('Escalate if needed', {label: 'escalate'})
return {todos, severity, deep, sonnet, escalated}
