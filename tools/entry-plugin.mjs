// An esbuild plugin for the packages' optional modules (integrity.js, in browsers and mini
// programs): their StorageError is the one the package's entry exports, imported from
// `entry` beside them, so `instanceof StorageError` holds across both files.
export const errorFromEntry = (entry) => ({
  name: 'error-from-entry',
  setup(builder) {
    builder.onResolve({ filter: /storage-error\.js$/ }, () => ({ path: entry, external: true }));
  },
});
