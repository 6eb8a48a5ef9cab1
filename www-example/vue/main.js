import { createApp } from 'vue';
import ElementPlus from 'element-plus';
import 'element-plus/dist/index.css';
import App from './App.vue';
import '../shared/console.css';
import { getStorage } from '../shared/storage.js';

// The console gets the page's StorageClient once the wasm is loaded.
getStorage().then((storage) => createApp(App, { storage }).use(ElementPlus).mount('#app'));
