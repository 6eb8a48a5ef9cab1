import { createApp } from 'vue';
import ElementPlus from 'element-plus';
import 'element-plus/dist/index.css';
import App from './App.vue';
import '../shared/console.css';
import { getStorage, signIn } from '../shared/storage.js';

// The console signs in as the demo's admin, then gets the page's StorageClient.
Promise.all([signIn('admin'), getStorage()])
  .then(([user, storage]) => createApp(App, { storage, user }).use(ElementPlus).mount('#app'));
