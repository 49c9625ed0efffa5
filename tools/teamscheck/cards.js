#!/usr/bin/env node
// Checks Adaptive Cards the way Teams sees them, with Microsoft's own Adaptive Cards library.
//
// stdin:  {"cards": [{"id": "any label", "card": {...AdaptiveCard...}}, ...]}
// stdout: {"checked": N, "problems": [{"id": "...", "problem": "..."}]}
//
// A card passes when
// - its "version" is at most 1.5, the newest Teams renders (the Adaptive Cards designer's Teams
//   container targets 1.5 too);
// - the library parses it for 1.5 with the Teams host config without a single event (unknown
//   element or action types, properties newer than 1.5, invalid values);
// - no object carries a property the library does not know (Teams drops those silently), apart
//   from the `msteams` extension Teams reads on the card itself;
// - the library's validation with the Teams host config finds nothing (too many actions, missing
//   required values, duplicate ids, inputs without labels …);
// - the renderer builds it in a DOM without an error;
// - it fits in one Teams message (40 KB counted as UTF-16).
"use strict";

const fs = require("node:fs");

// The library logs to the console; the answer on stdout must stay one JSON document.
for (const level of ["log", "info", "warn", "debug"]) {
  console[level] = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
}

const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
for (const key of Object.getOwnPropertyNames(dom.window)) {
  if (!(key in globalThis)) {
    try {
      globalThis[key] = dom.window[key];
    } catch {
      // a few window properties are getters that refuse to be copied; the renderer needs none
    }
  }
}

const AC = require("adaptivecards/dist/adaptivecards.js");
const TEAMS_HOST_CONFIG = new AC.HostConfig(
  require("adaptivecards-designer/lib/hostConfigs/microsoft-teams-light.json"),
);
const TEAMS_VERSION = AC.Versions.v1_5;
// Teams renders Markdown in text; the renderer here only needs to know that somebody does.
AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = text;
  result.didProcess = true;
};
const TEAMS_MESSAGE_BYTES = 40 * 1024;
// Properties Teams reads although the Adaptive Cards schema does not name them.
const TEAMS_EXTENSIONS = { AdaptiveCard: ["msteams"] };

/** A serialization context that remembers every element and action it parsed, with its JSON. */
class RecordingContext extends AC.SerializationContext {
  constructor(targetVersion) {
    super(targetVersion);
    this.parsed = [];
  }

  cardObjectParsed(object, source) {
    super.cardObjectParsed(object, source);
    this.parsed.push([object, source]);
  }
}

/** JSON paths of every object in `json`, so problems can say where they are. */
function pathsOf(json) {
  const paths = new Map();
  (function walk(value, path) {
    if (value === null || typeof value !== "object") return;
    paths.set(value, path);
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${path}[${index}]`));
    else for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`);
  })(json, "$");
  return paths;
}

function typeName(object) {
  return typeof object.getJsonTypeName === "function" ? object.getJsonTypeName() : undefined;
}

/** Properties of `source` that `object` does not read, recursing into its nested objects. */
function unknownProperties(object, source, paths, problems) {
  if (source === null || typeof source !== "object" || Array.isArray(source)) return;
  const known = new Set(["type", "fallback"]);
  const schema = object.getSchema();
  for (let index = 0; index < schema.getCount(); index++) {
    known.add(schema.getItemAt(index).name);
  }
  // Collections the library parses by hand (body, items, actions, columns …) show up here.
  for (const key of Object.keys(object.toJSON(new AC.SerializationContext(TEAMS_VERSION)) || {})) {
    known.add(key);
  }
  if (typeof object.getItemsCollectionPropertyName === "function") {
    known.add(object.getItemsCollectionPropertyName()); // even when every item was dropped
  }
  if (typeof object.getActionCount === "function") known.add("actions");
  for (const key of TEAMS_EXTENSIONS[typeName(object)] || []) known.add(key);
  const where = paths.get(source) || "$";
  for (const key of Object.keys(source)) {
    if (!known.has(key)) {
      const kind = typeName(object) || object.constructor.name;
      problems.push(`${where}: ${kind} has no property "${key}" in Adaptive Cards 1.5; Teams ignores it`);
    }
  }
  // Nested objects that are not elements or actions (facts, choices, background images …).
  for (let index = 0; index < schema.getCount(); index++) {
    const property = schema.getItemAt(index);
    const value = object.getValue(property);
    const json = source[property.name];
    if (value instanceof AC.SerializableObject && !(value instanceof AC.CardObject)) {
      unknownProperties(value, json, paths, problems);
    } else if (Array.isArray(value) && Array.isArray(json)) {
      value.forEach((item, position) => {
        if (item instanceof AC.SerializableObject && !(item instanceof AC.CardObject)) {
          unknownProperties(item, json[position], paths, problems);
        }
      });
    }
  }
}

function eventProblems(events) {
  return events.map((event) => `${AC.ValidationEvent[event.event]}: ${event.message}`);
}

/** Everything wrong with one card for Teams, as sentences; empty when Teams renders it as sent. */
function checkCard(json) {
  if (json === null || typeof json !== "object" || json.type !== "AdaptiveCard") {
    return ['not an Adaptive Card (its "type" must be "AdaptiveCard")'];
  }
  const problems = [];
  const version = AC.Version.parse(json.version, new AC.SerializationContext());
  if (json.version === undefined) {
    problems.push('no "version": Teams needs one, at most "1.5"');
  } else if (!version || !version.isValid) {
    problems.push(`"version" ${JSON.stringify(json.version)} is not a card version like "1.5"`);
  } else if (version.compareTo(TEAMS_VERSION) > 0) {
    problems.push(`"version" ${json.version} is newer than 1.5, the newest version Teams renders`);
  }
  const bytes = JSON.stringify(json).length * 2;
  if (bytes > TEAMS_MESSAGE_BYTES) {
    problems.push(`${bytes} bytes as UTF-16: more than a Teams message holds (40 KB)`);
  }

  const paths = pathsOf(json);
  const context = new RecordingContext(TEAMS_VERSION);
  const card = new AC.AdaptiveCard();
  card.hostConfig = TEAMS_HOST_CONFIG;
  card.parse(json, context);
  const parseEvents = [];
  for (let index = 0; index < context.eventCount; index++) parseEvents.push(context.getEventAt(index));
  problems.push(...eventProblems(parseEvents));

  unknownProperties(card, json, paths, problems);
  for (const [object, source] of context.parsed) unknownProperties(object, source, paths, problems);

  problems.push(...eventProblems(card.validateProperties().validationEvents));

  try {
    if (!card.render()) problems.push("the renderer produced nothing");
  } catch (error) {
    problems.push(`the renderer failed: ${error && error.message ? error.message : error}`);
  }
  return [...new Set(problems)];
}

function main() {
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  const problems = [];
  for (const { id, card } of request.cards) {
    for (const problem of checkCard(card)) problems.push({ id, problem });
  }
  process.stdout.write(JSON.stringify({ checked: request.cards.length, problems }) + "\n");
}

main();
