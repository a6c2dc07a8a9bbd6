// serverless loads plugins with require(); the event source itself is TypeScript, compiled on load.
require("tsx/cjs/api").register();
module.exports = require("./plugin.ts").default;
