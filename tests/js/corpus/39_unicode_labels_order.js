// Labels in many scripts through the progress stream: queued in input order, finished in latency order,
// results in input order. Labels include astral-plane emoji, Arabic (right-to-left) and combining marks.
export const meta = {
  name: 'multilingual-labels',
  description: 'Progress labels that are not ASCII, in a predictable order',
  phases: [{title: '並列 ⇉ parallel'}],
}

const TASKS = [
  {label: '🐢 遅い — slow', prompt: 'Take your time.'},
  {label: 'تحليل ⚡ سريع', prompt: 'Be quick.'},
  {label: '🦊 mid\u0301dle — 중간', prompt: 'Somewhere in between.'},
]
phase('並列 ⇉ parallel')
const out = await parallel(TASKS.map(t => () => agent(t.prompt, {label: t.label})))
log(out.map((answer, i) => `${TASKS[i].label} ⇒ ${answer}`).join(' │ '))
return [...out]
