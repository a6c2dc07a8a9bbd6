// serverless.yml's msk events: `${file(./deploy/topology.cjs):consumerGroups.<function>}` reads a
// consumer group from shared/contract/topology.ts, where the shop's wiring is written once.
const { require: tsxRequire } = require("tsx/cjs/api");

const { consumerGroups } = tsxRequire("../shared/contract/topology.ts", __filename);

module.exports = { consumerGroups: consumerGroups() };
