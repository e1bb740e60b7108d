// FinCache dashboard: live charts, key browser, command console, Pub/Sub monitor.
// Plain JavaScript and canvas; no external resources, so the page works offline.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000;
  const SAMPLES = 90;
  let token = sessionStorage.getItem('fincache-token') || '';

  // ---- HTTP ---------------------------------------------------------------------------------

  function headers(json) {
    const h = {};
    if (json) h['content-type'] = 'application/json';
    if (token) h['authorization'] = 'Bearer ' + token;
    return h;
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    if (res.status === 401 || res.status === 403) needAuth();
    return { status: res.status, ok: res.ok, data };
  }

  function needAuth() {
    $('auth-form').hidden = false;
    setStatus('sign in needed', 'bad');
  }

  $('auth-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('auth-key').value;
    sessionStorage.setItem('fincache-token', token);
    $('auth-form').hidden = true;
    poll();
    connectWs();
  });

  function setStatus(text, cls) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status ' + (cls || '');
  }

  function errorText(r) {
    if (r.data && r.data.error) return r.data.error.message;
    return 'HTTP ' + r.status;
  }

  // ---- charts -------------------------------------------------------------------------------

  class Chart {
    constructor(canvas, color, format, fixedMax) {
      this.canvas = canvas;
      this.color = color;
      this.format = format;
      this.fixedMax = fixedMax;
      this.points = [];
    }

    push(v) {
      this.points.push(v);
      if (this.points.length > SAMPLES) this.points.shift();
      this.canvas.dataset.points = String(this.points.length);
      this.draw();
    }

    draw() {
      const c = this.canvas;
      const dpr = window.devicePixelRatio || 1;
      const w = c.clientWidth, h = c.clientHeight;
      if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
        c.width = Math.round(w * dpr);
        c.height = Math.round(h * dpr);
      }
      const g = c.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const pad = { l: 4, r: 4, t: 8, b: 14 };
      const max = this.fixedMax || Math.max(1e-9, ...this.points) * 1.15;
      const x = (i) => pad.l + (w - pad.l - pad.r) * (i / (SAMPLES - 1));
      const y = (v) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
      // Grid and scale.
      g.strokeStyle = '#1e2a44';
      g.lineWidth = 1;
      g.fillStyle = '#6b7a96';
      g.font = '10px system-ui, sans-serif';
      for (let i = 0; i <= 2; i++) {
        const gy = Math.round(pad.t + (h - pad.t - pad.b) * (i / 2)) + 0.5;
        g.beginPath(); g.moveTo(pad.l, gy); g.lineTo(w - pad.r, gy); g.stroke();
      }
      g.fillText(this.format(max), pad.l + 2, pad.t + 9);
      g.fillText(SAMPLES + ' s', w - pad.r - 28, h - 2);
      if (this.points.length === 0) return;
      const start = SAMPLES - this.points.length;
      g.beginPath();
      this.points.forEach((v, i) => {
        const px = x(start + i), py = y(v);
        if (i === 0) g.moveTo(px, py); else g.lineTo(px, py);
      });
      g.strokeStyle = this.color;
      g.lineWidth = 2;
      g.stroke();
      g.lineTo(x(SAMPLES - 1), y(0));
      g.lineTo(x(start), y(0));
      g.closePath();
      const grad = g.createLinearGradient(0, pad.t, 0, h);
      grad.addColorStop(0, this.color + '55');
      grad.addColorStop(1, this.color + '05');
      g.fillStyle = grad;
      g.fill();
    }
  }

  const human = (n) => {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
  };
  const count = (n) => (n >= 1000 ? (n / 1000).toFixed(1) + 'k' : String(Math.round(n)));
  const pct = (n) => (n * 100).toFixed(1) + '%';

  const charts = {
    ops: new Chart($('chart-ops'), '#2dd4bf', count),
    mem: new Chart($('chart-mem'), '#60a5fa', human),
    clients: new Chart($('chart-clients'), '#f59e0b', count),
    hits: new Chart($('chart-hits'), '#a78bfa', pct, 1),
  };
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.draw()));

  let dbsFilled = false;

  async function poll() {
    let r;
    try {
      r = await api('GET', '/api/v1/stats');
    } catch (_) {
      setStatus('disconnected', 'bad');
      return;
    }
    if (!r.ok) {
      if (r.status !== 401 && r.status !== 403) setStatus(errorText(r), 'bad');
      return;
    }
    const s = r.data;
    setStatus('connected', 'ok');
    charts.ops.push(s.ops_per_sec);
    charts.mem.push(s.used_memory);
    charts.clients.push(s.connected_clients);
    charts.hits.push(s.hit_ratio === null ? 0 : s.hit_ratio);
    $('val-ops').textContent = count(s.ops_per_sec);
    $('val-mem').textContent = human(s.used_memory);
    $('val-clients').textContent = String(s.connected_clients);
    $('val-hits').textContent = s.hit_ratio === null ? 'n/a' : pct(s.hit_ratio);
    const server = (s.info && s.info.server) || {};
    $('server-meta').textContent =
      'v' + (server.fincache_version || '?') + ' · Redis ' + (server.redis_version || '?') +
      ' · port ' + (server.tcp_port || '?') + ' · up ' + s.uptime_seconds + ' s · ' + s.keys + ' keys';
    if (!dbsFilled) {
      fillDbs(Number(s.databases) || 16);
      dbsFilled = true;
    }
  }

  function fillDbs(n) {
    const sel = $('kb-db');
    for (let i = 0; i < n; i++) {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = 'db' + i;
      sel.appendChild(o);
    }
  }

  // ---- key browser --------------------------------------------------------------------------

  let kbCursor = '0';

  const show = (v) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  const keyName = (k) => (typeof k === 'string' ? k : null);

  async function searchKeys(more) {
    if (!more) {
      kbCursor = '0';
      $('kb-list').innerHTML = '';
    }
    const params = new URLSearchParams({
      pattern: $('kb-pattern').value || '*',
      cursor: kbCursor,
      count: '200',
      db: $('kb-db').value || '0',
    });
    // SCAN may return empty pages: keep going until something shows or the scan ends.
    for (let pages = 0; pages < 50; pages++) {
      const r = await api('GET', '/api/v1/keys?' + params.toString());
      if (!r.ok) {
        $('kb-detail').innerHTML = '';
        $('kb-detail').appendChild(errorNode(errorText(r)));
        return;
      }
      for (const k of r.data.keys) {
        const name = keyName(k);
        const li = document.createElement('li');
        li.textContent = name === null ? JSON.stringify(k) : name;
        if (name !== null) li.addEventListener('click', () => openKey(name, li));
        $('kb-list').appendChild(li);
      }
      kbCursor = r.data.cursor;
      params.set('cursor', kbCursor);
      if (kbCursor === '0' || $('kb-list').children.length >= 200) break;
    }
    $('kb-more').hidden = kbCursor === '0';
    if ($('kb-list').children.length === 0) {
      $('kb-list').innerHTML = '<li class="muted">no keys match</li>';
    }
  }

  async function openKey(name, li) {
    document.querySelectorAll('#kb-list li.sel').forEach((e) => e.classList.remove('sel'));
    li.classList.add('sel');
    const r = await api('GET', '/api/v1/keys/' + encodeURIComponent(name) + '?db=' + ($('kb-db').value || '0'));
    const d = $('kb-detail');
    d.innerHTML = '';
    if (!r.ok) { d.appendChild(errorNode(errorText(r))); return; }
    const dl = document.createElement('dl');
    const row = (k, v) => {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      dl.append(dt, dd);
    };
    row('key', r.data.key);
    row('type', r.data.type);
    row('ttl', r.data.ttl === null ? 'none' : r.data.ttl + ' s');
    const pre = document.createElement('pre');
    pre.className = 'value';
    pre.textContent = show(r.data.value);
    d.append(dl, pre);
  }

  function errorNode(text) {
    const p = document.createElement('p');
    p.className = 'err';
    p.style.color = 'var(--err)';
    p.textContent = text;
    return p;
  }

  $('kb-form').addEventListener('submit', (e) => { e.preventDefault(); searchKeys(false); });
  $('kb-more').addEventListener('click', () => searchKeys(true));

  // ---- console ------------------------------------------------------------------------------

  const history = JSON.parse(localStorage.getItem('fincache-history') || '[]');
  let historyPos = history.length;

  // Splits a line as redis-cli does: spaces separate, quotes group, \ escapes in "…".
  function splitArgs(line) {
    const args = [];
    let i = 0;
    while (i < line.length) {
      while (i < line.length && /\s/.test(line[i])) i++;
      if (i >= line.length) break;
      let arg = '';
      if (line[i] === '"' || line[i] === "'") {
        const q = line[i++];
        while (i < line.length && line[i] !== q) {
          if (q === '"' && line[i] === '\\' && i + 1 < line.length) {
            const n = line[++i];
            arg += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
          } else {
            arg += line[i];
          }
          i++;
        }
        if (i >= line.length) throw new Error('unbalanced quotes');
        i++;
      } else {
        while (i < line.length && !/\s/.test(line[i])) arg += line[i++];
      }
      args.push(arg);
    }
    return args;
  }

  function print(cls, text) {
    const out = $('console-output');
    const div = document.createElement('div');
    div.className = cls;
    div.textContent = text;
    out.appendChild(div);
    out.scrollTop = out.scrollHeight;
  }

  async function run(line) {
    let args;
    try { args = splitArgs(line); } catch (e) { print('err', '(error) ' + e.message); return; }
    if (args.length === 0) return;
    history.push(line);
    while (history.length > 200) history.shift();
    localStorage.setItem('fincache-history', JSON.stringify(history));
    historyPos = history.length;
    print('cmd', '> ' + line);
    const r = await api('POST', '/api/v1/command', { args, db: Number($('kb-db').value || 0) });
    if (r.ok) print('res', JSON.stringify(r.data.result, null, 2));
    else print('err', '(error) ' + errorText(r));
  }

  $('console-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('console-input');
    const line = input.value;
    input.value = '';
    run(line);
  });

  $('console-input').addEventListener('keydown', (e) => {
    const input = e.target;
    if (e.key === 'ArrowUp' && historyPos > 0) {
      historyPos--;
      input.value = history[historyPos];
      e.preventDefault();
    } else if (e.key === 'ArrowDown') {
      historyPos = Math.min(history.length, historyPos + 1);
      input.value = history[historyPos] || '';
      e.preventDefault();
    }
  });

  // ---- Pub/Sub monitor ----------------------------------------------------------------------

  let ws = null;
  const subs = new Set();

  function wsState(text, ok) {
    const p = $('ps-state');
    p.textContent = text;
    p.className = 'pill' + (ok ? ' ok' : '');
  }

  function connectWs() {
    if (ws && ws.readyState <= 1) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = token ? '?token=' + encodeURIComponent(token) : '';
    ws = new WebSocket(proto + '//' + location.host + '/api/v1/ws' + q);
    wsState('connecting', false);
    ws.onopen = () => {
      wsState('open', true);
      // Re-subscribe after a reconnect.
      const channels = [...subs].filter((n) => !isPattern(n));
      const patterns = [...subs].filter(isPattern);
      if (channels.length) ws.send(JSON.stringify({ type: 'subscribe', channels }));
      if (patterns.length) ws.send(JSON.stringify({ type: 'psubscribe', patterns }));
    };
    ws.onclose = () => {
      wsState('closed', false);
      setTimeout(connectWs, 2000);
    };
    ws.onmessage = (e) => onWsMessage(JSON.parse(e.data));
  }

  const isPattern = (n) => /[*?[]/.test(n);

  function onWsMessage(m) {
    if (m.type === 'message' || m.type === 'pmessage' || m.type === 'smessage') {
      logMessage(m.channel, m.pattern || '', m.message);
    } else if (m.type === 'error') {
      logMessage('(error)', '', m.error.message);
    } else if (m.type === 'published') {
      $('ps-message').value = '';
    }
    renderSubs();
  }

  function text(v) {
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  function logMessage(channel, pattern, message) {
    const tr = document.createElement('tr');
    const time = new Date().toLocaleTimeString();
    for (const v of [time, text(channel), text(pattern), text(message)]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.appendChild(td);
    }
    const log = $('ps-log');
    log.insertBefore(tr, log.firstChild);
    while (log.children.length > 500) log.removeChild(log.lastChild);
  }

  function renderSubs() {
    const box = $('ps-subs');
    box.innerHTML = '';
    for (const n of subs) {
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = n;
      const x = document.createElement('button');
      x.type = 'button';
      x.textContent = '×';
      x.title = 'unsubscribe';
      x.addEventListener('click', () => {
        subs.delete(n);
        const msg = isPattern(n) ? { type: 'punsubscribe', patterns: [n] } : { type: 'unsubscribe', channels: [n] };
        if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg));
        renderSubs();
      });
      chip.appendChild(x);
      box.appendChild(chip);
    }
  }

  $('ps-sub-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const names = $('ps-names').value.split(/[\s,]+/).filter(Boolean);
    if (!names.length || !ws || ws.readyState !== 1) return;
    const channels = names.filter((n) => !isPattern(n));
    const patterns = names.filter(isPattern);
    if (channels.length) ws.send(JSON.stringify({ type: 'subscribe', channels }));
    if (patterns.length) ws.send(JSON.stringify({ type: 'psubscribe', patterns }));
    names.forEach((n) => subs.add(n));
    $('ps-names').value = '';
    renderSubs();
  });

  $('ps-pub-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const channel = $('ps-channel').value;
    if (!channel || !ws || ws.readyState !== 1) return;
    ws.send(JSON.stringify({ type: 'publish', channel, message: $('ps-message').value }));
  });

  $('ps-clear').addEventListener('click', () => { $('ps-log').innerHTML = ''; });

  // ---- start --------------------------------------------------------------------------------

  Object.values(charts).forEach((c) => c.draw());
  poll();
  setInterval(poll, POLL_MS);
  connectWs();
  searchKeys(false);
})();
