// A script-level retry helper: agent() resolves to null after the engine's own retries, so some scripts
// wrap it to try again later with setTimeout-based backoff, logging each attempt. The scenario refuses the
// first two calls for one label and answers the third.
export const meta = {
  name: 'retry-helper',
  description: 'Retry failed agents from the script, with backoff',
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
async function withRetry(prompt, opts, {tries = 3, baseMs = 10} = {}) {
  for (let attempt = 1; attempt <= tries; attempt++) {
    const result = await agent(prompt, {...opts, label: `${opts.label} (try ${attempt})`})
    if (result != null) return {result, attempt}
    log(`${opts.label}: attempt ${attempt} failed${attempt < tries ? `, retrying in ${baseMs * 2 ** (attempt - 1)} ms` : ' — giving up'}`)
    if (attempt < tries) await sleep(baseMs * 2 ** (attempt - 1))
  }
  return {result: null, attempt: tries}
}

const flaky = await withRetry('Fetch the changelog — 変更履歴', {label: 'changelog'})
const hopeless = await withRetry('Fetch the roadmap', {label: 'roadmap'}, {tries: 2})
return {flaky, hopeless}
