// serverless.yml's params: `${file(./deploy/stage-settings.cjs)}` calls the function this exports
// (osls's file source). The settings themselves are TypeScript, compiled by tsx as the plugin is.
const { require: tsxRequire } = require("tsx/cjs/api");

module.exports = tsxRequire("./stage-settings.ts", __filename).default;
