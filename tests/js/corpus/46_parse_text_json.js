// Scripts that skip `schema` and parse the text themselves: strip a ```json fence, JSON.parse in a
// try/catch, fall back on a regex. Answers carry non-ASCII keys and values through JSON.parse.
export const meta = {
  name: 'parse-loose-json',
  description: 'Parse JSON out of free-text answers, defensively',
}

function parseLoose(text) {
  if (text == null) return {status: 'no answer'}
  const fenced = text.match(/```(?:json)?\s*([\s\S]*?)```/)
  const body = (fenced ? fenced[1] : text).trim()
  try {
    return {status: 'json', value: JSON.parse(body)}
  } catch (e) {
    const pairs = [...body.matchAll(/(\p{L}[\p{L}\p{M}\d_ ]*)\s*[:：]\s*(\d+)/gu)].map(m => [m[1].trim(), Number(m[2])])
    return pairs.length ? {status: 'regex', value: Object.fromEntries(pairs)} : {status: 'unparseable', error: e.name}
  }
}

const asks = ['fenced', 'bare', 'prose', 'garbage', 'down']
const answers = await parallel(asks.map(kind => () => agent(`Give me the counts as JSON (${kind})`, {label: kind})))
return Object.fromEntries(asks.map((kind, i) => [kind, parseLoose(answers[i])]))
