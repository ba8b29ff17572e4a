// expect: meta-first@2
const FILES = ['a.py']
export const meta = {name: 'late-meta', description: 'meta is not the first statement'}
return FILES
