// A saved child workflow throws at run time. workflow() rejects in the parent, which catches it like any
// other error: the parent sees the child's JavaScript error (its name, and its message first), not an
// engine wrapper, and can branch on it; what the child's agents did before the throw stays counted.
export const meta = {
  name: 'gatekeeper',
  description: 'Run the strict check; fall back when it refuses',
}

let outcome
try {
  outcome = {ok: await workflow('strict-check', {files: []})}
} catch (e) {
  outcome = {name: e.name, message: e.message.replace(/ at \S+:\d+$/, ''), isError: e instanceof Error,
             string: String(e).replace(/ at \S+:\d+$/, '')}
}
const fallback = await agent('Check everything instead — 全部確認', {label: 'fallback'})
return {outcome, fallback}
