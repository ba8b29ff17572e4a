// expect: syntax@3
export const meta = {name: 'strings', description: 'an unterminated string'}
const s = 'no end
