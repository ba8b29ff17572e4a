// Workcrew's extras in the JS dialect: report() a finding (its id), ask() (None headless)
export const meta = {name: 'report-ask', description: 'Findings and questions'}
const id = await report({title: 'Division by zero', location: {path: 'calc.py', start_line: 3}, category: 'bug'})
const answer = await ask('Proceed?', ['yes', 'no'])
let bad = null
try { await report({message: 'no title or location'}) } catch (e) { bad = e.name }
return {idIsString: typeof id === 'string' && id.length > 0, answer, bad}
