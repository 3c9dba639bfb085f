// amqpemu web console: hash routes, each page polling the REST API every
// 5 s. Plain ES modules, no build step. Errors from the API are shown in
// words in the banner (role="alert").
import { clearError, showError } from './lib.js';
import { overviewPage } from './overview.js';
import { groupPage } from './group.js';
import { subscriptionsPage } from './subscriptions.js';
import { alertsPage } from './alerts.js';
import { logServicePage } from './logservice.js';

const POLL_MS = 5000;

// routes: a hash pattern and the page it opens; the first match wins.
const routes = [
  [/^#\/groups\/([^/]+)(?:\/(messages))?$/, (m) => groupPage(decodeURIComponent(m[1]), m[2])],
  [/^#\/subscriptions$/, () => subscriptionsPage()],
  [/^#\/alerts$/, () => alertsPage()],
  [/^#\/logservice$/, () => logServicePage()],
  [/^/, () => overviewPage()],
];

let page = null;
let timer = null;

// poll refreshes the page; a page replaced meanwhile reports nothing.
async function poll() {
  const p = page;
  try {
    await p.refresh();
    if (p === page) {
      clearError('poll');
      document.getElementById('updated').textContent = `Last refresh ${new Date().toLocaleTimeString()}.`;
    }
  } catch (e) {
    if (p === page) showError(e, 'poll');
  }
}

function route() {
  if (page) page.dispose();
  clearInterval(timer);
  clearError('poll');
  const hash = location.hash || '#/';
  for (const [re, open] of routes) {
    const m = hash.match(re);
    if (m) { page = open(m); break; }
  }
  for (const a of document.querySelectorAll('header nav a')) {
    const current = a.getAttribute('href') === hash || (a.dataset.section === 'groups' && hash.startsWith('#/groups/'));
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.getElementById('main').replaceChildren(page.el);
  poll();
  timer = setInterval(poll, POLL_MS);
}

document.getElementById('banner-close').addEventListener('click', () => clearError());
window.addEventListener('hashchange', route);
route();
