import { createApp } from 'vue';
import App from './App.vue';
import '../shared/console.css';

createApp(App).mount('#app');
