// Runs cognito-local (lib/server, as its own CLI does) with a logger that writes every line at once,
// as JSON. Its CLI's logger buffers, which would hold a confirmation code back until the next
// request; local/cognito/identity-provider.ts reads the codes from these lines.
//
// It signs with the stack's own key (SIGNING_KEY_FILE), never with the one published inside its
// package, which anyone could use to mint a token: cognito-local reads its key pair from two JSON
// modules, which are put in require's cache before anything loads them.
const { readFileSync } = require("node:fs");
const Module = require("node:module");

const keyFile = process.env.SIGNING_KEY_FILE;
if (!keyFile) {
  process.stderr.write("SIGNING_KEY_FILE is not set: cognito-local would sign with the key published in its package\n");
  process.exit(1);
}
const key = JSON.parse(readFileSync(keyFile, "utf8"));
for (const [half, value] of [
  ["private", key.private],
  ["public", key.public],
]) {
  const id = require.resolve(`cognito-local/lib/keys/cognitoLocal.${half}.json`);
  const module = new Module(id);
  module.filename = id;
  module.loaded = true;
  module.exports = value;
  require.cache[id] = module;
}

const { createDefaultServer } = require("cognito-local/lib/server");
const pino = require(
  require.resolve("pino", { paths: [require("node:path").dirname(require.resolve("cognito-local/package.json"))] }),
);

const { writeSync } = require("node:fs");

/** Each line straight to stdout (sonic-boom, pino's own, sometimes keeps a line until the next one). */
const stdout = {
  write(line) {
    const bytes = Buffer.from(line);
    for (let written = 0; written < bytes.length;) {
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
