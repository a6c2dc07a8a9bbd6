// serverless loads plugins with require(); the event source itself is TypeScript. tsx compiles it
// (and what it imports) without registering itself for the rest of the process.
const { require: tsxRequire } = require("tsx/cjs/api");

module.exports = tsxRequire("./plugin.ts", __filename).default;
