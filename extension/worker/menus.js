// The right-click menu and the keyboard shortcut, loaded by background.js
// with importScripts (a classic script: it defines self.dopplerMenus).
//
// A menu click never runs the model here: it leaves the request in
// chrome.storage.session ("pendingAction", readable by extension pages
// only) and opens the side panel, which runs it over the "doppler" Port,
// streams the answer and offers copy and "replace selection". So the
// answer shows in one place whichever way it was asked for.
'use strict';

(() => {
  const PENDING_KEY = 'pendingAction';

  // Menu items on selected text: id -> the request the side panel runs.
  const ITEMS = [
    { id: 'doppler-summarize-selection', title: 'Summarize selection', contexts: ['selection'], action: { task: 'summarize' } },
    { id: 'doppler-rewrite-formal', title: 'Rewrite: more formal', contexts: ['selection'], action: { task: 'rewrite', options: { action: 'formal' } } },
    { id: 'doppler-rewrite-casual', title: 'Rewrite: more casual', contexts: ['selection'], action: { task: 'rewrite', options: { action: 'casual' } } },
    { id: 'doppler-rewrite-shorter', title: 'Rewrite: shorter', contexts: ['selection'], action: { task: 'rewrite', options: { action: 'shorter' } } },
    { id: 'doppler-rewrite-longer', title: 'Rewrite: longer', contexts: ['selection'], action: { task: 'rewrite', options: { action: 'longer' } } },
    { id: 'doppler-rewrite-grammar', title: 'Rewrite: fix grammar', contexts: ['selection'], action: { task: 'rewrite', options: { action: 'grammar' } } },
    { id: 'doppler-summarize-page', title: 'Summarize this page', contexts: ['page'], action: { task: 'summarize', page: true } },
  ];
  const PARENT = 'doppler';

  // register creates the menu (on install and update; Chrome keeps it
  // across worker restarts).
  async function register() {
    await chrome.contextMenus.removeAll();
    const create = (props) =>
      new Promise((resolve, reject) =>
        chrome.contextMenus.create(props, () => (chrome.runtime.lastError ? reject(new Error(chrome.runtime.lastError.message)) : resolve())),
      );
    await create({ id: PARENT, title: 'Doppler', contexts: ['selection', 'page'] });
    for (const it of ITEMS) await create({ id: it.id, parentId: PARENT, title: it.title, contexts: it.contexts });
  }

  // onClicked is the contextMenus.onClicked handler (info, tab as Chrome
  // passes them). It resolves with the pending action it stored.
  async function onClicked(info, tab) {
    const item = ITEMS.find((it) => it.id === info.menuItemId);
    if (!item) return null;
    const action = {
      id: `menu-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      menuItemId: item.id,
      label: item.title,
      task: item.action.task,
      options: { ...(item.action.options || {}) },
      page: !!item.action.page,
      text: item.action.page ? '' : info.selectionText || '',
      editable: !!info.editable,
      tabId: tab && tab.id,
      windowId: tab && tab.windowId,
      frameId: info.frameId || 0,
      pageUrl: info.pageUrl || (tab && tab.url) || '',
      at: Date.now(),
    };
    // Open the panel first: sidePanel.open needs the click's user gesture,
    // which an await would lose.
    const opened = openPanel(tab);
    await chrome.storage.session.set({ [PENDING_KEY]: action });
    await opened;
    return action;
  }

  function openPanel(tab) {
    if (!tab || !chrome.sidePanel || !chrome.sidePanel.open) return Promise.resolve(false);
    const target = tab.id >= 0 ? { tabId: tab.id } : { windowId: tab.windowId };
    return chrome.sidePanel.open(target).then(
      () => true,
      // No user gesture (a test calling the handler) or no window: the
      // action waits in storage for the panel to open.
      () => false,
    );
  }

  chrome.runtime.onInstalled.addListener(() => {
    register().catch((err) => console.error('doppler: context menu:', err));
  });
  chrome.contextMenus.onClicked.addListener((info, tab) => {
    onClicked(info, tab).catch((err) => console.error('doppler: context menu click:', err));
  });
  // The keyboard shortcut (manifest "commands") opens the side panel.
  chrome.commands.onCommand.addListener((command, tab) => {
    if (command === 'open-side-panel') openPanel(tab);
  });

  self.dopplerMenus = { ITEMS, PARENT, PENDING_KEY, register, onClicked };
})();
