// custos pages: draw the charts and drive the review desk's keyboard. Nothing is fetched.
(function () {
  'use strict';
  if (window.vegaEmbed) {
    document.querySelectorAll('script[data-chart]').forEach(function (el) {
      var target = document.getElementById(el.getAttribute('data-chart'));
      window.vegaEmbed(target, JSON.parse(el.textContent), {renderer: 'svg', actions: false})
        .then(function () { target.setAttribute('data-drawn', 'true'); })
        .catch(function (err) { target.textContent = 'The chart could not be drawn: ' + err; });
    });
  }

  function typing(event) {
    var t = event.target;
    return t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
  }

  // The queue: j/k move, Enter opens.
  var queue = document.querySelector('table[data-keys="queue"]');
  if (queue) {
    var rows = Array.prototype.slice.call(queue.querySelectorAll('tbody tr'));
    var at = 0;
    var select = function (i) {
      if (!rows.length) { return; }
      rows[at].classList.remove('selected');
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows[at].classList.add('selected');
      rows[at].scrollIntoView({block: 'nearest'});
    };
    select(0);
    document.addEventListener('keydown', function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === 'j') { select(at + 1); event.preventDefault(); }
      else if (event.key === 'k') { select(at - 1); event.preventDefault(); }
      else if (event.key === 'Enter' && rows.length) { window.location = rows[at].getAttribute('data-href'); }
    });
  }

  // One item: 1-9 choose a candidate, r writes the rationale, d discloses, x declines, q back to the queue.
  var form = document.querySelector('form[data-keys="decide"]');
  if (form) {
    var rationale = form.querySelector('textarea[name="rationale"]');
    var submit = function (decision) {
      if (!rationale.value.trim()) { rationale.focus(); rationale.reportValidity(); return; }
      var chosen = form.querySelector('input[name="tin"]:checked');
      if (decision === 'disclose' && !chosen) { alert('Choose the candidate to disclose (1-9).'); return; }
      var button = form.querySelector('button[value="' + decision + '"]');
      if (button) { form.requestSubmit(button); }
    };
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && typing(event)) { event.target.blur(); return; }
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (/^[1-9]$/.test(event.key)) {
        var radio = form.querySelector('input[name="tin"][data-n="' + event.key + '"]');
        if (radio) { radio.checked = true; event.preventDefault(); }
      } else if (event.key === 'r') { rationale.focus(); event.preventDefault(); }
      else if (event.key === 'd') { submit('disclose'); event.preventDefault(); }
      else if (event.key === 'x') { submit('decline'); event.preventDefault(); }
      else if (event.key === 'q') { window.location = '/ui/review'; }
    });
  }
})();
