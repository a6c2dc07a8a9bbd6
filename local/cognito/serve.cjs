// Runs cognito-local (lib/server, as its own CLI does) with a logger that writes every line at once,
// as JSON. Its CLI's logger buffers, which would hold a confirmation code back until the next
// request; local/cognito/identity-provider.ts reads the codes from these lines.
const { createDefaultServer } = require("cognito-local/lib/server");
const pino = require(require.resolve("pino", { paths: [require("node:path").dirname(require.resolve("cognito-local/package.json"))] }));

const { writeSync } = require("node:fs");

/** Each line straight to stdout (sonic-boom, pino's own, sometimes keeps a line until the next one). */
const stdout = {
  write(line) {
    const bytes = Buffer.from(line);
    for (let written = 0; written < bytes.length; ) {
      try {
        written += writeSync(1, bytes, written);
      } catch (error) {
        if (error.code !== "EAGAIN") throw error; // a full pipe: try again
      }
    }
  },
};
const logger = pino({ level: process.env.DEBUG ? "debug" : "info" }, stdout);

createDefaultServer(logger)
  .then((server) => server.start())
  .then((server) => {
    const address = server.address();
    logger.info(`Cognito Local running on http://${address.address}:${address.port}`);
  })
  .catch((error) => {
    logger.error(error);
    process.exit(1);
  });
