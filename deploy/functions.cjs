// serverless.yml's functions and Kafka event source settings: `${file(./deploy/functions.cjs):functions}`
// and `…:mappings` call the functions this exports (osls's file source), made by deploy/functions.ts
// from the manifest (shared/contract/manifest.ts).
const { require: tsxRequire } = require("tsx/cjs/api");

module.exports = tsxRequire("./functions.ts", __filename).fileSource;
