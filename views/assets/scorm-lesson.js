/*
 * SCORM lesson page: keeps the player's undelivered learner data (see keep), and when a SCORM 2004
 * part asks to go on (adl.nav.request continue, previous, a choice of part, or exit), follows the
 * matching link already on this page. Only messages from the player frame on the content origin
 * count, and only links the school wrote can be followed.
 */
(function () {
  'use strict';
  var frame = document.querySelector('iframe[data-origin]');
  if (!frame) return;
  var origin = frame.getAttribute('data-origin');
  /*
   * The player's copy of learner data not yet delivered, kept in this page's storage: browsers may
   * refuse storage to the player's frame (another site), never to the school's own page. Only
   * keys of the player's form are touched, and a copy is only ever handed back to the player.
   */
  function keep(e, d) {
    var key = String(d.key);
    if (!/^dars-scorm:[0-9]{1,10}:[0-9]{1,10}$/.test(key)) return;
    var entry = null;
    try {
      if (d.dars === 'scorm-left') entry = JSON.parse(localStorage.getItem(key));
      else if (d.entry) localStorage.setItem(key, JSON.stringify(d.entry));
      else localStorage.removeItem(key);
    } catch (err) {
      entry = null;
    }
    if (d.dars === 'scorm-left') e.source.postMessage({ dars: 'scorm-left', key: key, entry: entry }, origin);
  }
  window.addEventListener('message', function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow || !e.data) return;
    var d = e.data;
    if (d.dars === 'scorm-store' || d.dars === 'scorm-left') return keep(e, d);
    if (d.dars !== 'scorm-nav') return;
    var request = String(e.data.request);
    var link = null;
    if (request === 'continue') link = document.querySelector('a[rel=next]');
    else if (request === 'previous') link = document.querySelector('a[rel=prev]');
    else if (request === 'choice' && typeof e.data.target === 'string') {
      var links = document.querySelectorAll('a[data-identifier]');
      for (var i = 0; i < links.length; i++) if (links[i].getAttribute('data-identifier') === e.data.target) link = links[i];
    } else if (/^(exit|exitAll|suspendAll|abandon|abandonAll)$/.test(request)) link = document.querySelector('a[data-course]');
    if (link) window.location.assign(link.href);
  });
})();
