// Parses each Mermaid file named on the command line with mermaid's own parser (mermaid.parse,
// which needs no browser for erDiagram): one line `ok FILE` each, or the parser's error and exit
// status 1. The unit tests (tests/unit/core/diagram_test.cpp) run it on dbinit's diagrams; `make
// mermaid-deps` installs it with the pinned mermaid next to it in the build tree.
import { readFileSync } from 'node:fs';
import mermaid from 'mermaid';

let failed = false;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  try {
    const result = await mermaid.parse(text);
    if (!result || result.diagramType !== 'er') {
      throw new Error(`parsed as ${result && result.diagramType}, not as an erDiagram`);
    }
    console.log(`ok ${file}`);
  } catch (error) {
    failed = true;
    console.error(`${file}: ${error && error.message ? error.message : error}`);
  }
}
process.exit(failed ? 1 : 0);
