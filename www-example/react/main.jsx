import { createRoot } from 'react-dom/client';
import App from './App.jsx';
import '../shared/console.css';

createRoot(document.getElementById('root')).render(<App />);
