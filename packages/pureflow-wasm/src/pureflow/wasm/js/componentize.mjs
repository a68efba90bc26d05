// Builds a batch-world guest written in JavaScript with componentize-js.
// Called by pureflow.wasm.build (`pureflow wasm build GUEST.js -o guest.wasm`):
//   node componentize.mjs SOURCE WIT_DIR WORLD OUTPUT DISABLED_FEATURES
// DISABLED_FEATURES is a comma-separated list of componentize-js features to leave out.
import { componentize } from "@bytecodealliance/componentize-js";
import { writeFile } from "node:fs/promises";

const [source, wit, world, output, disabled] = process.argv.slice(2);
const { component } = await componentize({
  sourcePath: source,
  witPath: wit,
  worldName: world,
  disableFeatures: disabled ? disabled.split(",") : [],
});
await writeFile(output, component);
process.stdout.write(`${JSON.stringify({ bytes: component.length })}\n`);
