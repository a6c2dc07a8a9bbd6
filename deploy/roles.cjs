// serverless.yml's resources: `${file(./deploy/roles.cjs)}` calls the function this exports
// (osls's file source): one IAM role per function, made by deploy/roles.ts.
const { require: tsxRequire } = require("tsx/cjs/api");

module.exports = tsxRequire("./roles.ts", __filename).default;
