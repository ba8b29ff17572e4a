// A relay: one agent's long non-Latin-1 answer becomes part of the next agent's prompt, twice over, and
// a pipeline stage carries it on. Each hop must pass the text byte for byte (the scenario only answers
// "intact" to the exact text), and the script checks lengths on its side.
export const meta = {
  name: 'relay-translation',
  description: 'Draft → critique → revise, carrying long multilingual text between agents',
  phases: [{title: 'Draft ✍️'}, {title: 'Critique 🧐'}, {title: 'Revise 🔁'}],
}

phase('Draft ✍️')
const draft = await agent('Draft the multilingual announcement — every language, full length.', {label: 'draft'})
phase('Critique 🧐')
const critique = await agent(`Critique this draft. Say “intact” if it arrived complete.\n<<<\n${draft}\n>>>`, {label: 'critique'})
phase('Revise 🔁')
const revised = await pipeline([draft],
  d => agent(`Revise:\n${d}\nCritique: ${critique}`, {label: 'revise'}),
  (r, d) => ({same: r === d, units: r.length, points: [...r].length, astral: [...r].filter(c => c.codePointAt(0) > 0xffff).length}))
return {draftUnits: draft.length, draftPoints: [...draft].length, critique, revised: revised[0]}
