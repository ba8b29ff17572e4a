// Translate release notes into four locales at once. Each prompt repeats the style guide, so every one
// is long, and each label names its locale in its own script. The answers are joined into a box-drawn
// summary that goes to the log line by line and back as the result.
export const meta = {
  name: 'translate-release-notes',
  description: 'Fan out one translator per locale — 日本語, 中文, العربية, 한국어',
  phases: [{title: 'Translate ⇒ 翻訳'}, {title: 'Summarise'}],
}

const STYLE = `Style guide — read all of it:
• Keep product names (Workcrew, QuickJS) in Latin script; never translate code identifiers like \`agent()\`.
• Arrows stay arrows: → ⇒ ←; em dashes stay em dashes — never hyphens.
• Keep emoji exactly: 🚀 for releases, 🐛 for fixes, ⚠️ for warnings, 🔒 for security.
• Box drawing in tables (┌─┬─┐ │ └─┴─┘) must survive byte for byte.
`
const NOTES = '🚀 Workcrew 2.0 — JS workflows run in QuickJS ⇒ no Node needed.\n🐛 Fixed: long non-Latin-1 prompts → bridge error.\n🔒 Sandbox: eval() is gone.'
const LOCALES = [
  {code: 'ja', name: '日本語'},
  {code: 'zh', name: '中文（简体）'},
  {code: 'ar', name: 'العربية'},
  {code: 'ko', name: '한국어'},
]

phase('Translate ⇒ 翻訳')
const translations = await parallel(LOCALES.map(loc => () => agent(
  `${STYLE}\nTranslate these release notes into ${loc.name} (${loc.code}).\n${NOTES}\n${STYLE}\nOnly the translation.`,
  {label: `翻訳 → ${loc.name}`})))

phase('Summarise')
const width = 16
const lines = ['┌' + '─'.repeat(width) + '┐']
translations.forEach((text, i) => {
  const first = (text ?? '∅').split('\n')[0]
  lines.push(`│ ${LOCALES[i].code} │ ${first}`)
})
lines.push('└' + '─'.repeat(width) + '┘')
lines.forEach(line => log(line))
return {
  promptLengths: LOCALES.map(loc => STYLE.length * 2 + NOTES.length + loc.name.length > 600),
  translations: [...translations],
  launched: translations.launched, succeeded: translations.succeeded,
  summary: lines.join('\n'),
}
