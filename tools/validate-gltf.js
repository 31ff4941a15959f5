// Validate glTF/GLB files with the Khronos glTF validator; prints one JSON line per file:
// {"path": ..., "errors": N, "warnings": N, "messages": [...]}. Exit code 1 when any file has errors.
// Usage: node tools/validate-gltf.js FILE...
"use strict";
const fs = require("fs");
const path = require("path");
const validator = require("gltf-validator");

async function validate(file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const report = await validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 100,
    externalResourceFunction: (uri) =>
      new Promise((resolve, reject) => {
        fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)), (err, data) =>
          err ? reject(err.toString()) : resolve(new Uint8Array(data)));
      }),
  });
  const messages = report.issues.messages.map((m) => ({ code: m.code, severity: m.severity, message: m.message, pointer: m.pointer }));
  return { path: file, errors: report.issues.numErrors, warnings: report.issues.numWarnings, messages };
}

(async () => {
  let failed = false;
  for (const file of process.argv.slice(2)) {
    try {
      const result = await validate(file);
      failed = failed || result.errors > 0;
      console.log(JSON.stringify(result));
    } catch (error) {
      failed = true;
      console.log(JSON.stringify({ path: file, errors: 1, warnings: 0, messages: [{ code: "UNREADABLE", severity: 0, message: String(error) }] }));
    }
  }
  process.exit(failed ? 1 : 0);
})();
