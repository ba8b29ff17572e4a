// agent() options: unknown ones and Claude-only ones are warnings logged once per run, never silently dropped
export const meta = {name: 'agent-options', description: 'Option handling'}
const errors = []
for (const attempt of [
  () => agent('x', {lable: 'typo'}),
  () => agent('', {label: 'empty'}),
  () => agent(42),
  () => agent('x', 'not options'),
  () => agent('x', {isolation: 'remote'}),
  () => agent('x', {effort: 'huge'}),
  () => agent('x', {schema: {type: 'object'}, model: 'no-such-model'}),
]) {
  try { await attempt(); errors.push('no error') } catch (e) { errors.push(`${e.name}: ${e.name === 'UnknownModel' ? e.message.split(':')[0] : e.message}`) }
}
const ok = await agent('runs anyway', {label: 'tolerant', stallMs: 1000, disallowedTools: ['Bash']})
return {errors, ok}
