// Model routing from the script: model aliases ('haiku', 'sonnet', 'opus'), effort levels and agent
// types, alone and together with schemas, as an ensemble that asks the same question at three price points.
export const meta = {
  name: 'model-ensemble',
  description: 'The same question to three models, answers compared',
  model: 'sonnet',
}

const ANSWER = {type: 'object', required: ['answer', 'confidence'],
                properties: {answer: {type: 'string'}, confidence: {type: 'number', minimum: 0, maximum: 1}}}
const QUESTION = 'Is the retry loop in client.ts bounded? Answer yes or no.'
const TIERS = [
  {model: 'haiku', effort: 'low', agentType: 'Explore'},
  {model: 'sonnet', effort: 'medium', agentType: 'general-purpose'},
  {model: 'opus', effort: 'max', agentType: 'code-reviewer'},
]
const answers = await parallel(TIERS.map(t => () => agent(QUESTION, {...t, schema: ANSWER, label: `ask ${t.model}`})))
const inherited = await agent('Which file holds the retry loop?', {label: 'inherit'})
const typed = await agent('Plan the fix', {label: 'plan', agentType: 'Plan', effort: 'xhigh'})
const best = answers.filter(Boolean).reduce((a, b) => (b.confidence > a.confidence ? b : a))
return {best, agree: new Set(answers.map(a => a?.answer)).size === 1, inherited, typed}
