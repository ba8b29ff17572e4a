// Async helper functions, including a recursive one: summarise a list of files as a tree (leaves first,
// then merges of pairs), the map-reduce shape long documents get. Helpers return plain values the script
// combines; one helper catches its own errors and returns a fallback.
export const meta = {
  name: 'tree-summary',
  description: 'Summarise files pairwise up to one summary',
  whenToUse: 'When there are more files than one agent can read',
}

const files = args?.files ?? []

async function summariseFile(file) {
  const text = await agent(`Summarise ${file} in one sentence.`, {label: `leaf ${file}`})
  return {files: [file], text}
}

async function merge(left, right) {
  const text = await agent(`Merge these two summaries into one sentence:\n1. ${left.text}\n2. ${right.text}`,
                           {label: `merge ${left.files.length + right.files.length}`})
  return {files: [...left.files, ...right.files], text}
}

async function summariseAll(list) {
  if (list.length === 1) return summariseFile(list[0])
  const middle = Math.ceil(list.length / 2)
  const [left, right] = await Promise.all([summariseAll(list.slice(0, middle)), summariseAll(list.slice(middle))])
  return merge(left, right)
}

async function safeTitle(summary) {
  try {
    const title = await agent(`A title for: ${summary.text}`, {label: 'title', effort: 'bogus'})
    return title
  } catch (e) {
    log(`title fell back: ${e.name}`)
    return summary.files.join(' + ')
  }
}

const root = await summariseAll(files)
const title = await safeTitle(root)
return {title, covered: root.files, text: root.text}
