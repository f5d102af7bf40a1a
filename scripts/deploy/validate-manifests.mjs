// Validates Kubernetes manifests offline against the API schemas of kubernetes-models.
// Usage: node validate-manifests.mjs FILE.yaml...   Exit 1 naming each invalid document and field.
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

let failures = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  const documents = yaml.loadAll(readFileSync(file, "utf8")).filter((d) => d !== null && d !== undefined);
  for (const doc of documents) {
    const where = `${file}: ${doc.kind ?? "(no kind)"} ${doc.metadata?.name ?? "(no name)"}`;
    if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
      console.error(`${where}: apiVersion and kind are required`);
      failures++;
      continue;
    }
    let Model;
    try {
      ({ [doc.kind]: Model } = await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`));
    } catch {
      console.error(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(doc).validate();
      checked++;
    } catch (error) {
      console.error(`${where}: ${error.message}`);
      failures++;
    }
  }
}
console.log(`${checked} manifests valid, ${failures} invalid`);
process.exit(failures === 0 && checked > 0 ? 0 : 1);
