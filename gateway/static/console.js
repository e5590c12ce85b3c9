// The console's live parts: the queue refreshes itself every few seconds (a request taken in
// through the API shows up without a reload), and a claim from the queue updates its row in
// place. Without this script every form still works as a plain POST.
(function () {
  'use strict';
  var live = document.getElementById('live');
  var POLL_MS = 5000;

  function csrfOf(form) {
    var field = form.querySelector('input[name=csrf_token]');
    return field ? field.value : '';
  }

  function refresh() {
    if (!live) return Promise.resolve();
    return fetch(live.dataset.rowsUrl, {credentials: 'same-origin', headers: {'Accept': 'text/html'}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null || html === live.dataset.last) return;
        // keep the keyboard focus where it was if that control is still there
        var focused = document.activeElement && live.contains(document.activeElement)
          ? document.activeElement.closest('[id],[data-request-id]') : null;
        var key = focused ? (focused.id || focused.dataset.requestId) : null;
        live.innerHTML = html;
        live.dataset.last = html;
        bindRowForms();
        if (key) {
          var again = document.getElementById(key) || live.querySelector('[data-request-id="' + key + '"]');
          var target = again && again.querySelector('button, a');
          if (target) target.focus();
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function bindRowForms() {
    if (!live) return;
    live.querySelectorAll('form.js-inplace').forEach(function (form) {
      if (form.dataset.bound) return;
      form.dataset.bound = '1';
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        var error = form.querySelector('.js-error');
        var button = form.querySelector('button');
        button.disabled = true;
        fetch(form.action, {method: 'POST', credentials: 'same-origin', body: new FormData(form),
                            headers: {'Accept': 'application/json', 'X-CSRF-Token': csrfOf(form)}})
          .then(function (r) { return r.json(); })
          .then(function (reply) {
            if (reply.error) {
              if (error) error.textContent = reply.error.message;
              button.disabled = false;
              return;
            }
            live.dataset.last = '';
            return refresh();
          })
          .catch(function () {
            if (error) error.textContent = '网络连接有问题，请重试。';
            button.disabled = false;
          });
      });
    });
  }

  if (live) {
    bindRowForms();
    setInterval(function () { if (!document.hidden) refresh(); }, POLL_MS);
  }
})();
