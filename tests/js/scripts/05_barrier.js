// two parallel() calls are a barrier: no second-stage agent starts before every first-stage agent is done
export const meta = {name: 'barrier-flow', description: 'Stage two waits for all of stage one'}
const first = await parallel(['a', 'b'].map(item => () => agent(`First look at ${item}`, {label: `one ${item}`})))
const second = await parallel(first.map((prev, i) => () => agent(`Second look after ${prev}`, {label: `two ${i}`})))
return second
