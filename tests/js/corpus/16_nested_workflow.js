// Chain saved workflows: the parent scopes the work, hands it to a saved `summarise-module` workflow with
// non-Latin-1 args, and gets back its structured result. The child's log lines arrive prefixed with its
// name; its agents count in the parent's run.
export const meta = {
  name: 'release-prep',
  description: 'Scope the release, then run the saved summariser on it',
  phases: [{title: 'Scope'}, {title: 'Summarise → 要約'}],
}

phase('Scope')
const modules = await agent('List the modules changed since v1.9 — comma separated', {label: 'scope'})
  .then(text => text.split(',').map(s => s.trim()).filter(Boolean))

phase('Summarise → 要約')
const summary = await workflow('summarise-module', {modules, language: '日本語', marker: '🔖'})
const again = await workflow('summarise-module', {modules: modules.slice(0, 1), language: 'العربية', marker: '📌'})
return {modules, summary, again, spentSomething: budget.spent() > 0}
