import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import react from '@vitejs/plugin-react';

// Four pages in one build: the index, the H5 page, the Vue console and the React console.
// `wxcs dev` serves dist/ on http://127.0.0.1:8787/, next to the credential backend, so
// the pages call `/api/storage` on their own origin.
const page = (name) => resolve(import.meta.dirname, name, 'index.html');

export default defineConfig({
  plugins: [vue(), react()],
  build: {
    target: 'es2020',
    // The consoles import all of Element Plus / Ant Design, as a quick start does (an app
    // would import per component); the package itself is a few KB of each page.
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        h5: page('h5'),
        vue: page('vue'),
        react: page('react'),
      },
    },
  },
  // The package finds its .wasm through `import.meta.url`; pre-bundling would move the JS
  // away from the .wasm in `vite dev`, so the package is left as it is.
  optimizeDeps: { exclude: ['wx-cloud-storage'] },
  server: { proxy: { '/api': 'http://127.0.0.1:8787' } },
});
