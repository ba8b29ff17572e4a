// agent() options from other harnesses and from Claude Code's undocumented set: `retries`, `stallMs`,
// `disallowedTools`, `maxTurns`, `temperature`. None fails the run or the call; each is warned about
// once per run however many agents pass it.
export const meta = {
  name: 'tolerant-options',
  description: 'Unknown agent options are warnings, not errors',
}

const opts = {retries: 2, stallMs: 1000, disallowedTools: ['Bash', 'Write'], maxTurns: 5, temperature: 0.2}
const answers = await parallel(['a', 'b', 'c'].map(x => () => agent(`Explain ${x}`, {label: `explain ${x}`, ...opts})))
const single = await agent('One more', {label: 'one more', retries: 3})
const typed = await agent('With schema', {label: 'typed', schema: {type: 'object', required: ['ok'], properties: {ok: {type: 'boolean'}}},
                                          bashCommandClamp: ['Bash(git diff:*)']})
return {answers: [...answers], single, typed}
