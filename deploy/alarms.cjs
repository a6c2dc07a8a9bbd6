// serverless.yml's resources: `${file(./deploy/alarms.cjs)}` calls the function this exports
// (osls's file source): the operators' alarms on the shop's metrics, made by deploy/alarms.ts.
const { require: tsxRequire } = require("tsx/cjs/api");

module.exports = tsxRequire("./alarms.ts", __filename).default;
