// expect: typescript@5
export const meta = {name: 'ts-cast', description: 'a type assertion'}

const raw = await agent('x')
const found = raw as Finding
return found
