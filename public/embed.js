/*
 * Tidings subscribe widget, for a site's own pages:
 *   <script src="https://push.example.org/embed.js" data-site="2" async></script>
 *   <div data-tidings></div>   (data-tidings="inline": here, even when the site's style is the card)
 * Plain JavaScript, one file, no framework. It talks only to the Tidings that served it,
 * renders inside a shadow root (the page's CSS cannot reach in, ours cannot leak out) and
 * defines one global, `Tidings`. The site serves the worker (see the admin's Sites page).
 */
(() => {
  'use strict';
  const script = document.currentScript;
  if (!script || window.Tidings) return;
  const BASE = new URL(script.src).origin;
  const data = script.dataset;
  const STYLE = `
:host{all:initial!important;display:block!important;visibility:visible!important;opacity:1!important}
:host([data-card]){position:fixed!important;right:16px;bottom:16px;z-index:2147483000;display:block!important}
.w{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1f1e;text-align:left;letter-spacing:normal}
.box{background:#fff;border:1px solid #e2e4df;border-radius:14px;padding:16px 18px;max-width:26rem;box-shadow:0 6px 24px rgba(0,0,0,.08)}
.card .box{width:min(24rem,calc(100vw - 32px));margin-bottom:12px}
h2{font-size:18px;line-height:1.3;margin:0 0 6px;font-weight:700}
p{margin:0 0 12px}
.status{padding:8px 10px;border-radius:10px;background:#f7f7f4}
.ok{background:#dcfce7;color:#166534}.warn{background:#fef3c7;color:#92400e}.error{background:#fee2e2;color:#b91c1c}
fieldset{border:0;margin:0 0 12px;padding:0}legend{font-weight:600;margin-bottom:4px;padding:0}
label{display:flex;gap:8px;align-items:center;margin:4px 0;cursor:pointer}
input{width:18px;height:18px;margin:0;accent-color:#0f766e}
.row{display:flex;flex-wrap:wrap;gap:8px}
button{display:inline-block!important;font:inherit;font-weight:600;border-radius:10px;padding:10px 16px;border:1px solid #0f766e;background:#fff;color:#0f766e;cursor:pointer;min-height:44px}
button.primary{background:#0f766e;color:#fff}
button:disabled{opacity:.6;cursor:wait}
button:focus-visible,input:focus-visible{outline:3px solid #5eead4;outline-offset:2px}
.bell{width:56px;height:56px;border-radius:50%;padding:0;background:#0f766e;color:#fff;font-size:26px;line-height:1;box-shadow:0 4px 16px rgba(0,0,0,.2);float:right}
.spin{display:inline-block;width:14px;height:14px;border:2px solid #0f766e;border-right-color:transparent;border-radius:50%;margin-right:8px;vertical-align:-2px;animation:s 1s linear infinite}
@keyframes s{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spin{animation:none}}`;

  let config, texts, root, host, panel, bell, state = 'checking', detail = '', chosen = null, saved = '';

  window.Tidings = { open: () => open(true) };

  // Public endpoints answer JSON; errors are {"Variant": "message"} or {"Variant": {"message": …}}.
  async function call(name, fields) {
    const response = await fetch(BASE + '/api/' + name, {
      method: 'POST', body: new URLSearchParams(fields), credentials: 'omit', mode: 'cors',
    });
    let body = null;
    try { body = await response.json(); } catch (_) { /* empty or not JSON */ }
    if (!response.ok) {
      const inner = body && typeof body === 'object' ? Object.values(body)[0] : body;
      throw new Error((inner && inner.message) || (typeof inner === 'string' ? inner : 'Tidings answered ' + response.status));
    }
    return body;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (value !== false && value != null) node.setAttribute(key, value === true ? '' : value);
    }
    // Text only: site and admin words are never parsed as HTML.
    for (const child of children.flat()) if (child != null) node.append(child);
    return node;
  }

  // iPadOS calls itself a Mac, but a Mac has no touch screen.
  const isIos = () => /iPad|iPhone|iPod/.test(navigator.userAgent) || (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
  const installed = () => matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
  const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  const keyBytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  // The key a subscription was made with, base64url, where the browser says (null in some).
  const keyOf = (sub) => {
    const key = sub.options && sub.options.applicationServerKey;
    return key ? btoa(String.fromCharCode(...new Uint8Array(key))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : '';
  };
  const keysOf = (sub) => {
    const json = sub.toJSON();
    return { endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth };
  };

  async function registration() {
    await navigator.serviceWorker.register(config.worker_path, { scope: '/' });
    return navigator.serviceWorker.ready;
  }

  async function currentSubscription() {
    const found = await navigator.serviceWorker.getRegistration('/');
    return found ? found.pushManager.getSubscription() : null;
  }

  function set(next, why) {
    state = next;
    detail = why || '';
    render();
  }

  function ticked() {
    return chosen || config.topics.map((t) => t.id);
  }

  function topicChoices() {
    if (!config.topics.length) return null;
    return el('fieldset', {}, el('legend', {}, texts.topics), config.topics.map((t) => el('label', {},
      el('input', {
        type: 'checkbox', value: t.id, checked: ticked().includes(t.id) || false,
        onchange: (event) => {
          chosen = ticked().filter((id) => id !== t.id).concat(event.target.checked ? [t.id] : []);
          saved = '';
        },
      }), t.name)));
  }

  function prompt() {
    return texts.heading + ' ' + texts.message + ' [' + texts.subscribe + ']';
  }

  async function subscribe() {
    set('working');
    try {
      // Asked inside the click: browsers ignore (or punish) a request made at any other time.
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') return set(permission === 'denied' ? 'denied' : 'ask');
      const reg = await registration();
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.vapid_public_key) });
      await call('subscribe', {
        ...keysOf(sub), key: config.vapid_public_key, topics: ticked().join(','),
        page: location.href, prompt: prompt(), language: navigator.language || '',
        time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || '',
        user: data.user || '', user_signature: data.userSignature || '',
      });
      set('subscribed');
    } catch (error) {
      set('error', error.message);
    }
  }

  async function saveTopics() {
    try {
      const sub = await currentSubscription();
      await call('choose_topics', { endpoint: sub.endpoint, topics: ticked().join(',') });
      saved = texts.topics_saved;
    } catch (error) {
      saved = error.message;
    }
    render();
  }

  async function unsubscribe() {
    set('working');
    try {
      const sub = await currentSubscription();
      if (sub) {
        await sub.unsubscribe();
        await call('unsubscribe', { endpoint: sub.endpoint });
      }
      chosen = null;
      set('ask', texts.unsubscribed);
    } catch (error) {
      set('error', error.message);
    }
  }

  function content() {
    const button = (label, onclick, primary) => el('button', { type: 'button', class: primary ? 'primary' : null, onclick }, label);
    switch (state) {
      case 'checking': return [el('p', { class: 'status' }, el('span', { class: 'spin', 'aria-hidden': 'true' }), texts.working)];
      case 'unsupported': return [el('p', { class: 'status warn' }, texts.unsupported)];
      case 'home-screen': return [el('p', { class: 'status warn' }, texts.home_screen)];
      case 'denied': return [el('p', { class: 'status warn' }, texts.denied)];
      case 'working': return [el('p', { class: 'status' }, el('span', { class: 'spin', 'aria-hidden': 'true' }), texts.working),
        el('button', { type: 'button', class: 'primary', disabled: true }, texts.subscribe)];
      case 'error': return [el('p', { class: 'status error', role: 'alert' }, texts.failed, detail ? ' (' + detail + ')' : ''),
        button(texts.subscribe, subscribe, true)];
      case 'subscribed': return [el('p', { class: 'status ok' }, texts.subscribed), topicChoices(),
        saved ? el('p', { class: 'status', role: 'status' }, saved) : null,
        el('div', { class: 'row' }, config.topics.length ? button(texts.save_topics, saveTopics, true) : null, button(texts.unsubscribe, unsubscribe))];
      default: return [detail ? el('p', { class: 'status' }, detail) : null, topicChoices(),
        el('div', { class: 'row' }, button(texts.subscribe, subscribe, true),
          panel ? button(texts.not_now, () => { localStorage.setItem('tidings-later', Date.now()); open(false); }) : null)];
    }
  }

  function render() {
    host.dataset.state = state;
    const focused = root.activeElement && root.activeElement.textContent;
    const box = el('div', { class: 'box', role: panel ? 'dialog' : 'region', 'aria-labelledby': 'tidings-h', lang: config ? config.widget.language : null },
      el('h2', { id: 'tidings-h' }, texts.heading), state === 'ask' || state === 'error' ? el('p', {}, texts.message) : null,
      el('div', { 'aria-live': 'polite' }, content()));
    const target = panel || root.querySelector('.w');
    target.replaceChildren(box);
    // Keep the keyboard where it was when the content is redrawn.
    const again = [...box.querySelectorAll('button')].find((b) => b.textContent === focused && !b.disabled);
    if (again) again.focus();
  }

  function open(show) {
    if (!panel) return;
    panel.hidden = !show;
    bell.setAttribute('aria-expanded', String(show));
    if (show) render();
  }

  async function detect() {
    if (isIos() && !installed()) return set('home-screen');
    if (!supported()) return set('unsupported');
    if (Notification.permission === 'denied') return set('denied');
    if (Notification.permission === 'granted') {
      let sub = await currentSubscription();
      if (sub) {
        const key = keyOf(sub);
        if (key && key !== config.vapid_public_key) {
          // Made with a key Tidings rotated away from: move it over, silently (the server
          // keeps its topics and site).
          const reg = await navigator.serviceWorker.getRegistration('/');
          await sub.unsubscribe();
          const fresh = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.vapid_public_key) });
          await call('resubscribe', { old_endpoint: sub.endpoint, ...keysOf(fresh), key: config.vapid_public_key });
          sub = fresh;
        } else {
          // Re-sent so the server heals if it lost the row; the topic choice stays.
          await call('subscribe', { ...keysOf(sub), key });
        }
        chosen = await call('my_topics', { endpoint: sub.endpoint }).catch(() => null);
        return set('subscribed');
      }
    }
    set('ask');
  }

  async function start() {
    const placeholder = document.querySelector('[data-tidings]');
    // `data-tidings="inline"`: always here on the page, whatever the site's prompt style.
    const inline = placeholder && placeholder.dataset.tidings === 'inline';
    try {
      config = await call('site_widget', {});
    } catch (error) {
      console.warn('Tidings: this page cannot use the widget: ' + error.message);
      if (inline) placeholder.replaceChildren(el('p', { class: 'status error', role: 'alert' }, 'Notifications are not available here yet: ' + error.message));
      return;
    }
    texts = config.widget.texts;
    if (data.site && String(config.site) !== data.site) {
      console.warn('Tidings: the snippet names site ' + data.site + ', but this origin is site ' + config.site);
    }
    const card = config.widget.prompt === 'card' && !inline;
    if (!card && !placeholder) return console.warn('Tidings: add <div data-tidings></div> where the widget should go');
    host = document.createElement('tidings-widget');
    root = host.attachShadow({ mode: 'open' });
    // A constructed sheet, not a <style> element: a page whose CSP forbids inline styles
    // (Tidings' own page does) still styles the widget.
    if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el('style', {}, STYLE));
    }
    const wrap = el('div', { class: 'w' + (card ? ' card' : '') });
    root.append(wrap);
    if (card) {
      host.setAttribute('data-card', '');
      panel = el('div', { id: 'tidings-panel', hidden: true });
      bell = el('button', { type: 'button', class: 'bell', 'aria-label': texts.bell, 'aria-expanded': 'false', 'aria-controls': 'tidings-panel',
        onclick: () => open(panel.hidden) }, '🔔');
      wrap.append(panel, bell);
      root.addEventListener('keydown', (event) => { if (event.key === 'Escape') { open(false); bell.focus(); } });
      document.body.append(host);
    } else {
      placeholder.replaceChildren(host);
    }
    render();
    try {
      await detect();
    } catch (error) {
      set('error', error.message);
    }
    // A soft prompt opens by itself for a visitor not asked yet, at most once a week.
    const later = Number(localStorage.getItem('tidings-later') || 0);
    if (card && state === 'ask' && Date.now() - later > 7 * 86400e3) open(true);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
