// Review one change whose notes are written in many scripts. The prompt is long (well over 600
// characters) and full of text outside Latin-1: box drawing, arrows, em dashes, emoji from the astral
// plane (surrogate pairs in JavaScript), a ZWJ sequence, CJK, Hangul, Arabic and combining marks. It
// goes out in the prompt, the label, phase titles, log() and console.log(), and comes back in the answer.
export const meta = {
  name: 'unicode-review',
  description: 'Review a change described in many scripts — 漢字, العربية, emoji 🔍',
  whenToUse: 'When the change notes are not ASCII',
  phases: [{title: '🔍 Review — 審査'}, {title: '✅ Report → 報告'}],
}

const NOTES = [
  '┌──────────────────────────────┐',
  '│ 変更点 → 認証モジュールの修正 │',
  '└──────────────────────────────┘',
  'Context — the login flow ⇒ token refresh → retry; see “RFC 6749 §6”.',
  'العربية: تحقق من صحة الرمز قبل التحديث',
  'Combining marks: café (cafe\u0301), Å (A\u030A), ñ (n\u0303) must survive unchanged.',
  'Emoji: 🔍 find · ✅ confirmed · ❌ refuted · 🧪 tests · 🚀 ship · 👩‍💻 reviewer',
  '中文说明：请检查刷新令牌的并发问题，尤其是在多个标签页同时刷新的情况下。',
  '日本語：トークンの有効期限チェックが二重に行われていないか確認してください。',
  '한국어: 토큰 갱신 중 경쟁 상태가 없는지 확인하세요.',
]
const prompt = `You are reviewing a change to auth/refresh.ts.\n${NOTES.join('\n')}\n` +
  'Read the whole diff first — every hunk, every caller ⇒ then decide.\n' +
  'Answer with one line: the verdict, an arrow, and the reason, in the notes’ languages. 終わり 🏁'

phase('🔍 Review — 審査')
log(`prompt: ${prompt.length} UTF-16 units, ${[...prompt].length} code points`)
console.log('┌─ review ─┐', '🔍', '漢字', {note: 'العربية'})
const verdict = await agent(prompt, {label: '審査 🔍 auth/refresh.ts'})

phase('✅ Report → 報告')
log(`verdict → ${verdict}`)
const rocket = verdict.indexOf('🚀')
return {
  verdict,
  long: prompt.length > 600,
  rocket: verdict.codePointAt(rocket).toString(16),
  lowSurrogate: verdict.charCodeAt(rocket + 1).toString(16),
  decomposed: verdict.includes('cafe\u0301') && !verdict.includes('caf\u00e9'),
  nfc: verdict.normalize('NFC').includes('caf\u00e9'),
}
