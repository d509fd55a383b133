/*
 * Dars SCORM player, on the content origin. Starts scorm-again (window.API for SCORM 1.2,
 * window.API_1484_11 for 2004) with the attempt's saved data, opens the SCO beside it, and carries
 * every commit to the school:
 *
 * - Each commit is a full snapshot numbered within its sitting (session, seq). It is kept on the
 *   phone first (see store), so the SCO is told "saved" as soon as the phone holds it, then sent.
 * - A commit that does not arrive is retried with growing pauses, and at once when the phone
 *   comes back online. Only the newest snapshot is kept: it contains everything older ones did.
 * - A snapshot still on the phone when the lesson opens again is sent before anything else, then
 *   the player reloads with the data the school now has; offline, it starts from the phone's copy.
 * - The school ignores a snapshot it already has or one older than what it has, so sending twice
 *   (a retry, the beacon of a closing page) is harmless.
 */
(function () {
  'use strict';
  var holder = document.getElementById('dars-launch');
  var cfg = JSON.parse(holder.getAttribute('data-launch'));
  var status = document.getElementById('dars-status');
  var frame = document.getElementById('sco');
  var KEY = 'dars-scorm:' + cfg.learner + ':' + cfg.item;
  var token = cfg.token;
  var seq = cfg.sessionSeq;
  var pending = null;
  var inflight = false;
  var failures = 0;
  var timer = null;
  var api = null;

  var framed = window.parent !== window;

  function valid(entry) {
    return entry && typeof entry.session === 'number' && typeof entry.seq === 'number' ? entry : null;
  }
  function loadHere() {
    try {
      return valid(JSON.parse(localStorage.getItem(KEY)));
    } catch (e) {
      // Browsers that refuse storage to a frame of another site (private windows, strict settings).
      return null;
    }
  }
  /**
   * Keeps the snapshot on the phone: in this origin's storage where the browser allows it, and in
   * the lesson page's (the school's own origin, never refused as a third party) through a message.
   */
  function store(entry) {
    try {
      if (entry) localStorage.setItem(KEY, JSON.stringify(entry));
      else localStorage.removeItem(KEY);
    } catch (e) {
      // Refused or full: the lesson page's copy and the one in memory remain.
    }
    if (framed) window.parent.postMessage({ dars: 'scorm-store', key: KEY, entry: entry || null }, cfg.appOrigin);
  }
  /** What an earlier sitting left on the phone: the newer of this origin's copy and the lesson page's. */
  function leftOver(done) {
    var here = loadHere();
    if (!framed) return done(here);
    var answered = false;
    var asking = null;
    function finish(entry) {
      if (answered) return;
      answered = true;
      clearInterval(asking);
      window.removeEventListener('message', onMessage);
      entry = valid(entry);
      done(entry && (!here || newer(entry, here)) ? entry : here);
    }
    function onMessage(e) {
      if (e.origin !== cfg.appOrigin || e.source !== window.parent || !e.data || e.data.dars !== 'scorm-left' || e.data.key !== KEY) return;
      finish(e.data.entry);
    }
    function ask() {
      window.parent.postMessage({ dars: 'scorm-left', key: KEY }, cfg.appOrigin);
    }
    window.addEventListener('message', onMessage);
    // Asked again until the lesson page's script answers; opened anywhere else, the player goes on.
    ask();
    asking = setInterval(ask, 250);
    setTimeout(function () {
      finish(null);
    }, 2000);
  }
  function newer(a, b) {
    return a.session > b.session || (a.session === b.session && a.seq > b.seq);
  }
  function show(text) {
    status.textContent = text || '';
    status.hidden = !text;
  }
  function body(entry) {
    var out = { token: token, session: entry.session, seq: entry.seq, final: entry.final, cmi: entry.cmi };
    if (entry.adl) out.adl = entry.adl;
    return JSON.stringify(out);
  }

  /** Sends one snapshot; resolves with 'ok', 'refused' (never worth sending again), 'later' (keep it) or 'retry'. */
  function send(entry) {
    var text = body(entry);
    // text/plain keeps this a "simple" cross-origin request: no preflight round trip on a slow network.
    return fetch(cfg.commitUrl, {
      method: 'POST',
      mode: 'cors',
      credentials: 'omit',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: text,
      keepalive: text.length < 60000,
    }).then(
      function (res) {
        return res.json().then(
          function (json) {
            if (res.ok && json && json.result === true) {
              if (typeof json.token === 'string') token = json.token;
              return 'ok';
            }
            if (res.status === 401 || res.status === 403) return 'later';
            return res.status >= 400 && res.status < 500 ? 'refused' : 'retry';
          },
          function () {
            return res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403 ? 'refused' : 'retry';
          }
        );
      },
      function () {
        return 'retry';
      }
    );
  }

  function flush() {
    clearTimeout(timer);
    if (inflight || !pending) return;
    var entry = pending;
    inflight = true;
    send(entry).then(function (outcome) {
      inflight = false;
      if (outcome === 'ok' || outcome === 'refused') {
        if (pending === entry) {
          pending = null;
          store(null);
        }
        failures = 0;
        show(outcome === 'refused' ? cfg.text.refused : '');
        if (pending) flush();
      } else if (outcome === 'later') {
        // The launch token ran out: the phone keeps the snapshot and the next launch sends it.
        show(cfg.text.expired);
      } else {
        failures += 1;
        show(cfg.text.offline);
        var pause = Math.min(60000, 1000 * Math.pow(2, failures - 1)) * (0.75 + Math.random() / 2);
        timer = setTimeout(flush, pause);
      }
    });
  }

  /** scorm-again's transport: keep the snapshot, answer "saved" at once, deliver it in the background. */
  var transport = {
    processHttpRequest: function (_url, params, immediate) {
      seq += 1;
      var entry = { session: cfg.session, seq: seq, final: !!immediate, cmi: params && params.cmi };
      var nav = api && api.adl && api.adl.nav && api.adl.nav.request;
      if (cfg.version === '2004' && nav && nav !== '_none_') entry.adl = { nav: { request: nav } };
      pending = entry;
      store(entry);
      if (immediate && navigator.sendBeacon) {
        // The page may be closing: a beacon still leaves. The snapshot stays stored until a reply confirms it.
        navigator.sendBeacon(cfg.commitUrl, new Blob([body(entry)], { type: 'text/plain;charset=UTF-8' }));
      }
      flush();
      return { result: true, errorCode: 0 };
    },
    updateSettings: function () {},
  };

  function flatten(node, prefix, out) {
    Object.keys(node || {}).forEach(function (key) {
      var value = node[key];
      var name = prefix + '.' + key;
      if (value && typeof value === 'object') flatten(value, name, out);
      else if (typeof value === 'string' && value !== '' && !/\.(exit|session_time|total_time|entry)$/.test(name)) out[name] = value;
    });
    return out;
  }

  function start(offlineCopy) {
    var data = {};
    var name;
    if (offlineCopy) {
      data = flatten(offlineCopy.cmi, 'cmi', {});
      // Offline, the phone's copy is newer than the school's: resume from it as the school would have
      // (after a suspend, or after a sitting that was cut off before it finished).
      var exit = offlineCopy.cmi && (offlineCopy.cmi.exit !== undefined ? offlineCopy.cmi.exit : offlineCopy.cmi.core && offlineCopy.cmi.core.exit);
      if (exit === 'suspend' || !offlineCopy.final) cfg.lms[cfg.version === '1.2' ? 'cmi.core.entry' : 'cmi.entry'] = 'resume';
      pending = offlineCopy;
    } else {
      for (name in cfg.data) data[name] = cfg.data[name];
    }
    for (name in cfg.lms) data[name] = cfg.lms[name];
    var settings = {
      lmsCommitUrl: cfg.commitUrl,
      dataCommitFormat: 'json',
      sendFullCommit: true,
      autocommit: true,
      autocommitSeconds: 30,
      logLevel: 5,
      httpService: transport,
    };
    api = cfg.version === '1.2' ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
    api.loadFromFlattenedJSON(data, '');
    if (cfg.version === '1.2') window.API = api;
    else window.API_1484_11 = api;
    api.on(cfg.version === '1.2' ? 'LMSFinish' : 'Terminate', function () {
      var nav = cfg.version === '2004' && api.adl && api.adl.nav && api.adl.nav.request;
      if (nav && nav !== '_none_' && window.parent !== window) {
        var m = /^\{target=([^}]+)\}(choice|jump)$/.exec(nav);
        window.parent.postMessage({ dars: 'scorm-nav', request: m ? 'choice' : nav, target: m ? m[1] : null }, cfg.appOrigin);
      }
    });
    if (pending) flush();
    frame.src = cfg.launchUrl;
  }

  window.addEventListener('online', flush);
  window.addEventListener('pagehide', function () {
    if (pending && navigator.sendBeacon) navigator.sendBeacon(cfg.commitUrl, new Blob([body(pending)], { type: 'text/plain;charset=UTF-8' }));
  });

  leftOver(function (left) {
    var server = { session: cfg.lastSession, seq: cfg.lastSeq };
    if (left && !newer(left, server)) {
      store(null);
      left = null;
    }
    if (!left) return start(null);
    if (left.session === cfg.session) seq = Math.max(seq, left.seq);
    send(left).then(function (outcome) {
      if (outcome === 'ok' || outcome === 'refused') {
        store(null);
        if (outcome === 'ok') return location.reload();
        return start(null);
      }
      show(cfg.text.offline);
      start(left);
    });
  });
})();
