// Extract a UI glossary with a JSON Schema answer whose values are Japanese, Arabic and emoji (skin-tone
// modifiers, flags, ZWJ sequences), then render it as a box-drawn table for the log.
export const meta = {
  name: 'i18n-glossary',
  description: 'Extract the UI glossary — 用語集 — in English, Japanese, Arabic and emoji',
  phases: [{title: '抽出 Extract', detail: 'one structured agent'}, {title: '表 Table'}],
}

const GLOSSARY = {
  type: 'object',
  required: ['terms'],
  properties: {
    terms: {
      type: 'array',
      items: {
        type: 'object',
        required: ['en', 'ja', 'ar', 'emoji'],
        properties: {en: {type: 'string'}, ja: {type: 'string'}, ar: {type: 'string'}, emoji: {type: 'string'},
                     note: {type: 'string'}},
      },
    },
  },
}

const SOURCE = `
<button>👍🏽 いいね — أعجبني</button>   ← the “like” action, shown with a medium skin tone
<span>🇯🇵 日本語 → العربية</span>       ← the language switcher; flags are two regional indicators
<span>✅ 完了しました ⇒ تم</span>        ← the completion toast
┌──────────────┬──────────────┐
│ key          │ value        │
├──────────────┼──────────────┤
│ like         │ 👍🏽           │
│ language     │ 🇯🇵           │
│ done         │ ✅           │
└──────────────┴──────────────┘
`
phase('抽出 Extract')
const prompt = `Extract every user-visible term from this markup — English, 日本語, العربية and the emoji as written.
Keep combining marks, skin tones and flags exactly; never transliterate.${SOURCE}
Return {terms: [{en, ja, ar, emoji, note?}]}. 以上です。`
const glossary = await agent(prompt, {schema: GLOSSARY, label: '用語集 📖', effort: 'low'})

phase('表 Table')
const pad = (s, n) => s + ' '.repeat(Math.max(0, n - [...s].length))
const rows = glossary.terms.map(t => `│ ${pad(t.en, 9)}│ ${pad(t.ja, 8)}│ ${t.emoji} │`)
for (const line of ['┌──────────┬─────────┬────┐', ...rows, '└──────────┴─────────┴────┘']) log(line)

return {
  promptLong: prompt.length > 600,
  terms: glossary.terms,
  codePoints: glossary.terms.map(t => [...t.emoji].length),
  utf16: glossary.terms.map(t => t.emoji.length),
  arabicFirst: glossary.terms.map(t => t.ar.codePointAt(0).toString(16)),
  notes: glossary.terms.filter(t => t.note).map(t => t.note),
}
