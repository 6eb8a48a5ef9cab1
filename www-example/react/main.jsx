import { createRoot } from 'react-dom/client';
import App from './App.jsx';
import '../shared/console.css';
import { getStorage, signIn } from '../shared/storage.js';

// The console signs in as the demo's ordinary user, then gets the page's StorageClient.
Promise.all([signIn('demo'), getStorage()])
  .then(([user, storage]) => createRoot(document.getElementById('root')).render(<App storage={storage} user={user} />));
