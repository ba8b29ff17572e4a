// Helpers as a class with async methods, a Map cache so a repeated question is asked once, a
// Set for dedupe, and getters — ordinary JavaScript structure around agent() calls.
export const meta = {
  name: 'reviewer-class',
  description: 'A Reviewer class caches and dedupes agent calls',
}

class Reviewer {
  #cache = new Map()
  #asked = 0
  constructor(model) { this.model = model }
  get asked() { return this.#asked }
  async review(file) {
    if (!this.#cache.has(file)) {
      this.#asked++
      this.#cache.set(file, agent(`Review ${file} — one line`, {label: `review ${file}`, model: this.model}))
    }
    return this.#cache.get(file)
  }
  async reviewAll(files) {
    const unique = [...new Set(files)]
    const results = await Promise.all(unique.map(f => this.review(f)))
    return Object.fromEntries(unique.map((f, i) => [f, results[i]]))
  }
}

const reviewer = new Reviewer('haiku')
const first = await reviewer.reviewAll(['a.ts', 'b.ts', 'a.ts'])
const second = await reviewer.reviewAll(['b.ts', 'c.ts'])
const sameObject = (await reviewer.review('a.ts')) === first['a.ts']
return {first, second, asked: reviewer.asked, sameObject}
