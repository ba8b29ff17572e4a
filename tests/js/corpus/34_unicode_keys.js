// Structured answers whose *keys* are not ASCII (CJK, Arabic, emoji), reshaped in the script with
// Object.entries / fromEntries / sort and returned: keys and values must come back exactly, in order.
export const meta = {
  name: 'i18n-key-audit',
  description: 'Audit translation keys — キー, مفاتيح, 🔑',
}

const TABLE = {type: 'object', required: ['keys'], properties: {keys: {type: 'object', additionalProperties: {type: 'integer'}}}}
const counts = await agent('Count how often each translation key is used — keys as written in the catalogue.',
                           {schema: TABLE, label: 'count keys 🔑'})
const entries = Object.entries(counts.keys)
const unused = entries.filter(([, n]) => n === 0).map(([k]) => k)
const byUse = Object.fromEntries([...entries].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)))
const lengths = Object.fromEntries(entries.map(([k]) => [k, {utf16: k.length, codePoints: [...k].length}]))
return {order: Object.keys(counts.keys), unused, byUse, byUseOrder: Object.keys(byUse), lengths, '結果 ✅': 'ok', 'نتيجة': true, '🔑': entries.length}
