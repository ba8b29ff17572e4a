// expect: import@3 import@4 sandbox@6 import@7
export const meta = {name: 'imports', description: 'other imports and exports'}
import fs from 'fs'
export const other = 1
const ok = {import: 1, export: 2}.import
const mod = await import('fs')
export default mod
