// A research workflow: a multi-modal sweep (finders that search differently), a deduplicated reading
// list, deep readers in a pipeline, and one synthesizer. Sources and notes are multilingual.
export const meta = {
  name: 'deep-research-lite',
  description: 'Sweep, read deeply, synthesise — with citations',
  whenToUse: 'For an open question that needs several sources',
  phases: [{title: 'Sweep'}, {title: 'Read'}, {title: 'Synthesise'}],
}

const SOURCES = {type: 'object', required: ['sources'], properties: {sources: {type: 'array', items: {
  type: 'object', required: ['id', 'title'], properties: {id: {type: 'string'}, title: {type: 'string'}}}}}}
const NOTE = {type: 'object', required: ['claim', 'quote'], properties: {claim: {type: 'string'}, quote: {type: 'string'}}}
const question = args?.question ?? 'What changed?'
const MODES = ['by keyword', 'by author', 'by citation graph']

phase('Sweep')
const sweeps = await parallel(MODES.map(mode => () =>
  agent(`Find sources on: ${question}\nSearch ${mode}.`, {schema: SOURCES, label: `sweep ${mode}`, model: 'haiku'})))
const byId = new Map()
for (const s of sweeps.filter(Boolean).flatMap(x => x.sources)) if (!byId.has(s.id)) byId.set(s.id, s)
const reading = [...byId.values()]
log(`${reading.length} distinct sources from ${sweeps.filter(Boolean).length} sweeps`)

phase('Read')
const notes = await pipeline(reading,
  src => agent(`Read ${src.id} “${src.title}” closely. What does it claim about: ${question}`,
               {schema: NOTE, label: `read ${src.id}`}),
  (note, src) => (note ? {...note, cite: `[${src.id}]`} : null))

phase('Synthesise')
const usable = notes.filter(Boolean)
const answer = await agent(
  `Question: ${question}\nNotes:\n${usable.map(n => `- ${n.claim} ${n.cite} — “${n.quote}”`).join('\n')}\nWrite two sentences with citations.`,
  {label: 'synthesise', model: 'opus', effort: 'high'})
return {sources: reading.map(s => s.id), cited: usable.map(n => n.cite), answer}
