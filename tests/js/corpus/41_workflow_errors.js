// Calling saved workflows defensively: a name that does not exist and a child with a syntax error are
// caught, children run by name and by {scriptPath} return their values, and the parent carries on; the
// children's agents count in this run. (A child that throws at run time: 42_child_throws.)
export const meta = {
  name: 'orchestrate-children',
  description: 'Run saved workflows, surviving the ones that break',
}

async function tryWorkflow(name, input) {
  try {
    return {ok: await workflow(name, input)}
  } catch (e) {
    return {error: e.name, message: e.message.replace(/ at \S+:\d+$/, '').split('\n')[0]}
  }
}

const passes = await tryWorkflow('strict-check', {files: ['módulo.ts', '模块.ts']})
const missing = await tryWorkflow('does-not-exist', {})
const syntax = await tryWorkflow('half-written', {})
const byPath = await tryWorkflow({scriptPath: '.claude/workflows/strict-check.js'}, {files: ['x.ts']})
return {passes, missing: missing.error, syntax: syntax.error, byPath}
