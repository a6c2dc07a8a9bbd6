// Runs cognito-local (lib/server, as its own CLI does) with a logger that writes every line at once,
// as JSON. Its CLI's logger buffers, which would hold a confirmation code back until the next
// request; local/cognito/identity-provider.ts reads the codes from these lines.
//
// It signs with the stack's own key (SIGNING_KEY_FILE), never with the one published inside its
// package, which anyone could use to mint a token. cognito-local offers no setting for its key (5.3.0
// reads it from two JSON modules of its own, by relative require), so the two modules are put in
// require's cache before anything loads them; that path is no API of the package, hence the checks
// below and the JWKS check after start (local/cognito/served-key.ts).
const { readFileSync } = require("node:fs");
const Module = require("node:module");

const { version } = require("cognito-local/package.json");
const stopBecause = (what) => {
  process.stderr.write(
    `cognito-local ${version} ${what}, so it would sign with the key published in its package; see docs/local.md\n`,
  );
  process.exit(1);
};

const keyFile = process.env.SIGNING_KEY_FILE;
if (!keyFile) stopBecause("was started without SIGNING_KEY_FILE");
const key = JSON.parse(readFileSync(keyFile, "utf8"));
const planted = ["private", "public"].map((half) => {
  let id;
  try {
    id = require.resolve(`cognito-local/lib/keys/cognitoLocal.${half}.json`);
  } catch {
    stopBecause(`has no lib/keys/cognitoLocal.${half}.json any more`);
  }
  const module = new Module(id);
  module.filename = id;
  module.loaded = true;
  module.exports = key[half];
  require.cache[id] = module;
  return { half, module };
});

const { createDefaultServer } = require("cognito-local/lib/server");
// Each half has to have been required by cognito-local (the token signer, the JWKS route): a release
// that reads its keys some other way leaves the planted modules unread.
const loaded = Object.values(require.cache);
for (const { half, module } of planted) {
  if (!loaded.some((parent) => parent.children.includes(module))) {
    stopBecause(`no longer reads its ${half} key from lib/keys/cognitoLocal.${half}.json`);
  }
}
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
