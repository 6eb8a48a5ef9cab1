import { createRoot } from 'react-dom/client';
import App from './App.jsx';
import '../shared/console.css';
import { getStorage } from '../shared/storage.js';

// The console gets the page's StorageClient once the wasm is loaded.
getStorage().then((storage) => createRoot(document.getElementById('root')).render(<App storage={storage} />));
