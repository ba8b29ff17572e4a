// The script reads its own meta: phases are started from meta.phases (title and detail passed to
// phase()), agents are grouped with the `phase` option inside a fan-out, and the per-phase model in meta
// routes those agents.
export const meta = {
  name: 'meta-driven',
  description: 'Phases and their models come from meta — メタ',
  phases: [
    {title: '① Gather — 収集', detail: 'read the inputs'},
    {title: '② Judge — 判定', detail: 'cheap judges', model: 'haiku'},
    {title: '③ Write — 執筆', detail: 'one careful writer', model: 'opus'},
  ],
}

const [gather, judge, write] = meta.phases
phase(gather.title, {detail: gather.detail})
const inputs = await parallel(['spec', 'notes'].map(x => () => agent(`Read the ${x}`, {label: `read ${x}`})))
phase(judge.title, {detail: judge.detail})
const votes = await parallel([1, 2].map(i => () => agent(`Judge ${i}: is it ready? ${inputs.join(' / ')}`,
                                                         {label: `judge ${i}`, phase: judge.title})))
phase(write.title, {detail: write.detail})
const text = await agent(`Write it up. Votes: ${votes.join(', ')}`, {label: 'writer'})
return {phases: meta.phases.map(p => p.title), votes: [...votes], text}
