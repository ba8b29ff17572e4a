// Several saved workflows at once: parallel() thunks that each call workflow(). One child throws (its
// slot becomes null with the child's error as the reason), one child loses an agent (null inside its own
// result), and the rest succeed. All their agents count in this run.
export const meta = {
  name: 'audit-all-packages',
  description: 'Run the saved package audit for every package at once',
}

const PACKAGES = ['core', 'cli', 'broken', 'docs']
const audits = await parallel(PACKAGES.map(pkg => () => workflow('audit-package', {pkg})))
const summary = audits.map((audit, i) => audit === null
  ? `${PACKAGES[i]}: ✗ ${audits.reasons[i].replace(/ at \S+:\d+$/, '')}`  // drop the child's file:line
  : `${PACKAGES[i]}: ${audit.checks.filter(Boolean).length}/${audit.checks.length} checks`)
summary.forEach(line => log(line))
return {summary, failed: audits.failed, succeeded: audits.succeeded}
