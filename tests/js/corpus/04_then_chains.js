// Post-process answers with .then() chains instead of await, the way many scripts tidy a model's text:
// trim, split into bullets, filter, map. A failed agent resolves to null, so the chain must cope; a bad
// call rejects, so .then(ok, err), .catch() and .finally() all get exercised.
export const meta = {
  name: 'changelog-bullets',
  description: 'Summarise a changelog into bullets with promise chains',
}

const bullets = await agent('Summarise CHANGELOG.md as "- " bullets — three at most.', {label: 'bullets'})
  .then(text => text.trim())
  .then(text => text.split('\n'))
  .then(lines => lines.map(line => line.replace(/^[-•*]\s*/, '').trim()))
  .then(lines => lines.filter(Boolean))

const count = await agent('How many breaking changes? Reply with a number.', {label: 'count'})
  .then(Number)
  .then(n => (Number.isNaN(n) ? 0 : n))

// the model is overloaded on every attempt: the agent fails, agent() resolves to null
const flaky = await agent('Summarise the security advisories → one line', {label: 'advisories'})
  .then(text => text ?? 'advisories unavailable — 省略')

// bad calls reject: an empty prompt, an unknown effort
const rejected = await agent('', {label: 'empty'}).then(() => 'no error', e => `${e.name}: ${e.message}`)
const viaCatch = await agent('Summarise harder', {effort: 'ultra'}).catch(e => e.name)

let cleanedUp = false
const last = await agent('Name the release 🚀', {label: 'name'})
  .then(name => `${name}!`)
  .finally(() => { cleanedUp = true })

const chained = await Promise.resolve('docs/CHANGELOG.md')
  .then(path => agent(`Who wrote ${path}?`, {label: 'author'}))
  .then(author => author.toUpperCase())

return {bullets, count, flaky, rejected, viaCatch, last, cleanedUp, chained}
