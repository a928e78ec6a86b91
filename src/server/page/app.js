// Curator's chat page: a client of the public HTTP API (GET /openapi.json) and nothing else.
// Every string from the server (model replies, catalog titles, reasons) is inserted as text
// (textContent, Text nodes), never parsed as HTML.
'use strict';

const SESSION_KEY = 'curator.session';
const API_KEY = 'curator.apiKey';
const $ = (id) => document.getElementById(id);
const ui = {
  messages: $('messages'), status: $('status'), form: $('composer'), input: $('input'),
  send: $('send'), stop: $('stop'), cards: $('cards'), noCards: $('no-cards'),
  newConversation: $('new-conversation'), liked: $('known-liked'), disliked: $('known-disliked'),
  wanted: $('known-wanted'), rejected: $('known-rejected'), seen: $('known-seen'),
  keyDialog: $('key-dialog'), keyForm: $('key-form'), keyInput: $('key-input'),
};

let sessionId = localStorage.getItem(SESSION_KEY);
let apiKey = sessionStorage.getItem(API_KEY) || '';
let running = null; // the AbortController of the reply being streamed
let view = null; // the latest GET /v1/sessions/{id} body

function node(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setSession(id) {
  sessionId = id;
  if (id) localStorage.setItem(SESSION_KEY, id);
  else localStorage.removeItem(SESSION_KEY);
}

// Resolves once the person has typed the API key into the dialog.
function askKey() {
  return new Promise((resolve) => {
    ui.keyForm.addEventListener('submit', () => {
      apiKey = ui.keyInput.value.trim();
      sessionStorage.setItem(API_KEY, apiKey);
      resolve();
    }, { once: true });
    if (!ui.keyDialog.open) {
      ui.keyInput.value = '';
      ui.keyDialog.showModal();
    }
  });
}

// fetch() on the API with the bearer key; a 401 asks for the key and tries again.
async function api(path, init = {}) {
  for (;;) {
    const headers = { 'content-type': 'application/json' };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const r = await fetch(path, { ...init, headers });
    if (r.status !== 401) return r;
    await askKey();
  }
}

async function errorText(r) {
  try {
    return (await r.json()).error.message;
  } catch {
    return `the server answered HTTP ${r.status}`;
  }
}

// Appends a message to the conversation; returns the element its text goes in.
function addMessage(role, text) {
  const li = node('li', role);
  li.append(node('span', 'who', { user: 'You', assistant: 'Curator' }[role] || 'Error'));
  const body = node('span', 'text', text);
  li.append(body);
  ui.messages.append(li);
  ui.messages.scrollTop = ui.messages.scrollHeight;
  return body;
}

function fill(list, texts) {
  list.replaceChildren(...texts.map((t) => node('li', '', t)));
}

function renderKnown() {
  fill(ui.liked, (view?.liked ?? []).map((i) => i.title));
  fill(ui.disliked, (view?.disliked ?? []).map((i) => i.title));
  fill(ui.seen, (view?.seen ?? []).map((i) => i.title));
  fill(ui.wanted, (view?.wanted ?? []).map((a) => a.label));
  fill(ui.rejected, (view?.rejected ?? []).map((a) => `no ${a.label}`));
}

function card(item, liked) {
  const li = node('li', 'card');
  li.dataset.id = String(item.id);
  li.append(node('h3', '', item.title));
  const meta = [item.year, (item.genres ?? []).join(', ')].filter(Boolean).join(' · ');
  if (meta) li.append(node('p', 'meta', meta));
  li.append(node('p', 'reason', item.reason));
  const actions = node('div', 'actions');
  for (const [rating, label] of [['like', 'Like'], ['dislike', 'Dislike'], ['seen', 'Seen it']]) {
    const b = node('button', rating, label);
    b.type = 'button';
    b.setAttribute('aria-label', `${label} ${item.title}`);
    if (rating === 'like') b.setAttribute('aria-pressed', String(liked));
    b.disabled = running !== null;
    b.addEventListener('click', () => feedback(item, rating));
    actions.append(b);
  }
  li.append(actions);
  return li;
}

// Shows `items` as cards, less those the person disliked.
function renderCards(items) {
  const liked = new Set((view?.liked ?? []).map((i) => i.id));
  const disliked = new Set((view?.disliked ?? []).map((i) => i.id));
  ui.cards.replaceChildren(...items.filter((i) => !disliked.has(i.id)).map((i) => card(i, liked.has(i.id))));
  ui.noCards.hidden = ui.cards.children.length > 0;
}

// Reads the stored session (what Curator knows, the latest cards); forgets an unknown one.
async function refresh() {
  view = null;
  if (sessionId) {
    const r = await api(`/v1/sessions/${encodeURIComponent(sessionId)}`);
    if (r.status === 404) setSession(null);
    else if (!r.ok) throw new Error(await errorText(r));
    else view = await r.json();
  }
  renderKnown();
  renderCards(view?.recommendations ?? []);
}

async function feedback(item, rating) {
  try {
    const body = JSON.stringify({ session_id: sessionId, item_id: item.id, rating });
    const r = await api('/v1/feedback', { method: 'POST', body });
    if (!r.ok) throw new Error(await errorText(r));
    await refresh();
  } catch (e) {
    addMessage('error', e.message);
  }
}

function setRunning(controller) {
  running = controller;
  ui.stop.hidden = !controller;
  ui.send.disabled = Boolean(controller);
  ui.status.textContent = controller ? 'Curator is writing…' : '';
  for (const b of ui.cards.querySelectorAll('button')) b.disabled = Boolean(controller);
}

// Reads the server-sent events of a streamed completion into `out`; true once `[DONE]` came.
async function readStream(response, out) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return true;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        if (chunk.session_id && chunk.session_id !== sessionId) setSession(chunk.session_id);
        const piece = chunk.choices?.[0]?.delta?.content;
        if (piece) {
          out.append(piece);
          ui.messages.scrollTop = ui.messages.scrollHeight;
        }
        if (chunk.recommendations) renderCards(chunk.recommendations);
      }
    }
  }
}

