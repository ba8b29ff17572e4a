// plain JavaScript concurrency still works: Promise.all over agent() calls, .then chains, async helpers
export const meta = {name: 'promises', description: 'Native promises around agent()'}
const both = await Promise.all([agent('one', {label: 'p1'}), agent('two', {label: 'p2'})])
const chained = await agent('three', {label: 'p3'}).then(text => text.toUpperCase())
const settled = await Promise.allSettled([agent('', {label: 'bad'}), Promise.resolve(7)])
async function twice(prompt) { return [await agent(prompt, {label: 'again'}), await agent(prompt, {label: 'again'})] }
return {both, chained, settled: settled.map(s => s.status), twice: await twice('same')}
