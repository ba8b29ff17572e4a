// expect: meta-literal@3 meta-literal@4 meta-literal@5 meta-literal@6 meta-literal@7 meta-literal@8
export const meta = {name: 'impure-forms', description: 'every impure form',
  title: String(1),
  ...{whenToUse: 'spread'},
  phases: [{title: `Find ${1 + 1}`}],
  ['computed']: 'key',
  method() { return 1 },
  args,
}
