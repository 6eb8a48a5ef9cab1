// Short names between the wasm and its glue (scripts/build.sh runs it). wasm-bindgen names
// every import `__wbg_<name>_<16 hex digits>` and every export after its Rust function; the
// names are written twice, in the wasm and in the glue, and the hex does not compress:
// about 0.8 KB gzip of the 20 KB budget. binaryen's wasm-opt renames them all to one or two
// letters and prints the mapping; the glue is then rewritten with it, and checked: every
// import of the wasm must be provided by the glue under its new name, and no old name may
// remain. Names only: no code changes.
//
//   node tools/wasm-names.mjs minify WASM MAP     renames in WASM (in place), writes MAP (JSON)
//   node tools/wasm-names.mjs glue GLUE MAP WASM  rewrites GLUE (web or bundler target) by MAP
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WASM_OPT = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', '.bin', 'wasm-opt');
const [command, ...args] = process.argv.slice(2);

/** The import module and names the wasm at `path` asks for. */
function importsOf(path) {
  return WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(path)));
}

if (command === 'minify') {
  const [wasm, map] = args;
  const printed = execFileSync(WASM_OPT, ['--mvp-features', '--minify-imports-and-exports-and-modules', wasm, '-o', wasm], { encoding: 'utf8' });
  const mapping = JSON.parse(printed.slice(printed.indexOf('{')));
  const modules = [...new Set(importsOf(wasm).map((i) => i.module))];
  if (modules.length !== 1) throw new Error(`expected one import module after minifying, got ${modules.join(', ')}`);
  const renamed = {
    module: modules[0],
    imports: Object.fromEntries(mapping.imports.map(([, from, to]) => [from, to])),
    exports: Object.fromEntries(mapping.exports),
  };
  writeFileSync(map, `${JSON.stringify(renamed, null, 1)}\n`);
} else if (command === 'glue') {
  const [glue, map, wasm] = args;
  const { module, imports, exports } = JSON.parse(readFileSync(map, 'utf8'));
  let source = readFileSync(glue, 'utf8');
  const word = (name) => new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`, 'g');
  // The instance's exports, as the glue calls them: `wasm.<export>`.
  source = source.replace(/\bwasm\.(\w+)/g, (whole, name) => (name in exports ? `wasm.${exports[name]}` : whole));
  // The imports the glue provides: keys of its imports object (web target) or exported
  // functions (bundler target); and the module they are provided under (web target).
  for (const [from, to] of Object.entries(imports)) {
    source = source
      .replace(new RegExp(`(\\n\\s*)${from}(\\s*:\\s*function)`, 'g'), `$1${to}$2`)
      .replace(new RegExp(`export function ${from}\\(`, 'g'), `export function ${to}(`);
  }
  source = source.replace(/(["'])\.\/wx_cloud_storage_bg\.js\1(\s*:)/g, `"${module}"$2`);
  // The bundler target's glue is the imports object itself: it says which module it is.
  if (source.includes('export function __wbg_set_wasm')) source += `\nexport const WASM_IMPORT_MODULE = ${JSON.stringify(module)};\n`;
  const left = [
    ...Object.keys(imports).filter((name) => word(name).test(source)),
    ...Object.keys(exports).filter((name) => new RegExp(`\\bwasm\\.${name}\\b`).test(source)),
  ];
  if (left.length) throw new Error(`${glue} still names ${left.join(', ')}`);
  const provided = new Set([...source.matchAll(/(?:\n\s*|export function )(\w+)(?:\s*:\s*function|\()/g)].map((m) => m[1]));
  const missing = importsOf(wasm).filter((i) => i.module !== module || !provided.has(i.name));
  if (missing.length) throw new Error(`${glue} does not provide ${missing.map((i) => `${i.module}.${i.name}`).join(', ')}`);
  writeFileSync(glue, source);
} else {
  throw new Error('usage: node tools/wasm-names.mjs minify WASM MAP | glue GLUE MAP WASM');
}
