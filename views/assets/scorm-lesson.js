/*
 * SCORM lesson page: when a SCORM 2004 part asks to go on (adl.nav.request continue, previous,
 * a choice of part, or exit), follow the matching link already on this page. Only messages from
 * the player frame on the content origin count, and only links the school wrote can be followed.
 */
(function () {
  'use strict';
  var frame = document.querySelector('iframe[data-origin]');
  if (!frame) return;
  var origin = frame.getAttribute('data-origin');
  window.addEventListener('message', function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow || !e.data || e.data.dars !== 'scorm-nav') return;
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
