// scimbridge console. Plain JavaScript, no dependencies, no build step.
// Data comes from /console/api/..., which the server proxies to the admin
// API with the session's token (the token never reaches this script).
// Every state-changing request carries the session's CSRF token.
'use strict';
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const csrf = ($('meta[name="csrf-token"]') || {}).content || '';
  const page = document.body.dataset.page;
  const isAdmin = document.body.dataset.role === 'admin';

  // el builds an element; text always goes in as text, never as HTML.
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  async function api(method, path, body) {
    const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path.startsWith('/') ? path : '/console/api/' + path, opts);
    } catch (e) {
      return { ok: false, status: 0, data: { detail: 'The server could not be reached. Check the connection and try again.' }, headers: new Headers() };
    }
    if (res.status === 401) {
      location.href = '/console/login?expired=1';
      return new Promise(() => {});
    }
    let data = null;
    if ((res.headers.get('Content-Type') || '').includes('json')) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    return { ok: res.ok, status: res.status, data: data || {}, headers: res.headers };
  }

  function problemText(res) {
    const d = res.data || {};
    if (d.problems && d.problems.length) return d.problems.map((p) => (p.field ? p.field + ': ' : '') + p.message).join(' ');
    return d.detail || `The request failed (HTTP ${res.status}).`;
  }

  function showError(node, res) {
    if (!node) return;
    node.textContent = typeof res === 'string' ? res : problemText(res);
    node.hidden = false;
  }
  function hideError(node) { if (node) { node.hidden = true; node.textContent = ''; } }

  const fmtTime = (s) => (s ? new Date(s).toLocaleString() : '');
  function duration(run) {
    const end = run.finishedAt ? new Date(run.finishedAt) : new Date();
    const s = Math.max(0, Math.round((end - new Date(run.startedAt)) / 1000));
    return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  const actionLabels = [['added', 'Added'], ['updated', 'Updated'], ['deactivated', 'Deactivated'], ['reactivated', 'Reactivated'],
    ['deleted', 'Deleted'], ['unchanged', 'Unchanged'], ['skipped', 'Skipped'], ['refused', 'Refused'], ['errors', 'Errors']];
  function countsText(c) {
    if (!c) return '';
    const parts = actionLabels.filter(([k]) => k !== 'unchanged' && c[k]).map(([k, l]) => `${l.toLowerCase()} ${c[k]}`);
    return parts.length ? parts.join(', ') : 'no changes';
  }
  function statusBadge(run) {
    return el('span', { class: 'status status-' + run.status, text: run.status + (run.dryRun ? ' (dry run)' : '') });
  }
  const reportLink = (run, text) => el('a', { href: '/console/runs/' + encodeURIComponent(run.id), text: text || 'View the report' });

  // ---- field errors: 422 problems shown next to the field they concern ----

  function findField(field) {
    let f = field;
    while (f) {
      const e = document.querySelector(`[data-field="${CSS.escape(f)}"]`);
      if (e) return e;
      const m = f.match(/^(.*)(\.[^.[\]]+|\[\d+\])$/);
      if (!m) break;
      f = m[1];
    }
    return null;
  }

  function clearFieldErrors(root) {
    $$('.field-error', root).forEach((e) => e.remove());
    $$('[aria-invalid]', root).forEach((e) => {
      e.removeAttribute('aria-invalid');
      const ids = (e.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.startsWith('err-'));
      if (ids.length) e.setAttribute('aria-describedby', ids.join(' ')); else e.removeAttribute('aria-describedby');
    });
  }

  let errSeq = 0;
  function fieldError(target, msg) {
    const input = target.matches('input, select, textarea') ? target : ($('input, select, textarea', target) || target);
    let id = input.dataset.errId;
    let p = id && document.getElementById(id);
    if (!p) {
      id = 'err-' + (++errSeq);
      input.dataset.errId = id;
      p = el('p', { class: 'field-error', id });
      const box = target.matches('fieldset') ? target : (input.closest('.field, td, fieldset') || input.parentNode);
      box.append(p);
    }
    p.textContent = p.textContent ? p.textContent + ' ' + msg : msg;
    input.setAttribute('aria-invalid', 'true');
    const ids = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!ids.includes(id)) input.setAttribute('aria-describedby', ids.concat(id).join(' '));
  }

  // showProblems puts every problem next to its field and lists them in the
  // form's summary, each a link to the field (on whichever tab it is).
  function showProblems(form, res) {
    clearFieldErrors(document);
    const summary = $('.error-summary', form);
    const problems = (res.data && res.data.problems) || [];
    const items = [];
    for (const p of problems) {
      const target = p.field ? findField(p.field) : null;
      if (target) fieldError(target, p.message);
      const text = (p.field ? p.field + ': ' : '') + p.message;
      items.push(target ? el('li', {}, el('a', { href: '#', text, onclick: (ev) => { ev.preventDefault(); focusField(target); } })) : el('li', { text }));
    }
    if (!problems.length) items.push(el('li', { text: problemText(res) }));
    if (summary) {
      summary.replaceChildren(el('strong', { text: problems.length ? `Please fix ${problems.length} problem(s):` : 'The request failed:' }), el('ul', {}, items));
      summary.hidden = false;
    }
  }

  function focusField(target) {
    const panel = target.closest('[role=tabpanel]');
    if (panel && panel.hidden && wizard) wizard.select(panel.id.replace('panel-', ''), false);
    const input = target.matches('input, select, textarea') ? target : $('input, select, textarea', target);
    (input || target).focus();
  }

  function hideSummary(form) {
    const s = $('.error-summary', form);
    if (s) { s.hidden = true; s.replaceChildren(); }
  }

  // ---- the "sync in progress" banner, on every page ----

  let watching = null;
  const runWatchers = [];
  async function watchRunning() {
    const banner = $('#banner');
    if (!banner) return;
    const res = await api('GET', 'runs?limit=1');
    const run = res.ok && res.data.items && res.data.items[0];
    if (run && run.status === 'running') follow(run);
  }

  function follow(run) {
    if (watching === run.id) return;
    watching = run.id;
    const banner = $('#banner');
    const progress = el('span', { class: 'progress' });
    banner.replaceChildren(el('span', { text: 'Directory synchronization is in progress' }), progress, ' ', reportLink(run, 'Follow the run'));
    banner.hidden = false;
    const tick = async () => {
      const [r, ev] = await Promise.all([api('GET', 'runs/' + run.id), api('GET', 'runs/' + run.id + '/events?limit=1')]);
      if (!r.ok) { setTimeout(tick, 2000); return; }
      const cur = r.data;
      const objects = ev.ok ? ev.data.total : 0;
      progress.textContent = `· ${cur.dryRun ? 'dry run, ' : ''}${duration(cur)} so far, ${objects} object(s) recorded`;
      if (cur.status === 'running') { setTimeout(tick, 1000); return; }
      banner.hidden = true;
      watching = null;
      runWatchers.forEach((f) => f(cur));
    };
    tick();
  }

  // ---- Current settings ----

  async function settingsPage() {
    const summary = $('#summary');
    const lastRun = $('#last-run');
    const runError = $('#run-error');
    const showLast = (run) => {
      if (!run) { lastRun.textContent = 'No run yet.'; return; }
      lastRun.replaceChildren(run.status === 'running' ? 'Current run: ' : 'Last run: ', statusBadge(run), ` started ${fmtTime(run.startedAt)}. `,
        run.status === 'running' ? '' : `Took ${duration(run)}. Users: ${countsText(run.counts.users)}. Groups: ${countsText(run.counts.groups)}. `,
        run.error ? el('span', { class: 'error', text: run.error + ' ' }) : '', reportLink(run));
    };
    runWatchers.push(showLast);
    const runs = await api('GET', 'runs?limit=1');
    showLast(runs.ok ? runs.data.items[0] : null);

    const start = async (dryRun) => {
      hideError(runError);
      $$('#run-now, #dry-run').forEach((b) => { b.disabled = true; });
      const res = await api('POST', 'runs', { dryRun });
      $$('#run-now, #dry-run').forEach((b) => { b.disabled = false; });
      if (res.status === 202) { showLast(res.data); follow(res.data); return; }
      if (res.status === 409 && res.data.run) { showError(runError, 'A run is already in progress.'); follow(res.data.run); return; }
      showError(runError, res);
    };
    $('#run-now').addEventListener('click', () => start(false));
    $('#dry-run').addEventListener('click', () => start(true));

    const [dir, sched] = await Promise.all([api('GET', 'directory'), api('GET', 'schedule')]);
    summary.removeAttribute('aria-busy');
    if (dir.status === 404) {
      summary.replaceChildren(el('p', {}, 'Synchronization is not configured yet. ', el('a', { href: '/console/wizard', text: 'Configure synchronization' })));
      $('#run-now').disabled = true;
      $('#dry-run').disabled = true;
      return;
    }
    if (!dir.ok) { summary.replaceChildren(el('p', { class: 'error', text: problemText(dir) })); return; }
    const s = dir.data;
    const pw = dir.headers.get('Scimbridge-Password-Set') === 'true';
    const c = s.connection;
    const dl = (rows) => el('dl', { class: 'grid' }, rows.map(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
    const secText = { ldaps: 'LDAPS', starttls: 'StartTLS', none: 'none (plain LDAP)' };
    const ouText = { all: 'All: every OU becomes a group', selected: 'Specific OUs', none: 'None: no OU groups' };
    const parts = [
      el('h3', { text: 'Connection' }),
      dl([['Server', `${c.host}:${c.port}`], ['Security', secText[c.security] || c.security], ['Base DN', c.baseDn], ['Bind user', c.bindDn],
        ['Password', pw ? 'stored (encrypted)' : 'not set'], ['CA certificate', c.caCertificate ? 'provided' : 'system roots'],
        ['Certificate check', c.insecureSkipVerify ? 'OFF (unsafe)' : 'on']]),
      el('h3', { text: 'Organizational Units' }),
      dl([['Import', ouText[s.organizationalUnits.mode] || s.organizationalUnits.mode]].concat(
        (s.organizationalUnits.selected || []).map((dn, i) => [i ? '' : 'Selected', dn]))),
      el('h3', { text: 'Distribution Lists' }),
      dl([['Import', s.distributionLists.import ? 'yes' : 'no']]),
      el('h3', { text: 'Users' }),
      dl([['Mapping', s.users.mapping === 'custom' ? `custom (${(s.users.customMappings || []).length} row(s))` : 'default'],
        ['Inclusion rule', s.users.inclusionFilter || 'none'], ['Exclusion rule', s.users.exclusionFilter || 'none'],
        ['Deletion threshold', `${s.deletionThreshold.maxCount} objects or ${s.deletionThreshold.maxPercent}%`]]),
      el('h3', { text: 'Schedule' }),
    ];
    if (sched.ok && sched.data.enabled) {
      parts.push(dl([['Runs', scheduleText(sched.data)], ['Next', el('ul', { class: 'plain' }, sched.data.nextRuns.map((t) => el('li', { text: fmtTime(t) })))]]));
    } else {
      parts.push(el('p', { text: 'Not scheduled: runs start with Run Now only.' }));
    }
    summary.replaceChildren(el('div', { class: 'summary' }, parts));
  }

  function scheduleText(s) {
    const at = s.start ? ` at ${s.start.slice(11)} from ${s.start.slice(0, 10)}` : '';
    const zone = ` (${s.timeZone || 'UTC'})`;
    switch (s.frequency) {
      case 'daily': return 'Daily' + at + zone;
      case 'weekly': return `Weekly on ${s.weekday}` + at + zone;
      case 'monthly': return `Monthly on day ${s.dayOfMonth}` + at + zone;
      case 'interval': return (s.every && s.every.weeks ? `Every ${s.every.weeks} week(s)` : `Every ${(s.every || {}).days} day(s)`) + at + zone;
      default: return s.frequency || '';
    }
  }

  // ---- Configure Synchronization wizard ----

  let wizard = null;

  function wizardPage() {
    const tabs = $$('[role=tab]');
    const names = tabs.map((t) => t.id.replace('tab-', ''));
    const status = $('#wizard-status');
    let stored = null;
    let passwordSet = false;
    let selectedOUs = new Set();

    const select = (name, focusTab) => {
      tabs.forEach((t) => {
        const on = t.id === 'tab-' + name;
        t.setAttribute('aria-selected', String(on));
        t.tabIndex = on ? 0 : -1;
        $('#' + t.getAttribute('aria-controls')).hidden = !on;
        if (on && focusTab) t.focus();
      });
      history.replaceState(null, '', '#' + name);
      if (name === 'ous' && ouMode() === 'selected') loadTree(false);
      if (name === 'exclusions') loadProtections();
    };
    wizard = { select };
    tabs.forEach((t, i) => {
      t.addEventListener('click', () => select(names[i], false));
      t.addEventListener('keydown', (ev) => {
        const k = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: names.length - 1 }[ev.key];
        if (k === undefined) return;
        ev.preventDefault();
        select(names[(k + names.length) % names.length], true);
      });
    });

    const v = (sel) => $(sel).value.trim();
    const num = (sel) => ($(sel).value === '' ? undefined : Number($(sel).value));
    const ouMode = () => ($('input[name=ou-mode]:checked') || { value: 'all' }).value;
    const mappingMode = () => ($('input[name=mapping]:checked') || { value: 'default' }).value;

    function collect() {
      const c = { host: v('#c-host'), port: num('#c-port'), security: v('#c-security'), baseDn: v('#c-base'), bindDn: v('#c-bind'),
        timeoutSeconds: num('#c-timeout') };
      if ($('#c-ca').value.trim()) c.caCertificate = $('#c-ca').value.trim() + '\n';
      if ($('#c-insecure').checked) c.insecureSkipVerify = true;
      if ($('#c-password').value) c.password = $('#c-password').value;
      const ous = { mode: ouMode() };
      if (ous.mode === 'selected') ous.selected = Array.from(selectedOUs);
      const users = { mapping: mappingMode() };
      if (users.mapping === 'custom') users.customMappings = mappingRows();
      if (v('#u-include')) users.inclusionFilter = v('#u-include');
      if (v('#u-exclude')) users.exclusionFilter = v('#u-exclude');
      return {
        connection: c, organizationalUnits: ous, distributionLists: { import: $('#dl-import').checked }, users,
        deletionThreshold: { maxCount: num('#t-count'), maxPercent: num('#t-percent') },
        schedule: (stored && stored.schedule) || { enabled: false },
      };
    }

    function fill(s) {
      const c = s.connection || {};
      $('#c-host').value = c.host || '';
      $('#c-port').value = c.port || ((c.security || 'ldaps') === 'ldaps' ? 636 : 389);
      $('#c-security').value = c.security || 'ldaps';
      $('#c-timeout').value = c.timeoutSeconds || 30;
      $('#c-base').value = c.baseDn || '';
      $('#c-bind').value = c.bindDn || '';
      $('#c-ca').value = c.caCertificate || '';
      $('#c-insecure').checked = !!c.insecureSkipVerify;
      const ou = s.organizationalUnits || { mode: 'all' };
      ($('#ou-' + ou.mode) || $('#ou-all')).checked = true;
      selectedOUs = new Set(ou.selected || []);
      $('#dl-import').checked = !!(s.distributionLists && s.distributionLists.import);
      const u = s.users || {};
      ($('#map-' + (u.mapping || 'default')) || $('#map-default')).checked = true;
      $('#mappings tbody').replaceChildren();
      (u.customMappings || []).forEach(addMappingRow);
      $('#u-include').value = u.inclusionFilter || '';
      $('#u-exclude').value = u.exclusionFilter || '';
      const t = s.deletionThreshold || {};
      $('#t-count').value = t.maxCount === undefined ? 500 : t.maxCount;
      $('#t-percent').value = t.maxPercent === undefined ? 20 : t.maxPercent;
      syncOUPicker();
      syncMappings();
      passwordHint();
    }

    function passwordHint() {
      $('#c-password-hint').textContent = passwordSet
        ? '(write-only: a password is stored; leave empty to keep it, unless the host, port or bind user change)'
        : '(write-only: stored encrypted, never shown)';
    }

    // Connection
    $('#c-security').addEventListener('change', () => {
      const port = $('#c-port');
      if (port.value === '' || port.value === '636' || port.value === '389') port.value = $('#c-security').value === 'ldaps' ? 636 : 389;
    });
    $('#test-connection').addEventListener('click', async () => {
      const btn = $('#test-connection');
      const out = $('#test-result');
      const form = $('#panel-connection');
      hideSummary(form);
      clearFieldErrors(form);
      btn.disabled = true;
      out.replaceChildren(el('p', { text: 'Testing the connection…' }));
      const res = await api('POST', 'directory/test', collect());
      btn.disabled = false;
      if (res.status === 422) { out.replaceChildren(); showProblems(form, res); return; }
      if (!res.ok) { out.replaceChildren(el('p', { class: 'error', text: problemText(res) })); return; }
      const r = res.data;
      if (!r.ok) { out.replaceChildren(el('p', { class: 'error', text: 'Connection failed: ' + r.error })); return; }
      const srv = r.server || {};
      const n = r.inScope || {};
      out.replaceChildren(el('p', { class: 'ok', text: `Connection succeeded: ${srv.dnsHostName || 'server'} (${srv.defaultNamingContext || ''}).` }),
        el('p', { text: `In scope: ${n.users} user(s), ${n.groups} group(s), ${n.organizationalUnits} organizational unit(s).` }));
    });

    // Organizational units
    function syncOUPicker() {
      const on = ouMode() === 'selected';
      $('#ou-picker').disabled = !on;
      $('#ou-picker').hidden = !on;
    }
    $$('input[name=ou-mode]').forEach((r) => r.addEventListener('change', () => {
      syncOUPicker();
      if (ouMode() === 'selected') loadTree(false);
    }));
    let treeLoaded = false;
    async function loadTree(force) {
      if (treeLoaded && !force) return;
      const box = $('#ou-tree');
      if (!stored) { box.replaceChildren(el('p', { class: 'error', text: 'Save the connection first: the tree is read with the saved settings.' })); return; }
      box.replaceChildren(el('p', { text: 'Loading the OU tree…' }));
      const res = await api('GET', 'directory/ous');
      if (!res.ok) { box.replaceChildren(el('p', { class: 'error', text: problemText(res) })); return; }
      treeLoaded = true;
      let seq = 0;
      const render = (nodes) => el('ul', { class: 'tree' }, nodes.map((n) => {
        const id = 'ou-node-' + (++seq);
        const cb = el('input', { type: 'checkbox', id, value: n.dn, checked: selectedOUs.has(n.dn) ? true : null,
          onchange: (ev) => { if (ev.target.checked) selectedOUs.add(n.dn); else selectedOUs.delete(n.dn); } });
        return el('li', {}, el('div', { class: 'check' }, cb, el('label', { for: id }, n.name, ' ', el('span', { class: 'hint', text: n.dn }))),
          n.children && n.children.length ? render(n.children) : null);
      }));
      const items = res.data.items || [];
      box.replaceChildren(items.length ? render(items) : el('p', { text: 'No organizational units under ' + res.data.baseDn + '.' }));
    }
    $('#ou-load').addEventListener('click', () => loadTree(true));

    // Users: mapping rows and filters checked as you type
    function syncMappings() {
      const on = mappingMode() === 'custom';
      $('#custom-mappings').disabled = !on;
    }
    $$('input[name=mapping]').forEach((r) => r.addEventListener('change', syncMappings));
    function addMappingRow(m) {
      const tbody = $('#mappings tbody');
      const row = el('tr', {},
        el('td', {}, el('input', { type: 'text', class: 'm-scim', value: (m && m.scim) || '', 'aria-label': 'SCIM attribute', placeholder: 'title', spellcheck: 'false' })),
        el('td', {}, el('input', { type: 'text', class: 'm-ldap', value: (m && m.ldap) || '', 'aria-label': 'LDAP attribute', placeholder: 'extensionAttribute1', spellcheck: 'false' })),
        el('td', {}, el('input', { type: 'text', class: 'm-value', value: (m && m.value) || '', 'aria-label': 'Constant value' })),
        el('td', {}, el('button', { type: 'button', class: 'danger', text: 'Remove', onclick: (ev) => { ev.target.closest('tr').remove(); renumber(); } })));
      tbody.append(row);
      renumber();
      return row;
    }
    function renumber() {
      $$('#mappings tbody tr').forEach((tr, i) => {
        $('.m-scim', tr).dataset.field = `users.customMappings[${i}].scim`;
        $('.m-ldap', tr).dataset.field = `users.customMappings[${i}].ldap`;
        $('.m-value', tr).dataset.field = `users.customMappings[${i}].value`;
        $('.m-scim', tr).setAttribute('aria-label', `SCIM attribute, row ${i + 1}`);
        $('.m-ldap', tr).setAttribute('aria-label', `LDAP attribute, row ${i + 1}`);
        $('.m-value', tr).setAttribute('aria-label', `Constant value, row ${i + 1}`);
        $('button', tr).setAttribute('aria-label', `Remove row ${i + 1}`);
      });
    }
    function mappingRows() {
      return $$('#mappings tbody tr').map((tr) => {
        const m = { scim: $('.m-scim', tr).value.trim() };
        if ($('.m-ldap', tr).value.trim()) m.ldap = $('.m-ldap', tr).value.trim();
        if ($('.m-value', tr).value !== '') m.value = $('.m-value', tr).value;
        return m;
      }).filter((m) => m.scim || m.ldap || m.value);
    }
    $('#add-mapping').addEventListener('click', () => { $('.m-scim', addMappingRow()).focus(); });

    // As-you-type checks: the same validation as saving (POST /console/validate).
    let checkTimer = null;
    const checked = ['users.inclusionFilter', 'users.exclusionFilter'];
    const liveCheck = () => {
      clearTimeout(checkTimer);
      checkTimer = setTimeout(async () => {
        const res = await api('POST', '/console/validate', collect());
        if (!res.ok) return;
        const form = $('#panel-users');
        checked.concat($$('#mappings [data-field]').map((e) => e.dataset.field)).forEach((f) => {
          const e = $(`[data-field="${CSS.escape(f)}"]`, form);
          if (e) { clearFieldErrors(e.closest('.field, td') || e.parentNode); }
        });
        const mine = res.data.problems.filter((p) => p.field.startsWith('users.'));
        mine.forEach((p) => { const t = findField(p.field); if (t) fieldError(t, p.message); });
        const filterProblems = mine.filter((p) => checked.includes(p.field));
        $('#filter-check').textContent = filterProblems.length ? '' : (v('#u-include') || v('#u-exclude') ? 'The filters are valid LDAP filters.' : '');
      }, 250);
    };
    ['#u-include', '#u-exclude'].forEach((s) => $(s).addEventListener('input', liveCheck));
    $('#mappings').addEventListener('input', liveCheck);

    // Exclusions: protected objects and owners
    let catalog = null;
    async function loadCatalog() {
      const st = $('#ex-found-status');
      st.textContent = 'Reading the objects recorded by recent runs…';
      catalog = new Map();
      const runs = await api('GET', 'runs?limit=20');
      let requests = 0;
      for (const run of (runs.ok ? runs.data.items : [])) {
        for (let offset = 0; requests < 40; offset += 500) {
          requests++;
          const r = await api('GET', `runs/${run.id}/events?action=add&limit=500&offset=${offset}`);
          if (!r.ok) break;
          for (const e of r.data.items) if (e.externalId && !catalog.has(e.externalId)) catalog.set(e.externalId, e);
          if (offset + 500 >= r.data.total) break;
        }
      }
    }
    async function find() {
      if (!catalog) await loadCatalog();
      const q = v('#ex-search').toLowerCase();
      const st = $('#ex-found-status');
      const hits = [];
      for (const e of catalog.values()) {
        if (!q || (e.name || '').toLowerCase().includes(q) || (e.dn || '').toLowerCase().includes(q)) hits.push(e);
        if (hits.length >= 25) break;
      }
      st.textContent = catalog.size === 0 ? 'No synced objects yet: run a sync first, or add an object by its objectGUID.'
        : `${hits.length} match(es)${hits.length >= 25 ? ' (first 25)' : ''}.`;
      $('#ex-found').replaceChildren(...hits.map((e) => el('li', {},
        el('span', { class: 'grow' }, el('b', { text: `${e.objectType}: ${e.name || e.dn}` }), el('br'), el('span', { class: 'hint', text: e.dn })),
        el('button', { type: 'button', class: 'secondary', text: 'Protect', 'aria-label': `Protect ${e.name || e.dn}`,
          onclick: () => addProtection('protected', { objectType: e.objectType, externalId: e.externalId, note: e.name }) }),
        e.objectType === 'user' ? el('button', { type: 'button', class: 'secondary', text: 'Add as owner', 'aria-label': `Add ${e.name || e.dn} as owner`,
          onclick: () => addProtection('owners', { objectType: 'user', externalId: e.externalId, note: e.name }) }) : null)));
    }
    $('#ex-find').addEventListener('click', find);
    $('#ex-search').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); find(); } });

    async function addProtection(list, body) {
      const form = $('#panel-exclusions');
      hideSummary(form);
      clearFieldErrors(form);
      const res = await api('POST', list, body);
      if (!res.ok) { showProblems(form, res); return; }
      status.textContent = list === 'owners' ? 'Owner added.' : 'Object protected.';
      $('#ex-guid').value = '';
      $('#ex-note').value = '';
      loadProtections();
    }
    const manual = (list) => addProtection(list, { objectType: list === 'owners' ? 'user' : v('#ex-type'), externalId: v('#ex-guid'), note: v('#ex-note') || undefined });
    $('#ex-protect').addEventListener('click', () => manual('protected'));
    $('#ex-owner').addEventListener('click', () => manual('owners'));

    async function loadProtections() {
      for (const list of ['protected', 'owners']) {
        const tbody = $(`#${list} tbody`);
        const res = await api('GET', list);
        if (!res.ok) { tbody.replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'error', text: problemText(res) }))); continue; }
        const items = res.data.items || [];
        if (!items.length) { tbody.replaceChildren(el('tr', {}, el('td', { colspan: 4, text: 'None.' }))); continue; }
        tbody.replaceChildren(...items.map((p) => {
          const known = catalog && catalog.get(p.externalId);
          return el('tr', {}, el('td', { text: p.objectType }),
            el('td', {}, known ? known.name + ' ' : '', el('code', { text: p.externalId || p.resourceId })),
            el('td', { text: p.note || '' }),
            el('td', {}, el('button', { type: 'button', class: 'danger', text: 'Remove', 'aria-label': `Remove ${p.note || p.externalId || p.resourceId}`,
              onclick: async () => {
                const r = await api('DELETE', `${list}/${encodeURIComponent(p.id)}`);
                if (!r.ok && r.status !== 404) { showProblems($('#panel-exclusions'), r); return; }
                loadProtections();
              } })));
        }));
      }
    }

    // Schedule
    function syncSchedule() {
      const f = $('#s-frequency').value;
      $('#s-weekday-field').hidden = f !== 'weekly';
      $('#s-day-field').hidden = f !== 'monthly';
      $('#s-every-field').hidden = f !== 'interval';
    }
    $('#s-frequency').addEventListener('change', syncSchedule);
    function fillSchedule(s) {
      $('#s-enabled').checked = !!s.enabled;
      $('#s-frequency').value = s.frequency || 'daily';
      $('#s-weekday').value = s.weekday || 'monday';
      $('#s-day').value = s.dayOfMonth || 1;
      const every = s.every || {};
      $('#s-every').value = every.weeks || every.days || 1;
      $('#s-every-unit').value = every.weeks ? 'weeks' : 'days';
      $('#s-date').value = (s.start || '').slice(0, 10);
      $('#s-time').value = (s.start || '').slice(11, 16) || '02:00';
      $('#s-zone').value = s.timeZone && (s.timeZone !== 'UTC' || s.enabled) ? s.timeZone : (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
      syncSchedule();
      const list = $('#next-runs');
      const next = s.nextRuns || [];
      list.replaceChildren(...(next.length ? next.map((t) => el('li', {}, el('time', { datetime: t, text: fmtTime(t) }), el('span', { class: 'hint', text: ' (' + t + ')' })))
        : [el('li', { text: s.enabled ? 'None.' : 'Not scheduled.' })]));
    }
    function collectSchedule() {
      const s = { enabled: $('#s-enabled').checked, frequency: $('#s-frequency').value, timeZone: v('#s-zone') || 'UTC' };
      if ($('#s-date').value) s.start = $('#s-date').value + 'T' + ($('#s-time').value || '00:00');
      if (s.frequency === 'weekly') s.weekday = $('#s-weekday').value;
      if (s.frequency === 'monthly') s.dayOfMonth = num('#s-day');
      if (s.frequency === 'interval') s.every = { [$('#s-every-unit').value]: num('#s-every') };
      return s;
    }
    try {
      const zones = Intl.supportedValuesOf('timeZone');
      $('#zones').replaceChildren(...zones.map((z) => el('option', { value: z })));
    } catch (e) { /* older browsers: free text */ }

    // Save and next
    $$('form[role=tabpanel]').forEach((form) => form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      hideSummary(form);
      clearFieldErrors(document);
      const btn = $('button[type=submit]', form);
      btn.disabled = true;
      let res = { ok: true };
      if (form.dataset.save === 'directory') res = await api('PUT', 'directory', collect());
      if (form.dataset.save === 'schedule') res = await api('PUT', 'schedule', collectSchedule());
      btn.disabled = false;
      if (!res.ok) {
        showProblems(form, res.status === 404 && form.dataset.save === 'schedule'
          ? { data: { detail: 'Save the connection first: the schedule is part of the directory settings.' } } : res);
        return;
      }
      const name = form.id.replace('panel-', '');
      if (form.dataset.save === 'directory') {
        stored = res.data;
        passwordSet = true;
        $('#c-password').value = '';
        passwordHint();
        status.textContent = 'Saved.';
      }
      if (form.dataset.save === 'schedule') {
        fillSchedule(res.data);
        stored.schedule = collectSchedule();
        status.textContent = 'Schedule saved.';
        return;
      }
      const i = names.indexOf(name);
      if (i < names.length - 1) select(names[i + 1], true);
    }));

    (async () => {
      const [dir, sched] = await Promise.all([api('GET', 'directory'), api('GET', 'schedule')]);
      if (dir.ok) {
        stored = dir.data;
        passwordSet = dir.headers.get('Scimbridge-Password-Set') === 'true';
        fill(stored);
      } else {
        fill({});
        status.textContent = dir.status === 404 ? 'No settings yet: start with the connection to your domain controller.' : problemText(dir);
      }
      fillSchedule(sched.ok ? sched.data : { enabled: false });
      const want = location.hash.slice(1);
      select(names.includes(want) ? want : 'connection', false);
    })();
  }

  // ---- Sync history ----

  function runsPage() {
    const limit = 25;
    let offset = Number(new URLSearchParams(location.search).get('offset')) || 0;
    const tbody = $('#runs-table tbody');
    const load = async () => {
      const res = await api('GET', `runs?offset=${offset}&limit=${limit}`);
      if (!res.ok) { showError($('#runs-error'), res); return; }
      const { items, total } = res.data;
      tbody.replaceChildren(...(items.length ? items.map((r) => el('tr', {},
        el('td', {}, reportLink(r, fmtTime(r.startedAt))), el('td', {}, statusBadge(r)), el('td', { text: r.trigger }),
        el('td', { text: r.kind }), el('td', { text: countsText(r.counts.users) }), el('td', { text: countsText(r.counts.groups) }),
        el('td', { text: r.status === 'running' ? 'running' : duration(r) })))
        : [el('tr', {}, el('td', { colspan: 7, text: 'No run yet.' }))]));
      $('#runs-page').textContent = total ? `Runs ${offset + 1}-${offset + items.length} of ${total}` : '';
      $('#runs-prev').disabled = offset === 0;
      $('#runs-next').disabled = offset + limit >= total;
    };
    $('#runs-prev').addEventListener('click', () => { offset = Math.max(0, offset - limit); load(); });
    $('#runs-next').addEventListener('click', () => { offset += limit; load(); });
    runWatchers.push(load);
    load();
  }

  // ---- Report of a run ----

  function reportPage() {
    const id = document.body.dataset.run;
    const pageSize = 50;
    let events = [];
    let shown = [];
    let at = 0;

    const renderOverview = (run) => {
      const rows = [['Status', statusBadge(run)], ['Trigger', run.trigger], ['Kind', run.kind + (run.kindReason ? ` (${run.kindReason})` : '')],
        ['Dry run', run.dryRun ? 'yes: nothing was changed' : 'no'], ['Started', fmtTime(run.startedAt)],
        ['Finished', run.finishedAt ? fmtTime(run.finishedAt) : 'still running'], ['Duration', duration(run)]];
      if (run.error) rows.push(['Message', el('span', { class: run.status === 'failed' ? 'error' : '', text: run.error })]);
      if (run.approvedRunId) rows.push(['Approves', reportLink({ id: run.approvedRunId }, 'the held run')]);
      const dl = $('#overview');
      dl.removeAttribute('aria-busy');
      dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
      $('#counts tbody').replaceChildren(...actionLabels.map(([k, l]) => el('tr', {}, el('th', { scope: 'row', text: l }),
        el('td', { class: 'num', text: run.counts.users[k] }), el('td', { class: 'num', text: run.counts.groups[k] }))));
    };

    const renderEvents = () => {
      const q = $('#ev-search').value.trim().toLowerCase();
      shown = q ? events.filter((e) => [e.name, e.dn, e.reason, e.externalId].some((x) => (x || '').toLowerCase().includes(q))) : events;
      if (at >= shown.length) at = 0;
      const slice = shown.slice(at, at + pageSize);
      $('#events tbody').replaceChildren(...(slice.length ? slice.map((e) => el('tr', {},
        el('td', { text: e.action }), el('td', { text: e.objectType }), el('td', { text: e.name || '' }), el('td', { class: 'dn', text: e.dn || '' }),
        el('td', { text: e.reason || '' }), el('td', { text: (e.changed || []).join(', ') })))
        : [el('tr', {}, el('td', { colspan: 6, text: 'No events match.' }))]));
      $('#events-status').textContent = shown.length ? `Showing ${at + 1}-${at + slice.length} of ${shown.length} event(s)` + (q ? ` matching "${q}"` : '') + '.' : 'No events match.';
      $('#ev-page').textContent = shown.length ? `Page ${Math.floor(at / pageSize) + 1} of ${Math.ceil(shown.length / pageSize)}` : '';
      $('#ev-prev').disabled = at === 0;
      $('#ev-next').disabled = at + pageSize >= shown.length;
    };

    const loadEvents = async () => {
      const action = $('#ev-action').value;
      const q = action ? `&action=${action}` : '';
      $('#events-csv').href = `/console/api/runs/${encodeURIComponent(id)}/events?format=csv${q}`;
      $('#events-status').textContent = 'Loading events…';
      const all = [];
      for (let offset = 0, n = 0; n < 40; offset += 500, n++) {
        const res = await api('GET', `runs/${encodeURIComponent(id)}/events?limit=500&offset=${offset}${q}`);
        if (!res.ok) { $('#events-status').textContent = problemText(res); return; }
        all.push(...res.data.items);
        if (offset + 500 >= res.data.total) break;
      }
      events = all;
      at = 0;
      renderEvents();
    };

    const loadHeld = async (run) => {
      const box = $('#held');
      box.hidden = run.status !== 'held';
      if (box.hidden) return;
      const why = run.error || 'The run would delete more objects than the deletion threshold allows';
      $('#held-text').textContent = why + (why.endsWith('.') ? '' : '.') + ' Nothing was changed. Approve to carry out the deletions listed below, or reject the run.';
      const res = await api('GET', `runs/${encodeURIComponent(id)}/events?action=delete&limit=500`);
      const items = res.ok ? res.data.items : [];
      $('#held-table tbody').replaceChildren(...items.map((e) => el('tr', {}, el('td', { text: e.objectType }), el('td', { text: e.name || '' }),
        el('td', { class: 'dn', text: e.dn || '' }), el('td', { text: e.reason || '' }))));
    };

    const load = async () => {
      const res = await api('GET', 'runs/' + encodeURIComponent(id));
      if (!res.ok) { showError($('#report-error'), res); return; }
      const run = res.data;
      renderOverview(run);
      loadHeld(run);
      if (run.status === 'running') {
        follow(run);
        setTimeout(load, 1500);
        return;
      }
      loadEvents();
    };

    if ($('#approve')) {
      $('#approve').addEventListener('click', async () => {
        const res = await api('POST', `runs/${encodeURIComponent(id)}/approve`);
        if (res.status === 202) { location.href = '/console/runs/' + encodeURIComponent(res.data.id); return; }
        showError($('#held-error'), res);
      });
      $('#reject').addEventListener('click', async () => {
        const res = await api('POST', `runs/${encodeURIComponent(id)}/cancel`);
        if (!res.ok) { showError($('#held-error'), res); return; }
        load();
      });
    }
    $('#ev-action').addEventListener('change', loadEvents);
    let t = null;
    $('#ev-search').addEventListener('input', () => { clearTimeout(t); t = setTimeout(() => { at = 0; renderEvents(); }, 150); });
    $('#events-filter').addEventListener('submit', (ev) => ev.preventDefault());
    $('#ev-prev').addEventListener('click', () => { at = Math.max(0, at - pageSize); renderEvents(); });
    $('#ev-next').addEventListener('click', () => { at += pageSize; renderEvents(); });
    load();
  }

  // ---- Audit ----

  // who names an audit entry: its userName, else the CN of its DN, else its id.
  function who(e) {
    const m = /^CN=((?:\\.|[^,])+)/i.exec(e.dn || '');
    return e.userName || (m ? m[1].replace(/\\(.)/g, '$1') : '') || e.userId;
  }

  function auditPage() {
    const limit = 50;
    let offset = 0;
    const query = () => {
      const p = new URLSearchParams();
      if ($('#au-status').value) p.set('status', $('#au-status').value);
      if ($('#au-since').value) p.set('since', $('#au-since').value);
      if ($('#au-until').value) p.set('until', $('#au-until').value);
      return p;
    };
    const load = async () => {
      const form = $('#audit-form');
      clearFieldErrors(form);
      hideError($('#audit-error'));
      const p = query();
      const csv = new URLSearchParams(p);
      csv.set('format', 'csv');
      $('#audit-csv').href = '/console/api/audit/users?' + csv;
      p.set('offset', offset);
      p.set('limit', limit);
      $('#audit-status').textContent = 'Loading…';
      const res = await api('GET', 'audit/users?' + p);
      if (!res.ok) {
        $('#audit-status').textContent = '';
        const d = problemText(res);
        const f = /^since/.test(d) ? $('#au-since') : /^until/.test(d) ? $('#au-until') : null;
        if (f) fieldError(f, d); else showError($('#audit-error'), res);
        return;
      }
      const { items, total } = res.data;
      $('#audit-table tbody').replaceChildren(...(items.length ? items.map((e) => el('tr', {},
        el('td', { text: fmtTime(e.at) }), el('td', { text: e.status }),
        el('td', {}, el('button', { type: 'button', class: 'link', text: who(e), 'aria-label': `History of ${who(e)}`,
          onclick: () => { $('#hi-user').value = e.userId; history_(e.userId); } })),
        el('td', { class: 'dn', text: e.dn || '' }), el('td', { text: e.reason || '' }), el('td', {}, reportLink({ id: e.runId }, 'report'))))
        : [el('tr', {}, el('td', { colspan: 6, text: 'No user was deactivated or deleted in this period.' }))]));
      $('#audit-status').textContent = `${total} user change(s).`;
      $('#au-page').textContent = total ? `${offset + 1}-${offset + items.length} of ${total}` : '';
      $('#au-prev').disabled = offset === 0;
      $('#au-next').disabled = offset + limit >= total;
    };
    const history_ = async (userId) => {
      const box = $('#history');
      hideError($('#history-error'));
      box.replaceChildren(el('p', { text: 'Loading…' }));
      const res = await api('GET', 'audit/users/' + encodeURIComponent(userId));
      if (!res.ok) { box.replaceChildren(); showError($('#history-error'), res); return; }
      const u = res.data.user;
      const parts = [];
      if (u) {
        parts.push(el('dl', { class: 'grid' }, [['User', u.userName], ['Display name', u.displayName || ''], ['Status', u.status + (u.active ? ' (active)' : ' (inactive)')],
          ['DN', u.dn || ''], ['objectGUID', u.externalId || ''], ['Deleted', u.deletedAt ? `${fmtTime(u.deletedAt)}: ${u.deleteReason || ''}` : 'no'],
          ['Created', fmtTime(u.createdAt)], ['Updated', fmtTime(u.updatedAt)]].flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])));
      }
      parts.push(el('div', { class: 'table-wrap' }, el('table', {}, el('caption', { text: 'Changes, newest first' }),
        el('thead', {}, el('tr', {}, ['When', 'Action', 'Reason', 'Changed', 'Run'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, res.data.items.map((e) => el('tr', {}, el('td', { text: fmtTime(e.at) }), el('td', { text: e.action }),
          el('td', { text: e.reason || '' }), el('td', { text: (e.changed || []).join(', ') }), el('td', {}, reportLink({ id: e.runId }, 'report'))))))));
      box.replaceChildren(...parts);
    };
    $('#audit-form').addEventListener('submit', (ev) => { ev.preventDefault(); offset = 0; load(); });
    $('#au-prev').addEventListener('click', () => { offset = Math.max(0, offset - limit); load(); });
    $('#au-next').addEventListener('click', () => { offset += limit; load(); });
    $('#history-form').addEventListener('submit', (ev) => { ev.preventDefault(); history_($('#hi-user').value.trim()); });
    const params = new URLSearchParams(location.search);
    if (params.get('status')) $('#au-status').value = params.get('status');
    load();
    if (params.get('user')) { $('#hi-user').value = params.get('user'); history_(params.get('user')); }
  }

  const pages = { settings: settingsPage, wizard: wizardPage, runs: runsPage, report: reportPage, audit: auditPage };
  if (pages[page]) pages[page]();
  if (page !== 'login' && page !== 'notfound') watchRunning();
  void isAdmin;
})();
