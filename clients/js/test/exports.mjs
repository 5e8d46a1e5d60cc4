// Prints the values src/index.js exports and the values index.d.ts declares,
// as JSON, for tests/js/test_types.py (which fails when they differ).
import ts from "typescript";

const js = Object.keys(await import("../src/index.js"));
const file = new URL("../index.d.ts", import.meta.url).pathname;
const program = ts.createProgram([file], { strict: true, noEmit: true, types: [] });
const checker = program.getTypeChecker();
const module = checker.getSymbolAtLocation(program.getSourceFile(file));
const declared = checker
  .getExportsOfModule(module)
  .filter((s) => s.flags & ts.SymbolFlags.Value)
  .map((s) => s.name);
console.log(JSON.stringify({ js: js.sort(), declared: declared.sort() }));
