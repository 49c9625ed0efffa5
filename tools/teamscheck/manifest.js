#!/usr/bin/env node
// Validates a Teams app manifest and its localization files against Microsoft's JSON schemas.
//
// stdin:  {"manifest": {...}, "localizations": {"en-us.json": {...}, ...}}
// stdout: {"schema": "v1.30", "problems": ["manifest.json: /developer must have property ...", ...]}
//
// The schemas and the validator are the ones the Microsoft 365 Agents Toolkit uses
// (@microsoft/app-manifest), chosen by the manifest's "manifestVersion", read from the package
// (never fetched) so the check is pinned by package-lock.json.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { AppManifestUtils } = require("@microsoft/app-manifest");
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");

const SCHEMAS = path.join(
  path.dirname(require.resolve("@microsoft/app-manifest/package.json")),
  "build",
  "json-schemas",
  "teams",
);

function schema(version, file) {
  const where = path.join(SCHEMAS, `v${version}`, file);
  if (!/^[0-9.]+$/.test(version) || !fs.existsSync(where)) return undefined;
  return JSON.parse(fs.readFileSync(where, "utf8"));
}

async function main() {
  const { manifest, localizations } = JSON.parse(fs.readFileSync(0, "utf8"));
  const version = String(manifest.manifestVersion || "");
  const problems = [];
  const manifestSchema = schema(version, "MicrosoftTeams.schema.json");
  if (!manifestSchema) {
    problems.push(`manifest.json: no Microsoft schema for manifestVersion ${JSON.stringify(version)}`);
  } else {
    const expected = `https://developer.microsoft.com/en-us/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`;
    if (manifest.$schema !== expected) {
      problems.push(`manifest.json: "$schema" should be ${expected}`);
    }
    for (const error of await AppManifestUtils.validateAgainstSchema(manifest, manifestSchema)) {
      problems.push(`manifest.json: ${error}`);
    }
    // The localization schema's key patterns are not valid Unicode regular expressions, which
    // the toolkit's validator insists on; the same validator without that flag reads them.
    const ajv = new Ajv({ allErrors: true, strictTypes: false, unicodeRegExp: false });
    addFormats(ajv, ["uri", "email", "regex"]);
    const validate = ajv.compile(schema(version, "MicrosoftTeams.Localization.schema.json"));
    for (const [file, strings] of Object.entries(localizations || {})) {
      if (!validate(strings)) {
        for (const error of validate.errors) {
          problems.push(`${file}: ${error.instancePath} ${error.message}. ${JSON.stringify(error.params)}`);
        }
      }
      const expected = `https://developer.microsoft.com/en-us/json-schemas/teams/v${version}/MicrosoftTeams.Localization.schema.json`;
      if (strings.$schema !== expected) problems.push(`${file}: "$schema" should be ${expected}`);
    }
  }
  process.stdout.write(JSON.stringify({ schema: `v${version}`, problems }) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
