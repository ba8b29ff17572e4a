// Custom agent types from the project's .claude/agents (Claude Code's subagent files): each agent gets its
// type's instructions, tools and model, an explicit model still wins, a tool outside the type's list is
// refused as a tool error, and an unknown type throws at the call — naming the known ones — with nothing
// launched for it.
export const meta = {
  name: 'typed-security-review',
  description: 'A security reviewer and a code reviewer look at one change',
  model: 'sonnet',
}

const FINDINGS = {type: 'object', required: ['findings'],
                  properties: {findings: {type: 'array', items: {type: 'string'}}}}
const files = args?.files ?? ['src/auth.js']
const reviews = await parallel(files.map(f => () =>
  agent(`Review ${f} for injection`, {agentType: 'security-reviewer', label: `security ${f}`, schema: FINDINGS})))
const second = await agent('Second opinion on the change', {agentType: 'code-reviewer', label: 'second', model: 'sonnet'})
let unknown = null
try {
  await agent('Review it once more', {agentType: 'no-such-reviewer', label: 'ghost'})
} catch (e) {
  unknown = {name: e.name, listsKnown: e.message.includes('security-reviewer') && e.message.includes('general-purpose')}
}
return {findings: reviews.filter(Boolean).flatMap(r => r.findings), second, unknown}