async function send(text) {
  addMessage('user', text);
  const out = addMessage('assistant', '');
  const controller = new AbortController();
  setRunning(controller);
  const body = { model: 'curator', stream: true, messages: [{ role: 'user', content: text }] };
  if (sessionId) body.session_id = sessionId;
  try {
    const r = await api('/v1/chat/completions', { method: 'POST', body: JSON.stringify(body), signal: controller.signal });
    if (!r.ok) throw new Error(await errorText(r));
    if (!(await readStream(r, out))) throw new Error('the reply stopped before its end');
  } catch (e) {
    if (e.name === 'AbortError') out.append(out.textContent ? ' [stopped]' : '[stopped]');
    else addMessage('error', e.message);
  }
  if (running !== controller) return; // a new conversation started meanwhile
  try {
    await refresh();
  } catch (e) {
    addMessage('error', e.message);
  }
  setRunning(null);
}

function newConversation() {
  running?.abort();
  setRunning(null);
  setSession(null);
  view = null;
  ui.messages.replaceChildren();
  renderKnown();
  renderCards([]);
  ui.input.focus();
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.input.value.trim();
  if (!text || running) return;
  ui.input.value = '';
  send(text);
});
ui.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    ui.form.requestSubmit();
  }
});
ui.stop.addEventListener('click', () => running?.abort());
ui.newConversation.addEventListener('click', newConversation);
ui.keyDialog.addEventListener('cancel', (e) => e.preventDefault());

// Start: ask for the key if the server needs one, then restore the stored conversation.
(async () => {
  try {
    await api('/v1/models');
    await refresh();
    for (const m of view?.messages ?? []) addMessage(m.role, m.content);
  } catch (e) {
    addMessage('error', e.message);
  }
})();
