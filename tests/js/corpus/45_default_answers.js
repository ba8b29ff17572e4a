// A dry run with no scenario at all: every agent gets the simulated model's default answer — a short text
// naming its label (or the start of its prompt when it has none), or the minimal instance of its schema.
// Scripts written for real models must survive these placeholder answers.
export const meta = {
  name: 'dry-run-smoke',
  description: 'Smoke-test a workflow with placeholder answers',
}

const PLAN = {type: 'object', required: ['steps', 'risky', 'estimate'], properties: {
  steps: {type: 'array', items: {type: 'string'}},
  risky: {type: 'boolean'},
  estimate: {type: 'object', required: ['hours'], properties: {hours: {type: 'number'}}},
  owner: {type: 'string'},
}}
const labelled = await agent('Plan the migration', {label: 'plan — 計画 🗺️'})
const unlabelled = await agent('Summarise   the\n  migration   notes — in one line, please, and keep the emoji 🧳 and the arrows → everywhere you can')
const plan = await agent('Plan it as JSON', {schema: PLAN, label: 'plan json'})
const steps = plan.steps.length ? plan.steps : ['(no steps — placeholder answer)']
return {labelled, unlabelled, plan, steps}
