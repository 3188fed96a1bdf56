// Analytics charts (progressive enhancement): each chart is drawn from the numbers table the page already shows,
// so the chart and the table can never disagree, and the page reads the same without JavaScript.
(function () {
  'use strict';
  if (!window.Chart) return;
  var COLORS = ['#2271b1', '#00a32a', '#d63638', '#dba617', '#8c5fc7', '#00a0d2', '#e26f56', '#646970', '#3858e9', '#9ec2e6'];

  function readTable(table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var labels = rows.map(function (tr) { return tr.cells[0].textContent.trim(); });
    var series = [];
    heads.forEach(function (th, i) {
      if (!th.hasAttribute('data-series')) return;
      series.push({ label: th.textContent.trim(), data: rows.map(function (tr) { return Number(tr.cells[i].textContent.trim()) || 0; }) });
    });
    return { labels: labels, series: series };
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute('data-chart-for'));
    if (!table) return;
    var kind = table.getAttribute('data-chart');
    var d = readTable(table);
    var stacked = kind === 'stacked';
    var datasets = d.series.map(function (s, i) {
      var c = COLORS[i % COLORS.length];
      return { label: s.label, data: s.data, borderColor: c, backgroundColor: stacked ? c + '99' : c, fill: stacked, pointRadius: 0, borderWidth: kind === 'bar' ? 0 : 2, tension: 0.2 };
    });
    var wrap = canvas.parentNode;
    wrap.hidden = false;
    new window.Chart(canvas, {
      type: kind === 'bar' ? 'bar' : 'line',
      data: { labels: d.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { display: datasets.length > 1 } },
        scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
    canvas.setAttribute('data-drawn', 'true');
  }

  document.querySelectorAll('canvas[data-chart-for]').forEach(draw);
})();
