import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Dependencies point one way: functions -> handlers -> domains (orders, payments, notifications,
 * ops) -> messaging -> effects (what a commit asks for) -> db -> tracing, contract; shared/http and
 * shared/auth (token verification) serve the handlers, and the domains never see a token. No domain imports another; nothing in shared/ or functions/
 * imports the local runtime. Each entry: the folder, and the folders it must not import.
 */
const LAYERS = {
  "shared/contract": [
    "auth",
    "config",
    "db",
    "effects",
    "errors",
    "handlers",
    "http",
    "logger",
    "messaging",
    "notifications",
    "ops",
    "orders",
    "payments",
    "timeout",
    "tracing",
  ],
  "shared/tracing": [
    "auth",
    "contract",
    "db",
    "effects",
    "handlers",
    "http",
    "messaging",
    "notifications",
    "ops",
    "orders",
    "payments",
  ],
  "shared/effects": ["auth", "handlers", "http", "messaging", "notifications", "ops", "orders", "payments"],
  "shared/auth": ["db", "handlers", "http", "messaging", "notifications", "ops", "orders", "payments"],
  "shared/db": ["auth", "effects", "handlers", "http", "messaging", "notifications", "ops", "orders", "payments"],
  "shared/messaging": ["auth", "handlers", "http", "notifications", "ops", "orders", "payments"],
  "shared/http": ["handlers", "messaging", "notifications", "ops", "orders", "payments"],
  "shared/orders": ["auth", "handlers", "http", "notifications", "ops", "payments"],
  "shared/payments": ["auth", "handlers", "http", "notifications", "ops", "orders"],
  "shared/notifications": ["auth", "handlers", "http", "ops", "orders", "payments"],
  "shared/ops": ["auth", "handlers", "http", "notifications", "orders", "payments"],
};
const layerRules = Object.entries(LAYERS).map(([folder, forbidden]) => ({
  files: [`${folder}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            // From a subfolder (messaging/relay/) the other layers are one more level up.
            group: forbidden.flatMap((f) => [`../${f}/*`, `../${f}.ts`, `../../${f}/*`, `../../${f}.ts`]),
            message: `${folder} must not depend on this (see LAYERS in eslint.config.js)`,
          },
          {
            group: ["**/local/*", "**/functions/*"],
            message: "shared code never imports the local runtime or a handler",
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: ["node_modules/", ".esbuild/", ".serverless/", ".cache/", ".local/", "test-results/", "packages/*/types/"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["frontend/**/*.js"],
    languageOptions: {
      globals: {
        window: "readonly",
        document: "readonly",
        fetch: "readonly",
        WebSocket: "readonly",
        localStorage: "readonly",
        crypto: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        console: "readonly",
        URL: "readonly",
        location: "readonly",
        atob: "readonly",
        navigator: "readonly",
      },
    },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        __filename: "readonly",
        __dirname: "readonly",
        process: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // A workspace package is published on its own: it imports nothing from outside its folder (the
    // shop imports from it, never the other way round).
    files: ["packages/**/*.js", "packages/**/*.cjs", "packages/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^(\\.\\./){2}", message: "a package imports nothing from outside its own folder" }] },
      ],
    },
  },
  {
    files: ["packages/*/src/**/*.js"],
    languageOptions: {
      globals: {
        process: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
      },
    },
  },
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  {
    files: ["local/**/*.ts", "scripts/**/*.ts", "test/**/*.ts"],
    rules: { "no-console": "off" },
  },
  {
    files: ["functions/**/*.ts", "shared/*.ts", "shared/handlers/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/local/*"], message: "the functions never import the local runtime" }] },
      ],
    },
  },
  ...layerRules,
);
