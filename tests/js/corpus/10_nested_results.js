// A matrix fan-out: modules × lenses as parallel() inside parallel(), then the usual nested
// map/filter/flat over the results. The inner arrays keep their own accounting (launched, failed,
// reasons) when they come back through the outer parallel(), as the same objects would in Node.
export const meta = {
  name: 'module-lens-matrix',
  description: 'Audit every module through every lens',
}

const ISSUES = {type: 'object', required: ['issues'], properties: {issues: {type: 'array', items: {
  type: 'object', required: ['title', 'severity'],
  properties: {title: {type: 'string'}, severity: {type: 'integer', minimum: 1, maximum: 3}}}}}}
const MODULES = ['parser', 'printer']
const LENSES = ['edge cases', 'errors', 'naming']

const matrix = await parallel(MODULES.map(mod => () =>
  parallel(LENSES.map(lens => () => agent(`Audit the ${mod} module for ${lens}`, {schema: ISSUES, label: `${mod}/${lens}`})))))

const perModule = matrix.map((row, i) => ({
  module: MODULES[i],
  launched: row.launched, failed: row.failed, reasons: row.reasons,
  answered: row.filter(Boolean).length,
}))
const issues = matrix
  .flatMap((row, i) => row.map((cell, j) => cell && cell.issues.map(issue => ({...issue, where: `${MODULES[i]}/${LENSES[j]}`}))))
  .filter(Boolean)
  .flat()
  .sort((a, b) => b.severity - a.severity || a.title.localeCompare(b.title))
const worst = Object.fromEntries(MODULES.map(m => [m, Math.max(0, ...issues.filter(x => x.where.startsWith(m)).map(x => x.severity))]))
return {perModule, titles: issues.map(x => `${x.severity} ${x.title} @ ${x.where}`), worst, outerFailed: matrix.failed}
