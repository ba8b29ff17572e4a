// expect: syntax@5
export const meta = {name: 'syntax', description: 'a plain syntax error'}

const ok = 1
const broken = (1 +
