// console.* and log() with non-Latin-1 text in every argument shape: strings, objects and arrays holding
// emoji, CJK and Arabic, errors with non-ASCII messages, numbers, and a long multi-script line.
export const meta = {
  name: 'console-unicode',
  description: 'Narration in many scripts — ログ, سجل, 日志',
}

const status = {stage: '検証 → 完了', ok: '✅', arabic: 'تم التحقق'}
console.log('状態:', status)
console.info('ℹ️ info —', ['🔍', '🧪', '🚀'])
console.warn('⚠️ warn ⇒', 3, 'files skipped')
console.error(new RangeError('範囲外 — out of range ❌'))
console.debug('debug │ ┌─┐ └─┘ │')
log(`${'─'.repeat(20)} 🌏 ${'─'.repeat(20)}`)
const line = ['English — fine', '日本語：問題なし', '中文：没有问题', 'العربية: لا مشكلة', '한국어: 문제 없음', 'Ελληνικά: εντάξει',
              'Русский: всё хорошо', 'हिन्दी: ठीक है', 'emoji: 👍🏽👩‍💻🇯🇵'].join(' · ')
log(line.repeat(5))
const answer = await agent(`Echo this status line: ${line.repeat(5)}`, {label: 'echo 📣'})
console.log('answer ⇒', answer)
return {lineLength: line.repeat(5).length, answer}
