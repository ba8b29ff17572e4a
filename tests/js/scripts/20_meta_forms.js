/* meta may follow comments; it is a pure literal in any of JavaScript's literal spellings */
// a brace in a comment: {
export const meta = {
  'name': `meta-forms`,
  description: "Quotes, templates without interpolation, escapes: \u00e9 \x41 \"q\" and a } brace",
  whenToUse: 'Numbers like 1_000 and 0x10 are fine too',
  phases: [
    {title: 'One', detail: 'first', model: 'simulated',},
    {"title": 'Two'},
  ],
  args: {limit: 1_000, hex: 0x10, neg: -2.5, flag: true, none: null, list: [1, 'two', [3]]},
};
return {name: meta.name, description: meta.description, hex: meta.args.hex, phases: meta.phases.map(p => p.title)}
