// serverless.yml's resources: `${file(./deploy/limits.cjs)}` calls the function this exports
// (osls's file source): the HTTP API's throttling and the functions' reserved concurrency, made by
// deploy/limits.ts from the stage's settings.
const { require: tsxRequire } = require("tsx/cjs/api");

module.exports = tsxRequire("./limits.ts", __filename).default;
