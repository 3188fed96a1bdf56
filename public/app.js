// Error reports: this page's own JavaScript errors go to the server's log (POST /api/v1/client-errors, no cookie
// needed), tagged with the fingerprinted file they came from, so an error is tied to a build. First, so it sees the rest.
(function () {
  'use strict';
  if (!navigator.sendBeacon || !window.JSON) return;
  var self = document.currentScript ? document.currentScript.src : '';
  var sent = 0;
  function report(message, source, line, column, error) {
    if (sent >= 5) return; // a page in an error loop says so a few times, not forever
    sent++;
    var stack = error && error.stack ? String(error.stack) : '';
    var assetSource = source && source.indexOf('/assets/') >= 0 ? source : (stack.match(/https?:\/\/[^\s)]*\/assets\/[^\s):]+/) || [self])[0];
    var body = JSON.stringify({
      message: String(message || (error && error.message) || 'Unknown error').slice(0, 1000),
      source: source ? String(source).slice(0, 500) : null,
      line: typeof line === 'number' ? line : null,
      column: typeof column === 'number' ? column : null,
      stack: stack.slice(0, 4000) || null,
      page: location.pathname,
      asset: assetSource || null
    });
    try { navigator.sendBeacon('/api/v1/client-errors', new Blob([body], { type: 'text/plain' })); } catch (e) { /* nothing more to do */ }
  }
  window.addEventListener('error', function (e) {
    if (e.target && e.target !== window) return; // a failed <img>/<script> load, not a script error
    report(e.message, e.filename, e.lineno, e.colno, e.error);
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    report('Unhandled rejection: ' + (r && r.message ? r.message : String(r)), null, null, null, r instanceof Error ? r : null);
  });
})();

