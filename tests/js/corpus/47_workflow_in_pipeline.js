// A saved workflow as a pipeline stage: each package is scoped by an agent, then handed to the saved
// `lint-package` workflow, then summarised — packages move through on their own. The children run
// concurrently inside the pipeline and share this run's agent count.
export const meta = {
  name: 'lint-all-packages',
  description: 'Scope → saved lint workflow → summary, per package',
}

const packages = args?.packages ?? []
const results = await pipeline(packages,
  pkg => agent(`List the source files of ${pkg}`, {label: `scope ${pkg}`})
    .then(text => text.split(/\s+/).filter(Boolean)),
  (files, pkg) => workflow('lint-package', {pkg, files}),
  (lint, pkg) => `${pkg}: ${lint.problems} problem(s) in ${lint.files} file(s)`)
return {lines: [...results], failed: results.failed}
