// Meta literals from the wild carry keys Workcrew does not use: a version, an author, tags, a model
// hint per phase, an icon. They must not stop the run: each is a warning, logged once.
export const meta = {
  name: 'nightly-triage',
  description: 'Triage the nightly failures — 夜間ビルド',
  whenToUse: 'Every morning, on the nightly failures',
  version: 2,
  author: 'x',
  tags: ['ci', 'triage', '🌙'],
  license: 'MIT',
  phases: [{title: 'Collect', icon: '📥'}, {title: 'Triage', detail: 'one agent per failure', model: 'haiku', owner: 'ci-team'}],
}

phase('Collect')
const failures = args?.failures ?? []
phase('Triage')
const triaged = await parallel(failures.map(f => () => agent(`Triage the failing test ${f}`, {label: `triage ${f}`})))
return {version: meta.version, author: meta.author, tags: meta.tags, triaged: [...triaged]}
