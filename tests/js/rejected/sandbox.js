// expect: sandbox@3 sandbox@4 sandbox@5
export const meta = {name: 'sandboxed', description: 'escape hatches'}
const fs = require('fs')
const two = eval('1 + 1')
const make = new Function('return 1')
const processing = {process: 1}.process
return {fs, two, make, processing}
