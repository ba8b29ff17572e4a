// expect: meta-literal@3 meta-literal@4 meta-literal@5
export const meta = {name: 'impure', description: 'computed values',
  title: args,
  whenToUse: 'a' + 'b',
  phases: [{title: 'x'}].concat([]),
}
