// expect: syntax@3
export const meta = {name: 'escape', description: 'tries to close the body function'}
}); (function () {
