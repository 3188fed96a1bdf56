// Progressive enhancement: the pages work without this file.
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrf ? csrf.getAttribute('content') : '';

  document.addEventListener('submit', function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  function postJson(url) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrfToken, Accept: 'application/json' } })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); });
  }

  function setupUpload(form) {
    var fileInput = form.querySelector('input[type=file]');
    var box = form.querySelector('.progress');
    var bar = form.querySelector('#upload-progress');
    var status = form.querySelector('#upload-status');
    var errorBox = form.querySelector('#upload-js-error');
    var button = form.querySelector('button[type=submit]');

    function fail(message, reasons) {
      box.hidden = true;
      bar.value = 0;
      errorBox.hidden = false;
      errorBox.textContent = '';
      var strong = document.createElement('strong');
      strong.textContent = message;
      errorBox.appendChild(strong);
      if (reasons && reasons.length) {
        var ul = document.createElement('ul');
        reasons.forEach(function (r) { var li = document.createElement('li'); li.textContent = r; ul.appendChild(li); });
        errorBox.appendChild(ul);
      }
      button.disabled = false;
      status.textContent = '';
    }

    form.addEventListener('submit', function (e) {
      var file = fileInput.files && fileInput.files[0];
      if (!file) return;
      e.preventDefault();
      errorBox.hidden = true;
      button.disabled = true;
      box.hidden = false;
      bar.value = 0;
      status.textContent = 'Preparing…';
      postJson(form.getAttribute('data-presign')).then(function (res) {
        if (res.status !== 201) throw new Error((res.body.error && res.body.error.message) || 'Could not start the upload.');
        var post = res.body;
        if (file.size > post.maxBytes) throw new Error('The file is larger than the ' + Math.round(post.maxBytes / 1048576) + ' MB limit.');
        var data = new FormData();
        Object.keys(post.fields).forEach(function (k) { data.append(k, post.fields[k]); });
        data.append('file', file);
        return new Promise(function (resolve, reject) {
          var xhr = new XMLHttpRequest();
          xhr.open('POST', post.url);
          xhr.upload.onprogress = function (ev) {
            if (!ev.lengthComputable) return;
            var pct = Math.round((ev.loaded / ev.total) * 100);
            bar.value = pct;
            status.textContent = 'Uploading… ' + pct + '% (' + (ev.loaded / 1048576).toFixed(1) + ' of ' + (ev.total / 1048576).toFixed(1) + ' MB)';
          };
          xhr.onload = function () { xhr.status >= 200 && xhr.status < 300 ? resolve(post) : reject(new Error('Storage refused the upload (HTTP ' + xhr.status + ').')); };
          xhr.onerror = function () { reject(new Error('The upload failed; check your connection and try again.')); };
          xhr.send(data);
        });
      }).then(function (post) {
        bar.value = 100;
        status.textContent = 'Checking the zip…';
        return postJson('/products/' + form.getAttribute('data-product') + '/uploads/' + post.uploadId + '/finalize');
      }).then(function (res) {
        if (res.status === 201) {
          status.textContent = 'Released ' + res.body.version + '.';
          window.location.assign(res.body.redirect);
          return;
        }
        var err = res.body.error || {};
        fail(err.reasons && err.reasons.length ? 'The upload was refused.' : err.message || 'The upload was refused.', err.reasons);
      }).catch(function (err) { fail(err.message); });
    });
  }

  var form = document.getElementById('upload-form');
  if (form && window.FormData && window.fetch) setupUpload(form);
})();