// Progressive enhancement: the pages work without this file.
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrf ? csrf.getAttribute('content') : '';

  document.addEventListener('submit', function (e) {
    // The button that submitted may carry its own question (bulk actions); else the form's.
    var msg = (e.submitter && e.submitter.getAttribute('data-confirm')) || (e.target.getAttribute && e.target.getAttribute('data-confirm'));
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // A form that came back with errors: focus its summary, so keyboard and screen-reader users land on it.
  var summary = document.getElementById('error-summary');
  if (summary) summary.focus();

  // Copy buttons: data-copy names the element whose text is copied.
  document.addEventListener('click', function (e) {
    var button = e.target.closest && e.target.closest('[data-copy]');
    if (!button) return;
    var source = document.querySelector(button.getAttribute('data-copy'));
    if (!source) return;
    // A list is copied one item per line (a batch of codes pastes straight into a spreadsheet).
    var text = source.matches('ol, ul')
      ? Array.prototype.map.call(source.querySelectorAll('li'), function (li) { return li.textContent.trim(); }).join('\n')
      : (source.value !== undefined ? source.value : source.textContent).trim();
    var label = button.getAttribute('data-label') || button.textContent;
    button.setAttribute('data-label', label);
    var done = function (ok) {
      button.textContent = ok ? 'Copied' : 'Select and copy';
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      done(document.execCommand && document.execCommand('copy'));
    }
  });

  // Bulk selection on the codes list: "select all" toggles every row's box.
  document.addEventListener('change', function (e) {
    var all = e.target.closest && e.target.closest('[data-select-all]');
    if (!all) return;
    document.querySelectorAll(all.getAttribute('data-select-all')).forEach(function (box) { box.checked = all.checked; });
  });

  // The slug follows the name until the vendor edits it themselves.
  var slugInput = document.querySelector('[data-slug-from]');
  var nameInput = slugInput && document.querySelector(slugInput.getAttribute('data-slug-from'));
  if (slugInput && nameInput) {
    var touched = slugInput.value !== '';
    slugInput.addEventListener('input', function () { touched = slugInput.value !== ''; });
    nameInput.addEventListener('input', function () {
      if (touched) return;
      slugInput.value = nameInput.value.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
        .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100);
    });
  }

  // Banner and icon uploads (edit page): presign, POST the image straight to S3, then attach it.
  document.querySelectorAll('input[data-media-kind]').forEach(function (input) {
    var box = input.closest('.js-only');
    if (!box || !window.FormData || !window.fetch) return;
    box.hidden = false;
    var status = box.querySelector('.media-status');
    var base = '/products/' + input.getAttribute('data-product') + '/media/' + input.getAttribute('data-media-kind');
    var send = function (url, body) {
      return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrfToken, Accept: 'application/json', 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
        .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error((b.error && b.error.message) || 'Upload failed.'); return b; }); });
    };
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      if (!file) return;
      status.textContent = 'Uploading…';
      send(base + '/presign', { contentType: file.type }).then(function (post) {
        if (file.size > post.maxBytes) throw new Error('The image is larger than ' + Math.round(post.maxBytes / 1048576) + ' MB.');
        var data = new FormData();
        Object.keys(post.fields).forEach(function (k) { data.append(k, post.fields[k]); });
        data.append('file', file);
        return fetch(post.url, { method: 'POST', body: data }).then(function (r) {
          if (!r.ok) throw new Error('Storage refused the image (HTTP ' + r.status + ').');
          return send(base, { key: post.key });
        });
      }).then(function (res) {
        document.querySelector(input.getAttribute('data-media-target')).value = res.url;
        status.textContent = 'Uploaded and saved.';
      }).catch(function (err) { status.textContent = err.message; });
    });
  });

  function postJson(url) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrfToken, Accept: 'application/json' } })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); });
  }

  function getJson(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); });
  }

  function setupUpload(form) {
    var fileInput = form.querySelector('input[type=file]');
    var box = form.querySelector('.progress');
    var bar = form.querySelector('#upload-progress');
    var status = form.querySelector('#upload-status');
    var errorBox = form.querySelector('#upload-js-error');
    var button = form.querySelector('button[type=submit]');
    var jsOnly = form.querySelector('.js-only');
    // Step two of the no-JavaScript flow carries its upload slot in the form itself.
    var embedded = form.getAttribute('data-upload-id');
    var slot = null;

    if (jsOnly) jsOnly.hidden = false;
    if (button.getAttribute('data-js-label')) button.textContent = button.getAttribute('data-js-label');

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

    /** An upload slot (one row on the server), asked for when a file is picked and renewed near its expiry. */
    function presign() {
      if (embedded) {
        var fields = {};
        form.querySelectorAll('input[type=hidden]').forEach(function (i) { fields[i.name] = i.value; });
        return Promise.resolve({ uploadId: embedded, url: form.getAttribute('action'), fields: fields, maxBytes: Infinity });
      }
      if (slot && (!slot.body || Date.now() < Date.parse(slot.body.expiresAt) - 60000)) return slot.promise;
      var current = { body: null };
      current.promise = postJson(form.getAttribute('data-presign')).then(function (res) {
        if (res.status !== 201) throw new Error((res.body.error && res.body.error.message) || 'Could not start the upload.');
        current.body = res.body;
        return res.body;
      });
      current.promise.catch(function () { if (slot === current) slot = null; });
      slot = current;
      return current.promise;
    }

    if (!embedded) {
      fileInput.addEventListener('change', function () {
        if (fileInput.files && fileInput.files[0]) presign().catch(function () { /* reported on submit */ });
      });
    }

    /** Follows the verification pass until the version is ready (then the product page) or refused. */
    function follow(v, statusUrl, redirect) {
      if (v.status === 'ready') {
        bar.value = 100;
        status.textContent = 'Released ' + v.version + '.';
        window.location.assign(redirect);
        return;
      }
      if (v.status === 'refused') {
        fail('The upload was refused.', v.reasons);
        return;
      }
      status.textContent = 'Verifying the zip… ' + Math.floor(v.progress * 100) + '%';
      setTimeout(function () {
        getJson(statusUrl).then(function (res) {
          if (res.status !== 200) throw new Error('status ' + res.status);
          follow(res.body, statusUrl, redirect);
        }).catch(function () { fail('Lost contact while the zip was being verified; the product page shows how it ended.'); });
      }, 500);
    }

    form.addEventListener('submit', function (e) {
      var file = fileInput.files && fileInput.files[0];
      e.preventDefault();
      if (!file) {
        fail('Choose the release zip first.');
        return;
      }
      errorBox.hidden = true;
      button.disabled = true;
      box.hidden = false;
      bar.value = 0;
      status.textContent = 'Preparing…';
      presign().then(function (post) {
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
        slot = null; // a slot takes one upload
        bar.value = 100;
        status.textContent = 'Checking the zip…';
        return postJson('/products/' + form.getAttribute('data-product') + '/uploads/' + post.uploadId + '/finalize');
      }).then(function (res) {
        if (res.status === 201) {
          follow(res.body, res.body.statusUrl, res.body.redirect);
          return;
        }
        var err = res.body.error || {};
        fail(err.reasons && err.reasons.length ? 'The upload was refused.' : err.message || 'The upload was refused.', err.reasons);
      }).catch(function (err) { fail(err.message); });
    });
  }

  var form = document.getElementById('upload-form');
  if (form && window.FormData && window.fetch) setupUpload(form);

  // Copy buttons (the full SHA-256 on the product page); without JavaScript the text stays selectable.
  document.querySelectorAll('button.copy[data-copy]').forEach(function (button) {
    var target = document.querySelector(button.getAttribute('data-copy'));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.setAttribute('aria-label', 'Copy SHA-256');
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = 'Copied';
        setTimeout(function () { button.textContent = 'Copy'; }, 1500);
      }, function () { button.textContent = 'Select and copy'; });
    });
  });
})();
