// a JS workflow calls a Python workflow: same run, same agent count, results cross as JSON
export const meta = {name: 'js-calls-python', description: 'Cross-dialect nesting'}
const fromPython = await workflow('py-child', {n: 3})
const mine = await agent('parent work', {label: 'parent'})
return {fromPython, mine}
