// Offline reading on learners' pages (views/assets/sw.js does the work): registers the lesson
// worker, hands it the lessons a course page suggests keeping, asks it to send answers saved
// offline now and whenever the phone comes back online, and shows what it reports.
(function () {
  var sw = navigator.serviceWorker;
  if (!sw) return;
  sw.addEventListener('message', function (e) {
    var main = document.getElementById('main');
    if (!main || !e.data || !e.data.notice) return;
    // The newest word on offline work replaces the earlier one ("saved on this phone").
    [].forEach.call(main.querySelectorAll('.notice[data-offline]'), function (old) {
      old.remove();
    });
    var p = document.createElement('p');
    p.className = 'notice';
    p.setAttribute('role', 'status');
    p.setAttribute('data-offline', '');
    p.textContent = e.data.notice;
    main.insertBefore(p, main.firstChild);
  });
  // The worker is installed where offline reading starts, on a course page; other pages only talk
  // to it once it is there. A phone that never opens a course never downloads it.
  var course = /^\/courses\/\d+$/.test(location.pathname);
  (course ? sw.register('/sw.js') : sw.getRegistration()).then(function (reg) {
    if (!reg) return;
    var tell = function () {
      var worker = reg.active || reg.waiting || reg.installing;
      if (worker) worker.postMessage({ keep: toKeep(), lang: document.documentElement.lang, flush: true });
    };
    if (navigator.onLine) tell();
    addEventListener('online', tell);
  }, function () {
    // No worker (a plain-HTTP school, a private window): the pages work as they are.
  });

  // Links marked data-prefetch; on a course outline without marks, its next three lessons not yet
  // done (a done lesson carries the .ok tag).
  function toKeep() {
    var marked = document.querySelectorAll('a[data-prefetch]');
    var links = marked.length ? marked : course ? document.querySelectorAll('main li > a[href^="/lessons/"]') : [];
    var out = [];
    for (var i = 0; i < links.length && out.length < 3; i++) {
      if (marked.length || !links[i].parentNode.querySelector('.ok')) out.push(links[i].getAttribute('href'));
    }
    return out;
  }
})();
