// expect: meta@2
export const meta = {name: 'bad-phase', description: 'A phase without a title', phases: [{detail: 'x'}], extra: 1}
