// expect: meta@2 meta@2
export const meta = {name: 'no description'}
return 1
