/*
 * A small SCORM 1.2 SCO for the demo school: five questions on the Greek numbers 1 to 5. It finds
 * the LMS's API in a parent window, keeps its place (lesson_location, suspend_data) so a learner
 * resumes where they stopped, records every answer as an interaction, and reports a score.
 */
(function () {
  'use strict';
  var QUESTIONS = [
    { id: 'ena', word: 'ένα', say: 'éna', right: '1', options: ['1', '3', '5'] },
    { id: 'dyo', word: 'δύο', say: 'dío', right: '2', options: ['4', '2', '1'] },
    { id: 'tria', word: 'τρία', say: 'tría', right: '3', options: ['3', '5', '2'] },
    { id: 'tessera', word: 'τέσσερα', say: 'tésera', right: '4', options: ['1', '4', '3'] },
    { id: 'pente', word: 'πέντε', say: 'pénde', right: '5', options: ['5', '2', '4'] },
  ];
  var box = document.getElementById('quiz');

  function findApi(win) {
    for (var i = 0; win && i < 10; i++) {
      if (win.API) return win.API;
      if (win.parent === win) break;
      win = win.parent;
    }
    return null;
  }
  var api = findApi(window);
  var at = 0;
  var answers = [];
  var started = Date.now();
  var finished = false;

  function get(name) {
    return api ? String(api.LMSGetValue(name)) : '';
  }
  function set(name, value) {
    if (api) api.LMSSetValue(name, String(value));
  }
  function right() {
    return answers.filter(function (a) { return a === 1; }).length;
  }
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function render() {
    box.textContent = '';
    if (at >= QUESTIONS.length) {
      box.appendChild(el('h1', 'Well done!'));
      box.appendChild(el('p', 'You got ' + right() + ' of ' + QUESTIONS.length + ' right.'));
      var again = el('button', 'Practise again', 'next');
      again.onclick = function () {
        at = 0;
        answers = [];
        render();
      };
      box.appendChild(again);
      return;
    }
    var q = QUESTIONS[at];
    box.appendChild(el('p', 'Question ' + (at + 1) + ' of ' + QUESTIONS.length, 'muted'));
    box.appendChild(el('h1', 'Which number is this?'));
    box.appendChild(el('p', q.word, 'greek'));
    box.appendChild(el('p', 'Say it: ' + q.say, 'muted'));
    var options = el('div', '', 'options');
    q.options.forEach(function (o) {
      var b = el('button', o);
      b.onclick = function () { answer(q, o); };
      options.appendChild(b);
    });
    box.appendChild(options);
  }

  function answer(q, chosen) {
    var ok = chosen === q.right;
    var n = answers.length;
    var p = 'cmi.interactions.' + n + '.';
    set(p + 'id', q.id);
    set(p + 'type', 'choice');
    set(p + 'student_response', chosen);
    set(p + 'correct_responses.0.pattern', q.right);
    set(p + 'result', ok ? 'correct' : 'wrong');
    answers.push(ok ? 1 : 0);
    at += 1;
    set('cmi.core.lesson_location', at);
    set('cmi.suspend_data', answers.join(''));
    if (at >= QUESTIONS.length) {
      var score = Math.round((100 * right()) / QUESTIONS.length);
      set('cmi.core.score.min', 0);
      set('cmi.core.score.max', 100);
      set('cmi.core.score.raw', score);
      set('cmi.core.lesson_status', 'completed');
    } else {
      set('cmi.core.lesson_status', 'incomplete');
    }
    if (api) api.LMSCommit('');
    box.textContent = '';
    box.appendChild(el('p', ok ? 'Right: ' + q.word + ' is ' + q.right + '.' : 'Not quite: ' + q.word + ' is ' + q.right + '.', ok ? 'right' : 'wrong'));
    var next = el('button', at >= QUESTIONS.length ? 'See my score' : 'Next question', 'next');
    next.onclick = render;
    box.appendChild(next);
  }

  function timespan(ms) {
    var s = Math.round(ms / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    s %= 60;
    return ('000' + h).slice(-4) + ':' + ('0' + m).slice(-2) + ':' + ('0' + s).slice(-2);
  }
  function leave() {
    if (finished || !api) return;
    finished = true;
    set('cmi.core.exit', at >= QUESTIONS.length ? '' : 'suspend');
    set('cmi.core.session_time', timespan(Date.now() - started));
    api.LMSFinish('');
  }

  if (!api) {
    box.textContent = 'Open this practice from your lesson in Dars.';
    return;
  }
  api.LMSInitialize('');
  if (get('cmi.core.entry') === 'resume') {
    at = Math.min(Number(get('cmi.core.lesson_location')) || 0, QUESTIONS.length);
    answers = get('cmi.suspend_data').split('').filter(function (c) { return c === '0' || c === '1'; }).map(Number).slice(0, at);
    at = answers.length;
  }
  window.addEventListener('pagehide', leave);
  render();
})();
