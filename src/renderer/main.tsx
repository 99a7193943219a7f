import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { AppProvider } from './state/app-state';
import './styles.css';
import { showClippedText } from './util/overflow-title';

window.addEventListener('mouseover', showClippedText, { passive: true });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppProvider>
      <App />
    </AppProvider>
  </StrictMode>,
);
