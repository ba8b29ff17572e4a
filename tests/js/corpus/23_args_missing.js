// The same guarded script run with no args at all (`args` is undefined): every field defaults and the
// script returns early without launching an agent.
export const meta = {
  name: 'review-files-no-args',
  description: 'Review the files named in args — a JSON string or an object',
  args: {files: 'paths to review', focus: 'what to look for (optional)', depth: 'how hard to look (1-3)'},
}

const input = typeof args === 'string' ? JSON.parse(args) : (args ?? {})
const files = input?.files ?? []
const focus = input?.focus ?? 'bugs'
const depth = Math.min(3, Math.max(1, input?.options?.depth ?? 1))
if (files.length === 0) return {skipped: 'no files given', argsType: typeof args}
const reviews = await parallel(files.map(f => () => agent(`Review ${f} for ${focus} (depth ${depth})`, {label: `review ${f}`})))
return {argsType: typeof args, focus, depth, reviews: Object.fromEntries(files.map((f, i) => [f, reviews[i]]))}
